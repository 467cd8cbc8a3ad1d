// The grants oidc-provider does not have: password and jwt-bearer (as on-behalf-of).
//
// Both issue what the built-in grants issue: an access token for the resource, a refresh token
// when offline_access is asked for, and an ID token when openid is. Error descriptions of custom
// grants reach clients only as a generic text (oidc-provider hides the detail of errors it did not
// raise itself), so tests match on `error`, not on the description.
import { errors } from 'oidc-provider';
import { createLocalJWKSet, jwtVerify } from 'jose';

import {
  API, GRANT, ID_TOKEN_CLAIMS, OIDC_SCOPES, RESOURCE_SCOPES,
  isUser, nowSeconds, passwordMatches, splitScope, userClaims,
} from './directory.mjs';

const isKnownScope = (s) => OIDC_SCOPES.includes(s) || Object.values(RESOURCE_SCOPES).some((r) => r.includes(s));
const resourceScopes = (resource, scopes) => scopes.filter((s) => RESOURCE_SCOPES[resource]?.includes(s));

// A saved Grant giving `accountId` the requested scopes; returns its id.
export async function grantFor(provider, client, accountId, scopes, resource) {
  const grant = new provider.Grant({ clientId: client.clientId, accountId });
  grant.addOIDCScope(scopes.filter((s) => OIDC_SCOPES.includes(s)).join(' '));
  grant.addOIDCClaims(ID_TOKEN_CLAIMS);
  if (resource) grant.addResourceScope(resource, resourceScopes(resource, scopes).join(' '));
  return grant.save();
}

async function issueForAccount(provider, resources, ctx, accountId, gty) {
  const { client, params } = ctx.oidc;
  const scopes = splitScope(params.scope || 'openid');
  const unknown = scopes.filter((s) => !isKnownScope(s));
  if (unknown.length) throw new errors.InvalidScope('requested scope is not allowed', unknown.join(' '));
  const oidcScopes = scopes.filter((s) => OIDC_SCOPES.includes(s));
  const resource = params.resource ?? resources.defaultResource(ctx, client);
  const grantId = await grantFor(provider, client, accountId, scopes, resource);

  const at = new provider.AccessToken({ accountId, client, grantId, gty });
  if (resource) {
    at.resourceServer = new provider.ResourceServer(resource, resources.resourceServerInfo(ctx, resource));
    at.scope = resourceScopes(resource, scopes).join(' ');
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

// resources: { defaultResource(ctx, client), resourceServerInfo(ctx, resource) } as configured.
// publicJwk: the provider's own signing key; jwt-bearer assertions must be its access tokens.
export function registerCustomGrants(provider, { issuer, publicJwk, resources }) {
  provider.registerGrantType(GRANT.password, async (ctx) => {
    const { username, password } = ctx.oidc.params;
    if (!passwordMatches(username, password)) throw new errors.InvalidGrant('invalid resource owner credentials');
    await issueForAccount(provider, resources, ctx, username, GRANT.password);
  }, ['username', 'password', 'scope', 'resource']);

  const ownKeys = createLocalJWKSet({ keys: [publicJwk] });
  provider.registerGrantType(GRANT.jwtBearer, async (ctx) => {
    const { assertion, requested_token_use: use } = ctx.oidc.params;
    if (!assertion) throw new errors.InvalidRequest('missing required parameter assertion');
    if (use !== undefined && use !== 'on_behalf_of') {
      throw new errors.InvalidRequest('requested_token_use must be on_behalf_of');
    }
    let payload;
    try {
      ({ payload } = await jwtVerify(assertion, ownKeys, { issuer, audience: API, clockTolerance: 0 }));
    } catch (err) {
      throw new errors.InvalidGrant(`invalid assertion: ${err.message}`);
    }
    if (!isUser(payload.sub)) throw new errors.InvalidGrant('assertion subject is unknown');
    await issueForAccount(provider, resources, ctx, payload.sub, GRANT.jwtBearer);
  }, ['assertion', 'scope', 'requested_token_use', 'resource']);
}

// What a device code approved through the test route holds (the same as through the browser).
export async function approvedDeviceFields(provider, resources, code, accountId) {
  const client = await provider.Client.find(code.clientId);
  const scopes = splitScope(code.params.scope || 'openid').filter(isKnownScope);
  const resource = code.params.resource ?? resources.defaultResource(undefined, client);
  return {
    accountId,
    grantId: await grantFor(provider, client, accountId, scopes, resource),
    scope: scopes.join(' '),
    authTime: nowSeconds(),
    resource,
    expiresWithSession: false,
  };
}
