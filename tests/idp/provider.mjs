// nbauth's local OpenID provider for tests and the demo (oidc-provider 9.x; ESM only).
//
//   node provider.mjs    -> listens on 127.0.0.1:<OP_PORT or ephemeral>, prints "READY <issuer>"
//
// Started and configured by tests/idp/server.py (LocalIdP); every knob is an environment variable:
//   OP_PORT                 listen port (default 0 = ephemeral)
//   OP_MOUNT                path prefix of the issuer (default /oidc; MSAL wants a path segment)
//   OP_TLS_CERT, OP_TLS_KEY PEM files; when both are set the provider serves https
//   OP_AT_TTL, OP_RT_TTL, OP_ID_TTL, OP_DC_TTL   token lifetimes in seconds
//   OP_AT_FORMAT            jwt (default: JWT access tokens for the test API) | opaque (for /me)
//   OP_DC_INTERVAL          device-code polling interval announced to clients (default 5)
//   OP_DC_ENFORCE_INTERVAL  1 = answer slow_down to polls that come sooner than the interval
//   OP_CLIENT_JWKS          public JWKS (JSON) of the private_key_jwt client nbauth-pkjwt
//   OP_EXIT_ON_STDIN_EOF    1 = exit when stdin closes (the parent died), as LocalIdP sets it
//
// Besides the standard endpoints it serves test-only routes under <issuer>/__test__/ (see
// testRoutes below). It binds 127.0.0.1 only and keeps all state in memory.
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as https from 'node:https';
import * as crypto from 'node:crypto';
import Provider, { errors } from 'oidc-provider';
import { createLocalJWKSet, jwtVerify } from 'jose';

// ---- configuration from the environment -------------------------------------------------
const env = (name, fallback) => process.env[name] ?? fallback;
const CONFIG = {
  port: Number(env('OP_PORT', 0)),
  mount: env('OP_MOUNT', '/oidc').replace(/\/+$/, ''),
  tlsCert: env('OP_TLS_CERT'),
  tlsKey: env('OP_TLS_KEY'),
  accessTokenTTL: Number(env('OP_AT_TTL', 300)),
  refreshTokenTTL: Number(env('OP_RT_TTL', 3600)),
  idTokenTTL: Number(env('OP_ID_TTL', 300)),
  deviceCodeTTL: Number(env('OP_DC_TTL', 600)),
  accessTokenFormat: env('OP_AT_FORMAT', 'jwt'),
  deviceInterval: Number(env('OP_DC_INTERVAL', 5)),
  enforceDeviceInterval: env('OP_DC_ENFORCE_INTERVAL', '0') === '1',
  clientJwks: process.env.OP_CLIENT_JWKS ? JSON.parse(process.env.OP_CLIENT_JWKS) : undefined,
  exitOnStdinEof: env('OP_EXIT_ON_STDIN_EOF', '0') === '1',
};
if (!['jwt', 'opaque'].includes(CONFIG.accessTokenFormat)) {
  throw new Error(`OP_AT_FORMAT must be jwt or opaque, not ${CONFIG.accessTokenFormat}`);
}

// ---- who and what this provider knows -----------------------------------------------------
const API = 'urn:nbauth:test-api';
const API_SCOPES = ['api:read', 'api:write'];
const OIDC_SCOPES = ['openid', 'offline_access', 'email', 'profile'];
const GRANT = {
  password: 'password', // custom resource-owner password grant (not in oidc-provider's core)
  jwtBearer: 'urn:ietf:params:oauth:grant-type:jwt-bearer', // used as on-behalf-of
  deviceCode: 'urn:ietf:params:oauth:grant-type:device_code',
};
const USERS = {
  alice: { password: 'alice-pw', email: 'alice@example.test', name: 'Alice Example' },
  bob: { password: 'bob-pw', email: 'bob@example.test', name: 'Bob Example' },
};
const CONFIDENTIAL_SECRET = 'confidential-secret';
const WEB_REDIRECT_URI = 'https://app.example.test/callback';

function confidentialClient(clientId, auth) {
  return {
    client_id: clientId,
    ...auth,
    redirect_uris: [WEB_REDIRECT_URI],
    response_types: ['code'],
    grant_types: ['client_credentials', GRANT.jwtBearer, 'refresh_token', 'authorization_code',
      GRANT.password],
  };
}

function clients() {
  const list = [
    { // public client: auth code + PKCE on loopback (any port), device flow, refresh, password
      client_id: 'nbauth-native',
      application_type: 'native',
      token_endpoint_auth_method: 'none',
      redirect_uris: ['http://127.0.0.1/callback', 'http://localhost/callback'],
      response_types: ['code'],
      grant_types: ['authorization_code', 'refresh_token', GRANT.deviceCode, GRANT.password],
    },
    confidentialClient('nbauth-confidential',
      { client_secret: CONFIDENTIAL_SECRET, token_endpoint_auth_method: 'client_secret_basic' }),
    confidentialClient('nbauth-confidential-post',
      { client_secret: CONFIDENTIAL_SECRET, token_endpoint_auth_method: 'client_secret_post' }),
  ];
  if (CONFIG.clientJwks) {
    // No token_endpoint_auth_signing_alg: RS256 and PS256 assertions (MSAL uses either) both pass.
    list.push(confidentialClient('nbauth-pkjwt',
      { token_endpoint_auth_method: 'private_key_jwt', jwks: CONFIG.clientJwks }));
  }
  return list;
}

function userClaims(accountId, scopes) {
  const user = USERS[accountId];
  const claims = { sub: accountId };
  if (scopes.has('email')) Object.assign(claims, { email: user.email, email_verified: true });
  if (scopes.has('profile')) Object.assign(claims, { name: user.name, preferred_username: user.email });
  return claims;
}

async function findAccount(ctx, accountId) {
  if (!Object.hasOwn(USERS, accountId)) return undefined;
  return {
    accountId,
    async claims(use, scope) {
      return userClaims(accountId, new Set(String(scope ?? '').split(' ')));
    },
  };
}

const nowSeconds = () => Math.floor(Date.now() / 1000);
const splitScope = (scope) => String(scope ?? '').split(' ').filter(Boolean);

// ---- storage: unbounded and inspectable -----------------------------------------------------
// oidc-provider's bundled memory adapter is an LRU capped at 1000 entries shared by every model,
// so a long test session could silently lose refresh tokens. This one only forgets entries that
// expired a while ago, and lets the test routes find a user's refresh tokens.
const store = new Map(); // "<Model>:<id>" -> { model, payload, expiresAt }
let writesSinceSweep = 0;

function sweepExpired() {
  const horizon = Date.now() - 5 * 60 * 1000;
  for (const [key, entry] of store) if (entry.expiresAt < horizon) store.delete(key);
}

class TestAdapter {
  constructor(model) { this.model = model; }

  key(id) { return `${this.model}:${id}`; }

  async upsert(id, payload, expiresIn) {
    const expiresAt = typeof expiresIn === 'number' ? Date.now() + expiresIn * 1000 : Infinity;
    store.set(this.key(id), { model: this.model, payload, expiresAt });
    if (++writesSinceSweep >= 500) { writesSinceSweep = 0; sweepExpired(); }
  }

  async find(id) { return store.get(this.key(id))?.payload; }

  async findByUserCode(userCode) { return this.#findBy((p) => p.userCode === userCode); }

  async findByUid(uid) { return this.#findBy((p) => p.uid === uid); }

  async consume(id) {
    const entry = store.get(this.key(id));
    if (entry) entry.payload.consumed = nowSeconds();
  }

  async destroy(id) { store.delete(this.key(id)); }

  async revokeByGrantId(grantId) {
    for (const [key, entry] of store) {
      if (entry.model === this.model && entry.payload.grantId === grantId) store.delete(key);
    }
  }

  #findBy(predicate) {
    for (const entry of store.values()) {
      if (entry.model === this.model && predicate(entry.payload)) return entry.payload;
    }
    return undefined;
  }
}

function payloadsOf(model, predicate) {
  return [...store.values()].filter((e) => e.model === model && predicate(e.payload))
    .map((e) => e.payload);
}

// ---- the provider ---------------------------------------------------------------------------
const signingKey = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
const signingJwk = { ...signingKey.export({ format: 'jwk' }), kid: 'nbauth-test-op', alg: 'RS256', use: 'sig' };
const { d, p, q, dp, dq, qi, ...publicJwk } = signingJwk;

const server = CONFIG.tlsCert && CONFIG.tlsKey
  ? https.createServer({ cert: fs.readFileSync(CONFIG.tlsCert), key: fs.readFileSync(CONFIG.tlsKey) })
  : http.createServer();
// Bind first (port 0 = ephemeral), then name the issuer after the real port.
await new Promise((resolve) => { server.listen(CONFIG.port, '127.0.0.1', resolve); });
const scheme = server instanceof https.Server ? 'https' : 'http';
const ISSUER = `${scheme}://127.0.0.1:${server.address().port}${CONFIG.mount}`;

function resourceServerInfo(ctx, resource) {
  if (resource !== API) throw new errors.InvalidTarget();
  return {
    scope: API_SCOPES.join(' '),
    audience: API,
    accessTokenFormat: CONFIG.accessTokenFormat,
    accessTokenTTL: CONFIG.accessTokenTTL,
  };
}

// Without a resource parameter, JWT mode aims every access token at the test API; opaque mode
// issues tokens for the userinfo endpoint (/me) instead.
const defaultResource = (ctx, client, oneOf) => oneOf
  ?? (CONFIG.accessTokenFormat === 'jwt' ? API : undefined);

const configuration = {
  adapter: TestAdapter,
  clients: clients(),
  jwks: { keys: [signingJwk] },
  cookies: { keys: [crypto.randomBytes(16).toString('hex')] },
  clockTolerance: 0, // the default 15 s would keep expired tokens valid in expiry tests
  conformIdTokenClaims: false, // ID tokens carry the email/profile claims, as Entra's do
  claims: {
    openid: ['sub'],
    email: ['email', 'email_verified'],
    profile: ['name', 'preferred_username'],
  },
  scopes: OIDC_SCOPES,
  findAccount,
  routes: {
    authorization: '/auth',
    code_verification: '/device',
    device_authorization: '/device/auth',
    token: '/token',
    revocation: '/token/revocation',
    introspection: '/token/introspection',
    jwks: '/jwks',
    userinfo: '/me',
  },
  features: {
    devInteractions: { enabled: true }, // built-in login + consent forms at /interaction/:uid
    deviceFlow: { enabled: true },
    clientCredentials: { enabled: true },
    introspection: { enabled: true },
    revocation: { enabled: true },
    resourceIndicators: {
      enabled: true,
      defaultResource,
      useGrantedResource: () => true,
      getResourceServerInfo: resourceServerInfo,
    },
  },
  // Public clients must use PKCE; confidential clients may (MSAL's web-app flow always does).
  pkce: { required: (ctx, client) => client.clientAuthMethod === 'none' },
  // Auto-consent: whatever is requested is granted. Native clients still get a consent prompt
  // (oidc-provider's native_client_prompt check), so headless logins submit that form too.
  async loadExistingGrant(ctx) {
    const { oidc } = ctx;
    const grantId = oidc.result?.consent?.grantId || oidc.session.grantIdFor(oidc.client.clientId);
    const grant = (grantId && await oidc.provider.Grant.find(grantId))
      || new oidc.provider.Grant({ clientId: oidc.client.clientId, accountId: oidc.session.accountId });
    grant.addOIDCScope([...oidc.requestParamOIDCScopes].join(' '));
    grant.addOIDCClaims(['sub', 'email', 'email_verified', 'name', 'preferred_username']);
    for (const [id, rs] of Object.entries(oidc.resourceServers ?? {})) grant.addResourceScope(id, rs.scope);
    await grant.save();
    return grant;
  },
  // Refresh tokens need the offline_access scope AND the refresh_token grant on the client.
  issueRefreshToken: async (ctx, client, code) => client.grantTypeAllowed('refresh_token')
    && code.scopes.has('offline_access'),
  rotateRefreshToken: true, // every use answers a new refresh token; reusing an old one revokes the grant
  ttl: {
    AccessToken: (ctx, token) => token.resourceServer?.accessTokenTTL ?? CONFIG.accessTokenTTL,
    ClientCredentials: (ctx, token) => token.resourceServer?.accessTokenTTL ?? CONFIG.accessTokenTTL,
    IdToken: CONFIG.idTokenTTL,
    RefreshToken: CONFIG.refreshTokenTTL,
    DeviceCode: CONFIG.deviceCodeTTL,
    AuthorizationCode: 60,
    Interaction: 600,
    Session: 3600,
    Grant: Math.max(3600, CONFIG.refreshTokenTTL),
  },
};

const provider = new Provider(ISSUER, configuration);

// ---- custom grants: password and jwt-bearer (on-behalf-of) ------------------------------------
// Both issue what the built-in grants issue: a resource access token, a refresh token when
// offline_access is asked for, and an ID token when openid is.
async function grantFor(client, accountId, scopes, resource) {
  const grant = new provider.Grant({ clientId: client.clientId, accountId });
  grant.addOIDCScope(scopes.filter((s) => OIDC_SCOPES.includes(s)).join(' '));
  grant.addOIDCClaims(['sub', 'email', 'email_verified', 'name', 'preferred_username']);
  if (resource) grant.addResourceScope(resource, scopes.filter((s) => API_SCOPES.includes(s)).join(' '));
  return grant.save();
}

async function issueForAccount(ctx, accountId, gty) {
  const { client, params } = ctx.oidc;
  const scopes = splitScope(params.scope || 'openid');
  const unknown = scopes.filter((s) => !OIDC_SCOPES.includes(s) && !API_SCOPES.includes(s));
  if (unknown.length) throw new errors.InvalidScope('requested scope is not allowed', unknown.join(' '));
  const oidcScopes = scopes.filter((s) => OIDC_SCOPES.includes(s));
  const resource = params.resource ?? defaultResource(ctx, client);
  const grantId = await grantFor(client, accountId, scopes, resource);

  const at = new provider.AccessToken({ accountId, client, grantId, gty });
  if (resource) {
    at.resourceServer = new provider.ResourceServer(resource, resourceServerInfo(ctx, resource));
    at.scope = scopes.filter((s) => API_SCOPES.includes(s)).join(' ');
  } else {
    at.scope = oidcScopes.join(' ');
  }
  const body = { access_token: await at.save(), token_type: 'Bearer', expires_in: at.expiration, scope: at.scope };

  if (oidcScopes.includes('offline_access') && client.grantTypeAllowed('refresh_token')) {
    const rt = new provider.RefreshToken({
      accountId, client, grantId, gty, resource, scope: scopes.join(' '), authTime: nowSeconds(), rotations: 0,
    });
    body.refresh_token = await rt.save();
  }
  if (oidcScopes.includes('openid')) {
    const claims = userClaims(accountId, new Set(oidcScopes));
    const idToken = new provider.IdToken({ ...claims, auth_time: nowSeconds() }, { ctx });
    idToken.scope = oidcScopes.join(' ');
    body.id_token = await idToken.issue({ use: 'idtoken' });
  }
  ctx.body = body;
}

// Error descriptions of custom grants reach clients only as a generic text (oidc-provider hides
// the detail of errors it did not raise itself), so tests match on `error`, not the description.
provider.registerGrantType(GRANT.password, async (ctx) => {
  const { username, password } = ctx.oidc.params;
  if (!Object.hasOwn(USERS, username ?? '') || USERS[username].password !== password) {
    throw new errors.InvalidGrant('invalid resource owner credentials');
  }
  await issueForAccount(ctx, username, GRANT.password);
}, ['username', 'password', 'scope', 'resource']);

// jwt-bearer as on-behalf-of: the assertion is an unexpired JWT access token this provider issued.
const ownKeys = createLocalJWKSet({ keys: [publicJwk] });
provider.registerGrantType(GRANT.jwtBearer, async (ctx) => {
  const { assertion, requested_token_use: use } = ctx.oidc.params;
  if (!assertion) throw new errors.InvalidRequest('missing required parameter assertion');
  if (use !== undefined && use !== 'on_behalf_of') {
    throw new errors.InvalidRequest('requested_token_use must be on_behalf_of');
  }
  let payload;
  try {
    ({ payload } = await jwtVerify(assertion, ownKeys, { issuer: ISSUER, audience: API, clockTolerance: 0 }));
  } catch (err) {
    throw new errors.InvalidGrant(`invalid assertion: ${err.message}`);
  }
  if (!Object.hasOwn(USERS, payload.sub ?? '')) throw new errors.InvalidGrant('assertion subject is unknown');
  await issueForAccount(ctx, payload.sub, GRANT.jwtBearer);
}, ['assertion', 'scope', 'requested_token_use', 'resource']);

// ---- reading form bodies ahead of oidc-provider -------------------------------------------------
// The test hooks need a few form fields before oidc-provider handles the request. Reading the
// stream consumes it; oidc-provider's body parser then falls back to req.body (and logs once
// that an upstream parser was detected).
async function peekForm(ctx) {
  if (ctx.method !== 'POST' || !ctx.is('application/x-www-form-urlencoded')) return {};
  const chunks = [];
  for await (const chunk of ctx.req) chunks.push(chunk);
  const raw = Buffer.concat(chunks).toString('utf8');
  ctx.req.body = raw;
  return Object.fromEntries(new URLSearchParams(raw));
}

// Which client a request names and how it authenticates, for the log. (oidc-provider, like
// Entra, takes client_secret_basic and client_secret_post interchangeably; the log's client_auth
// tells which one a client library really used.)
function presentedClientAuth(ctx, form) {
  const [scheme, value] = (ctx.get('authorization') || '').split(' ');
  if (scheme?.toLowerCase() === 'basic' && value) {
    const user = Buffer.from(value, 'base64').toString('utf8').split(':')[0];
    let clientId = user;
    try { clientId = decodeURIComponent(user); } catch { /* keep it raw */ }
    return { clientId, method: 'client_secret_basic' };
  }
  if (form.client_assertion) {
    let clientId = form.client_id;
    try {
      clientId ??= JSON.parse(Buffer.from(form.client_assertion.split('.')[1], 'base64url')).iss;
    } catch { /* unreadable assertion: oidc-provider answers invalid_client */ }
    return { clientId, method: 'private_key_jwt' };
  }
  return { clientId: form.client_id, method: form.client_secret ? 'client_secret_post' : 'none' };
}

// ---- device-code polling --------------------------------------------------------------------
// oidc-provider 9.13 does nothing about polling speed: it defines a SlowDown error but never
// raises it, and its device_authorization response carries no `interval` (RFC 8628 then means
// 5 s). This provider adds `interval` (OP_DC_INTERVAL), can answer slow_down to polls sooner than
// the interval (OP_DC_ENFORCE_INTERVAL; each slow_down adds 5 s, as RFC 8628 section 3.5 says),
// and lets a test script the next N polls of a code to answer slow_down.
const normalizeUserCode = (code) => String(code ?? '').toUpperCase().replace(/[^A-Z0-9]/g, '');
const devices = new Map(); // device_code -> { userCode, interval, lastPollMs, forcedSlowDowns }

function deviceByUserCode(userCode) {
  const wanted = normalizeUserCode(userCode);
  return [...devices.values()].find((d) => normalizeUserCode(d.userCode) === wanted);
}

function shouldSlowDown(device, nowMs) {
  const tooSoon = CONFIG.enforceDeviceInterval && device.lastPollMs !== undefined
    && nowMs - device.lastPollMs < device.interval * 1000;
  device.lastPollMs = nowMs;
  if (device.forcedSlowDowns === 0 && !tooSoon) return false;
  device.forcedSlowDowns = Math.max(0, device.forcedSlowDowns - 1);
  if (CONFIG.enforceDeviceInterval) device.interval += 5;
  return true;
}

function answerError(ctx, status, error, description) {
  ctx.status = status;
  ctx.set('Cache-Control', 'no-store');
  ctx.body = { error, error_description: description };
}

// ---- the request log (token, device authorization, revocation, introspection) ----------------
const requestLog = [];
const LOGGED = {
  '/token': 'token',
  '/device/auth': 'device_authorization',
  '/token/revocation': 'revocation',
  '/token/introspection': 'introspection',
};

function outcomeOf(ctx) {
  if (ctx.status >= 200 && ctx.status < 300) return 'ok';
  return (ctx.body && typeof ctx.body === 'object' && ctx.body.error) || `http_${ctx.status}`;
}

function stats() {
  const counts = {};
  for (const entry of requestLog) {
    if (entry.endpoint !== 'token') continue;
    const key = `${entry.grant_type}:${entry.outcome}`;
    counts[key] = (counts[key] ?? 0) + 1;
  }
  return counts;
}

provider.use(async (ctx, next) => {
  const endpoint = LOGGED[ctx.path];
  if (!endpoint || ctx.method !== 'POST') return next();
  const tMs = Date.now();
  const form = await peekForm(ctx);
  const client = presentedClientAuth(ctx, form);
  const device = form.grant_type === GRANT.deviceCode ? devices.get(form.device_code) : undefined;
  if (device && shouldSlowDown(device, tMs)) {
    answerError(ctx, 400, 'slow_down', 'you are polling too quickly and should back off at a reasonable rate');
  } else {
    await next();
  }
  if (endpoint === 'device_authorization' && ctx.status === 200 && ctx.body?.device_code) {
    ctx.body.interval = CONFIG.deviceInterval;
    devices.set(ctx.body.device_code, {
      userCode: ctx.body.user_code, interval: CONFIG.deviceInterval, lastPollMs: undefined, forcedSlowDowns: 0,
    });
  }
  requestLog.push({
    t_ms: tMs,
    endpoint,
    grant_type: form.grant_type ?? null,
    client_id: client.clientId ?? null,
    client_auth: client.method,
    user_code: device?.userCode ?? (endpoint === 'device_authorization' ? ctx.body?.user_code : undefined) ?? null,
    status: ctx.status,
    outcome: outcomeOf(ctx),
  });
  return undefined;
});

// devInteractions takes any login and password; check them against USERS first.
provider.use(async (ctx, next) => {
  if (ctx.method === 'POST' && /^\/interaction\/[^/]+$/.test(ctx.path)) {
    const form = await peekForm(ctx);
    if (form.prompt === 'login') {
      const user = USERS[form.login];
      if (!Object.hasOwn(USERS, form.login ?? '') || user.password !== form.password) {
        ctx.status = 401;
        ctx.type = 'html';
        ctx.body = '<!DOCTYPE html><title>Sign-in failed</title><p class="error">Invalid username or password.</p>';
        return undefined;
      }
    }
  }
  return next();
});

// Entra answers a refresh token whenever offline_access is asked for; oidc-provider drops
// offline_access from authorization requests without prompt=consent, which neither MSAL nor
// nbauth send. So ask for consent on the client's behalf (the headless login submits that form
// anyway), and drop Entra's select_account prompt, which this provider has no page for.
provider.use(async (ctx, next) => {
  if (ctx.method === 'GET' && ctx.path === '/auth') {
    const query = { ...ctx.query };
    const prompts = new Set(splitScope(query.prompt));
    prompts.delete('select_account');
    if (splitScope(query.scope).includes('offline_access') && !prompts.has('none')) prompts.add('consent');
    if (prompts.size) query.prompt = [...prompts].join(' '); else delete query.prompt;
    ctx.query = query;
    ctx.req.originalUrl = `${CONFIG.mount}${ctx.url}`; // oidc-provider derives its mount path from this
  }
  return next();
});

// ---- test-only routes under <issuer>/__test__/ ------------------------------------------------
async function approveDevice(userCode, accountId) {
  const code = await provider.DeviceCode.findByUserCode(normalizeUserCode(userCode), { ignoreExpiration: true });
  if (!code) return [404, { error: 'unknown user_code' }];
  if (code.accountId || code.error || code.consumed) return [409, { error: 'user_code already decided' }];
  if (accountId === undefined) {
    Object.assign(code, { error: 'access_denied', errorDescription: 'End-User denied the request' });
  } else {
    if (!Object.hasOwn(USERS, accountId)) return [400, { error: 'unknown user' }];
    const client = await provider.Client.find(code.clientId);
    const scopes = splitScope(code.params.scope || 'openid');
    const resource = code.params.resource ?? defaultResource(undefined, client);
    Object.assign(code, {
      accountId,
      grantId: await grantFor(client, accountId, scopes, resource),
      scope: scopes.filter((s) => OIDC_SCOPES.includes(s) || API_SCOPES.includes(s)).join(' '),
      authTime: nowSeconds(),
      resource,
      expiresWithSession: false,
    });
  }
  await code.save();
  return [200, { ok: true }];
}

async function revokeRefreshTokens({ user, grant_id: grantId, refresh_token: refreshToken }) {
  let grantIds;
  if (user) {
    grantIds = new Set(payloadsOf('RefreshToken', (p) => p.accountId === user).map((p) => p.grantId));
  } else if (grantId) {
    grantIds = new Set([grantId]);
  } else if (refreshToken) {
    const token = await provider.RefreshToken.find(refreshToken, { ignoreExpiration: true });
    if (!token) return [404, { error: 'unknown refresh_token' }];
    grantIds = new Set([token.grantId]);
  } else {
    return [400, { error: 'give user, grant_id or refresh_token' }];
  }
  const doomed = payloadsOf('RefreshToken', (p) => grantIds.has(p.grantId) && !p.consumed
    && p.exp > nowSeconds());
  for (const id of grantIds) await provider.RefreshToken.revokeByGrantId(id);
  return [200, { revoked: doomed.length }];
}

const testRoutes = {
  'GET /stats': () => [200, stats()],
  'GET /log': () => [200, requestLog],
  'POST /reset': () => {
    requestLog.length = 0;
    for (const device of devices.values()) device.forcedSlowDowns = 0;
    return [200, {}];
  },
  'POST /device/approve': (q) => approveDevice(q.user_code, q.user || 'alice'),
  'POST /device/deny': (q) => approveDevice(q.user_code, undefined),
  'POST /device/slow_down': (q) => {
    const device = deviceByUserCode(q.user_code);
    if (!device) return [404, { error: 'unknown user_code' }];
    device.forcedSlowDowns += Number(q.count ?? 1);
    return [200, { pending_slow_downs: device.forcedSlowDowns }];
  },
  'POST /refresh_tokens/revoke': (q) => revokeRefreshTokens(q),
};

provider.use(async (ctx, next) => {
  if (!ctx.path.startsWith('/__test__/')) return next();
  const route = testRoutes[`${ctx.method} ${ctx.path.slice('/__test__'.length)}`];
  if (!route) { ctx.status = 404; ctx.body = { error: 'no such test route' }; return undefined; }
  const [status, body] = await route(ctx.query);
  ctx.status = status;
  ctx.body = body;
  return undefined;
});

// ---- serving under the mount path, and stopping -------------------------------------------------
const handle = provider.callback();
server.on('request', (req, res) => {
  const { mount } = CONFIG;
  if (mount && req.url !== mount && !req.url.startsWith(`${mount}/`) && !req.url.startsWith(`${mount}?`)) {
    res.statusCode = 404;
    res.end();
    return;
  }
  req.originalUrl = req.url; // oidc-provider builds its URLs from originalUrl when mounted
  req.url = req.url.slice(mount.length) || '/';
  handle(req, res);
});

let stopping = false;
function stop() {
  if (stopping) return;
  stopping = true;
  server.close(() => process.exit(0));
  server.closeAllConnections(); // keep-alive clients would otherwise hold close() open
  setTimeout(() => process.exit(0), 2000).unref();
}
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
if (CONFIG.exitOnStdinEof) {
  process.stdin.on('end', stop);
  process.stdin.on('error', stop);
  process.stdin.resume();
}

console.log(`READY ${ISSUER}`);
