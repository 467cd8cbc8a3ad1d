// Test-only routes under <issuer>/__test__/ (parameters in the query string; JSON answers).
//
//   GET  /stats                      {"<grant_type>:<ok|error>": count} over the token log
//   GET  /log                        the request log (see request_hooks.mjs)
//   POST /reset                      clear the log and any scripted slow_down answers
//   POST /device/approve?user_code=&user=alice   sign a user in for a pending device code
//   POST /device/deny?user_code=                 make its next poll answer access_denied
//   POST /device/slow_down?user_code=&count=1    make its next N polls answer slow_down
//   POST /refresh_tokens/revoke?user= | grant_id= | refresh_token=   {"revoked": n live tokens}
import { normalizeUserCode } from './device_polling.mjs';
import { approvedDeviceFields } from './grants.mjs';
import { isUser, nowSeconds } from './directory.mjs';
import { payloadsOf } from './store.mjs';

function stats(requestLog) {
  const counts = {};
  for (const entry of requestLog) {
    if (entry.endpoint !== 'token') continue;
    const key = `${entry.grant_type}:${entry.outcome}`;
    counts[key] = (counts[key] ?? 0) + 1;
  }
  return counts;
}

async function decideDevice(provider, resources, userCode, accountId) {
  const code = await provider.DeviceCode.findByUserCode(normalizeUserCode(userCode), { ignoreExpiration: true });
  if (!code) return [404, { error: 'unknown user_code' }];
  if (code.accountId || code.error || code.consumed) return [409, { error: 'user_code already decided' }];
  if (accountId === undefined) {
    Object.assign(code, { error: 'access_denied', errorDescription: 'End-User denied the request' });
  } else if (isUser(accountId)) {
    Object.assign(code, await approvedDeviceFields(provider, resources, code, accountId));
  } else {
    return [400, { error: 'unknown user' }];
  }
  await code.save();
  return [200, { ok: true }];
}

async function grantIdsToRevoke(provider, { user, grant_id: grantId, refresh_token: refreshToken }) {
  if (user) return new Set(payloadsOf('RefreshToken', (p) => p.accountId === user).map((p) => p.grantId));
  if (grantId) return new Set([grantId]);
  if (refreshToken) {
    const token = await provider.RefreshToken.find(refreshToken, { ignoreExpiration: true });
    return token ? new Set([token.grantId]) : undefined;
  }
  return undefined;
}

async function revokeRefreshTokens(provider, query) {
  const grantIds = await grantIdsToRevoke(provider, query);
  if (!grantIds) return [404, { error: 'give a known user, grant_id or refresh_token' }];
  const live = payloadsOf('RefreshToken', (p) => grantIds.has(p.grantId) && !p.consumed && p.exp > nowSeconds());
  for (const id of grantIds) await provider.RefreshToken.revokeByGrantId(id);
  return [200, { revoked: live.length }];
}

export function installTestRoutes(provider, { requestLog, polling, resources }) {
  const routes = {
    'GET /stats': () => [200, stats(requestLog)],
    'GET /log': () => [200, requestLog],
    'POST /reset': () => {
      requestLog.length = 0;
      polling.forgetScriptedSlowDowns();
      return [200, {}];
    },
    'POST /device/approve': (q) => decideDevice(provider, resources, q.user_code, q.user || 'alice'),
    'POST /device/deny': (q) => decideDevice(provider, resources, q.user_code, undefined),
    'POST /device/slow_down': (q) => {
      const device = polling.byUserCode(q.user_code);
      if (!device) return [404, { error: 'unknown user_code' }];
      device.forcedSlowDowns += Number(q.count ?? 1);
      return [200, { pending_slow_downs: device.forcedSlowDowns }];
    },
    'POST /refresh_tokens/revoke': (q) => revokeRefreshTokens(provider, q),
  };
  provider.use(async (ctx, next) => {
    if (!ctx.path.startsWith('/__test__/')) return next();
    const route = routes[`${ctx.method} ${ctx.path.slice('/__test__'.length)}`];
    const [status, body] = route ? await route(ctx.query) : [404, { error: 'no such test route' }];
    ctx.status = status;
    ctx.body = body;
    return undefined;
  });
}
