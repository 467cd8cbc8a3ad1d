// Who and what the test provider knows: the API resource, scopes, users and clients.
// tests/idp/server.py mirrors these names for the Python side; keep the two in step.

export const API = 'urn:nbauth:test-api';
export const API_SCOPES = ['api:read', 'api:write'];
// Azure Storage as a second resource, for the Azurite tests: Azurite takes a bearer token only if
// its iss starts with https://sts.windows.net/ and its aud is the storage resource (it checks
// expiry, not signatures), so tokens for this resource carry Entra's issuer form (provider.mjs).
export const STORAGE = 'https://storage.azure.com';
export const STORAGE_SCOPES = [`${STORAGE}/.default`]; // what Azure's SDKs ask for
export const STORAGE_ISSUER = 'https://sts.windows.net/00000000-0000-0000-0000-0000000e5701/';
// Each resource's scopes; a token request naming a storage scope is for the storage resource.
export const RESOURCE_SCOPES = { [API]: API_SCOPES, [STORAGE]: STORAGE_SCOPES };
export const resourceOf = (scopes) => (scopes.some((s) => STORAGE_SCOPES.includes(s)) ? STORAGE : API);
export const OIDC_SCOPES = ['openid', 'offline_access', 'email', 'profile'];
export const ID_TOKEN_CLAIMS = ['sub', 'email', 'email_verified', 'name', 'preferred_username'];
export const GRANT = {
  password: 'password', // custom resource-owner password grant (not in oidc-provider's core)
  jwtBearer: 'urn:ietf:params:oauth:grant-type:jwt-bearer', // used as on-behalf-of
  deviceCode: 'urn:ietf:params:oauth:grant-type:device_code',
};

export const USERS = {
  alice: { password: 'alice-pw', email: 'alice@example.test', name: 'Alice Example' },
  bob: { password: 'bob-pw', email: 'bob@example.test', name: 'Bob Example' },
};

export const isUser = (name) => Object.hasOwn(USERS, name ?? '');
export const passwordMatches = (name, password) => isUser(name) && USERS[name].password === password;
export const splitScope = (scope) => String(scope ?? '').split(' ').filter(Boolean);
export const nowSeconds = () => Math.floor(Date.now() / 1000);

const CONFIDENTIAL_SECRET = 'confidential-secret';
const WEB_REDIRECT_URI = 'https://app.example.test/callback';

function confidentialClient(clientId, auth) {
  return {
    client_id: clientId,
    ...auth,
    redirect_uris: [WEB_REDIRECT_URI], // tests play the browser and read the Location; never fetched
    response_types: ['code'],
    grant_types: ['client_credentials', GRANT.jwtBearer, 'refresh_token', 'authorization_code', GRANT.password],
  };
}

// clientJwks: the public JWKS of nbauth-pkjwt; without it that client is not registered.
export function clients(clientJwks) {
  const list = [
    { // public client: auth code + PKCE on loopback (any port), device flow, refresh, password
      client_id: 'nbauth-native',
      application_type: 'native',
      token_endpoint_auth_method: 'none',
      // Loopback redirects (any port): nbauth's own loopback server, and the Jupyter callback page of
      // nbauth's server extension (a Lab at /, and a JupyterHub's one URI for every user).
      redirect_uris: ['http://127.0.0.1/callback', 'http://localhost/callback', 'http://127.0.0.1/nbauth/callback',
        'http://127.0.0.1/hub/user-redirect/nbauth/callback'],
      response_types: ['code'],
      grant_types: ['authorization_code', 'refresh_token', GRANT.deviceCode, GRANT.password],
    },
    confidentialClient('nbauth-confidential',
      { client_secret: CONFIDENTIAL_SECRET, token_endpoint_auth_method: 'client_secret_basic' }),
    confidentialClient('nbauth-confidential-post',
      { client_secret: CONFIDENTIAL_SECRET, token_endpoint_auth_method: 'client_secret_post' }),
  ];
  if (clientJwks) {
    // No token_endpoint_auth_signing_alg: RS256 and PS256 assertions (MSAL uses either) both pass.
    list.push(confidentialClient('nbauth-pkjwt',
      { token_endpoint_auth_method: 'private_key_jwt', jwks: clientJwks }));
  }
  return list;
}

// The user's claims that the granted scopes release.
export function userClaims(accountId, scopes) {
  const user = USERS[accountId];
  const claims = { sub: accountId };
  if (scopes.has('email')) Object.assign(claims, { email: user.email, email_verified: true });
  if (scopes.has('profile')) Object.assign(claims, { name: user.name, preferred_username: user.email });
  return claims;
}

export async function findAccount(ctx, accountId) {
  if (!isUser(accountId)) return undefined;
  return {
    accountId,
    async claims(use, scope) { return userClaims(accountId, new Set(splitScope(scope))); },
  };
}
