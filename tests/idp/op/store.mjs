// Storage for oidc-provider: unbounded and inspectable.
//
// oidc-provider's bundled memory adapter is an LRU capped at 1000 entries shared by every model,
// so a long test session could silently lose refresh tokens. This adapter only forgets entries
// that expired a while ago, and lets the test routes find a user's refresh tokens.
import { nowSeconds } from './directory.mjs';

const entries = new Map(); // "<Model>:<id>" -> { model, payload, expiresAt (ms) }
const SWEEP_EVERY = 500; // writes
const KEEP_EXPIRED_MS = 5 * 60 * 1000;
let writesSinceSweep = 0;

function sweepExpired() {
  const horizon = Date.now() - KEEP_EXPIRED_MS;
  for (const [key, entry] of entries) if (entry.expiresAt < horizon) entries.delete(key);
}

export class TestAdapter {
  constructor(model) { this.model = model; }

  key(id) { return `${this.model}:${id}`; }

  async upsert(id, payload, expiresIn) {
    const expiresAt = typeof expiresIn === 'number' ? Date.now() + expiresIn * 1000 : Infinity;
    entries.set(this.key(id), { model: this.model, payload, expiresAt });
    writesSinceSweep += 1;
    if (writesSinceSweep >= SWEEP_EVERY) { writesSinceSweep = 0; sweepExpired(); }
  }

  async find(id) { return entries.get(this.key(id))?.payload; }

  async findByUserCode(userCode) { return payloadsOf(this.model, (p) => p.userCode === userCode)[0]; }

  async findByUid(uid) { return payloadsOf(this.model, (p) => p.uid === uid)[0]; }

  async consume(id) {
    const entry = entries.get(this.key(id));
    if (entry) entry.payload.consumed = nowSeconds();
  }

  async destroy(id) { entries.delete(this.key(id)); }

  async revokeByGrantId(grantId) {
    for (const [key, entry] of entries) {
      if (entry.model === this.model && entry.payload.grantId === grantId) entries.delete(key);
    }
  }
}

// Stored payloads of one model (e.g. 'RefreshToken') that satisfy predicate.
export function payloadsOf(model, predicate) {
  const found = [];
  for (const entry of entries.values()) {
    if (entry.model === model && predicate(entry.payload)) found.push(entry.payload);
  }
  return found;
}
