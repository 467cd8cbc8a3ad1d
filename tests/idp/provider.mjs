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
//   OP_COOP                 1 = every page sends Cross-Origin-Opener-Policy: same-origin (as many
//                           identity providers' do), which cuts a sign-in popup off from its opener
//
// Users, clients and scopes: op/directory.mjs. Test-only routes: op/test_routes.mjs.
// It binds 127.0.0.1 only and keeps all state in memory.
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as https from 'node:https';
import Provider, { errors } from 'oidc-provider';

import { DevicePolling } from './op/device_polling.mjs';
import {
  ID_TOKEN_CLAIMS, OIDC_SCOPES, RESOURCE_SCOPES, STORAGE, STORAGE_ISSUER, clients, findAccount, resourceOf,
} from './op/directory.mjs';
import { registerCustomGrants } from './op/grants.mjs';
import { installRequestHooks } from './op/request_hooks.mjs';
import { TestAdapter } from './op/store.mjs';
import { installTestRoutes } from './op/test_routes.mjs';

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
  coop: env('OP_COOP', '0') === '1',
};
if (!['jwt', 'opaque'].includes(CONFIG.accessTokenFormat)) {
  throw new Error(`OP_AT_FORMAT must be jwt or opaque, not ${CONFIG.accessTokenFormat}`);
}

// ---- the test API as a resource server ----------------------------------------------------------
const resources = {
  resourceServerInfo(ctx, resource) {
    if (!Object.hasOwn(RESOURCE_SCOPES, resource)) throw new errors.InvalidTarget();
    return {
      scope: RESOURCE_SCOPES[resource].join(' '),
      audience: resource,
      accessTokenFormat: CONFIG.accessTokenFormat,
      accessTokenTTL: CONFIG.accessTokenTTL,
    };
  },
  // Without a resource parameter, JWT mode aims every access token at the test API (at storage when
  // a storage scope is asked for); opaque mode issues tokens for the userinfo endpoint (/me) instead.
  defaultResource: (ctx, client, oneOf) => oneOf ?? (CONFIG.accessTokenFormat === 'jwt'
    ? resourceOf(String(ctx?.oidc?.params?.scope ?? '').split(' ')) : undefined),
};

// ---- the provider ---------------------------------------------------------------------------
function configuration() {
  return {
    adapter: TestAdapter,
    clients: clients(CONFIG.clientJwks),
    jwks: { keys: [signingJwk] },
    cookies: { keys: [crypto.randomBytes(16).toString('hex')] },
    clockTolerance: 0, // the default 15 s would keep expired tokens valid in expiry tests
    conformIdTokenClaims: false, // ID tokens carry the email/profile claims, as Entra's do
    claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['name', 'preferred_username'] },
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
        defaultResource: resources.defaultResource,
        useGrantedResource: () => true,
        getResourceServerInfo: resources.resourceServerInfo,
      },
    },
    // Storage tokens look like Entra's for Azurite: its issuer form, and an nbf (Azurite requires one).
    formats: {
      customizers: {
        jwt(ctx, token, jwt) {
          if (token.resourceServer?.audience === STORAGE) Object.assign(jwt.payload, { iss: STORAGE_ISSUER, nbf: jwt.payload.iat });
        },
      },
    },
    // Public clients must use PKCE; confidential clients may (MSAL's web-app flow always does).
    pkce: { required: (ctx, client) => client.clientAuthMethod === 'none' },
    loadExistingGrant,
    // Refresh tokens need the offline_access scope AND the refresh_token grant on the client.
    issueRefreshToken: async (ctx, client, code) => client.grantTypeAllowed('refresh_token')
      && code.scopes.has('offline_access'),
    rotateRefreshToken: true, // every use answers a new refresh token; reusing one revokes the grant
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
}

// Auto-consent: whatever is requested is granted. Native clients still get a consent prompt
// (oidc-provider's native_client_prompt check), so headless logins submit that form too.
async function loadExistingGrant(ctx) {
  const { oidc } = ctx;
  const grantId = oidc.result?.consent?.grantId || oidc.session.grantIdFor(oidc.client.clientId);
  const grant = (grantId && await oidc.provider.Grant.find(grantId))
    || new oidc.provider.Grant({ clientId: oidc.client.clientId, accountId: oidc.session.accountId });
  grant.addOIDCScope([...oidc.requestParamOIDCScopes].join(' '));
  grant.addOIDCClaims(ID_TOKEN_CLAIMS);
  for (const [id, rs] of Object.entries(oidc.resourceServers ?? {})) grant.addResourceScope(id, rs.scope);
  await grant.save();
  return grant;
}

const signingKey = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
const signingJwk = { ...signingKey.export({ format: 'jwk' }), kid: 'nbauth-test-op', alg: 'RS256', use: 'sig' };
const { d, p, q, dp, dq, qi, ...publicJwk } = signingJwk;

const server = CONFIG.tlsCert && CONFIG.tlsKey
  ? https.createServer({ cert: fs.readFileSync(CONFIG.tlsCert), key: fs.readFileSync(CONFIG.tlsKey) })
  : http.createServer();
// Bind first (port 0 = ephemeral), then name the issuer after the real port.
await new Promise((resolve) => { server.listen(CONFIG.port, '127.0.0.1', resolve); });
const scheme = server instanceof https.Server ? 'https' : 'http';
const issuer = `${scheme}://127.0.0.1:${server.address().port}${CONFIG.mount}`;

const provider = new Provider(issuer, configuration());
const requestLog = [];
const polling = new DevicePolling({ interval: CONFIG.deviceInterval, enforce: CONFIG.enforceDeviceInterval });
registerCustomGrants(provider, { issuer, publicJwk, resources });
installRequestHooks(provider, { requestLog, polling, mount: CONFIG.mount });
installTestRoutes(provider, { requestLog, polling, resources });

// ---- serving under the mount path, and stopping -------------------------------------------------
const handle = provider.callback();
server.on('request', (req, res) => {
  const { mount } = CONFIG;
  if (mount && req.url !== mount && !req.url.startsWith(`${mount}/`) && !req.url.startsWith(`${mount}?`)) {
    res.statusCode = 404;
    res.end();
    return;
  }
  if (CONFIG.coop) res.setHeader('Cross-Origin-Opener-Policy', 'same-origin');
  req.originalUrl = req.url; // oidc-provider derives its mount path from originalUrl
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

console.log(`READY ${issuer}`);
