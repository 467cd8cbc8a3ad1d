// Middleware that sees requests before oidc-provider does: the request log, scripted and
// enforced slow_down, the login password check, and Entra-like authorization prompts.
import { GRANT, passwordMatches, splitScope } from './directory.mjs';

// Reading the stream consumes it; oidc-provider's body parser then falls back to req.body (and
// logs once that an upstream parser was detected).
async function peekForm(ctx) {
  if (ctx.method !== 'POST' || !ctx.is('application/x-www-form-urlencoded')) return {};
  const chunks = [];
  for await (const chunk of ctx.req) chunks.push(chunk);
  const raw = Buffer.concat(chunks).toString('utf8');
  ctx.req.body = raw;
  return Object.fromEntries(new URLSearchParams(raw));
}

// Which client a request names and how it authenticates. oidc-provider, like Entra, takes
// client_secret_basic and client_secret_post interchangeably; the log's client_auth tells which
// one a client library really used.
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
    } catch { /* unreadable: oidc-provider answers invalid_client */ }
    return { clientId, method: 'private_key_jwt' };
  }
  return { clientId: form.client_id, method: form.client_secret ? 'client_secret_post' : 'none' };
}

function outcomeOf(ctx) {
  if (ctx.status >= 200 && ctx.status < 300) return 'ok';
  return (ctx.body && typeof ctx.body === 'object' && ctx.body.error) || `http_${ctx.status}`;
}

const LOGGED = {
  '/token': 'token',
  '/device/auth': 'device_authorization',
  '/token/revocation': 'revocation',
  '/token/introspection': 'introspection',
};

// Log every request to LOGGED endpoints into requestLog; answer slow_down where polling says so.
function logAndPace(requestLog, polling) {
  return async (ctx, next) => {
    const endpoint = LOGGED[ctx.path];
    if (!endpoint || ctx.method !== 'POST') return next();
    const tMs = Date.now();
    const form = await peekForm(ctx);
    const client = presentedClientAuth(ctx, form);
    const device = form.grant_type === GRANT.deviceCode ? polling.byDeviceCode(form.device_code) : undefined;
    if (device && polling.shouldSlowDown(device, tMs)) {
      ctx.status = 400;
      ctx.set('Cache-Control', 'no-store');
      ctx.body = { error: 'slow_down', error_description: 'you are polling too quickly and should back off at a reasonable rate' };
    } else {
      await next();
    }
    if (endpoint === 'device_authorization' && ctx.status === 200 && ctx.body?.device_code) {
      polling.issued(ctx.body);
    }
    requestLog.push({
      t_ms: tMs,
      endpoint,
      grant_type: form.grant_type ?? null,
      client_id: client.clientId ?? null,
      client_auth: client.method,
      user_code: (device ?? polling.byDeviceCode(ctx.body?.device_code))?.userCode ?? null,
      status: ctx.status,
      outcome: outcomeOf(ctx),
    });
    return undefined;
  };
}

// devInteractions takes any login and password; check them against USERS first.
async function checkPassword(ctx, next) {
  if (ctx.method === 'POST' && /^\/interaction\/[^/]+$/.test(ctx.path)) {
    const form = await peekForm(ctx);
    if (form.prompt === 'login' && !passwordMatches(form.login, form.password)) {
      ctx.status = 401;
      ctx.type = 'html';
      ctx.body = '<!DOCTYPE html><title>Sign-in failed</title><p class="error">Invalid username or password.</p>';
      return undefined;
    }
  }
  return next();
}

// Entra answers a refresh token whenever offline_access is asked for; oidc-provider drops
// offline_access from authorization requests without prompt=consent, which neither MSAL nor
// nbauth send. So ask for consent on the client's behalf (the headless login submits that form
// anyway), and drop Entra's select_account prompt, which this provider has no page for.
function entraLikePrompts(mount) {
  return async (ctx, next) => {
    if (ctx.method === 'GET' && ctx.path === '/auth') {
      const query = { ...ctx.query };
      const prompts = new Set(splitScope(query.prompt));
      prompts.delete('select_account');
      if (splitScope(query.scope).includes('offline_access') && !prompts.has('none')) prompts.add('consent');
      if (prompts.size) query.prompt = [...prompts].join(' '); else delete query.prompt;
      ctx.query = query;
      ctx.req.originalUrl = `${mount}${ctx.url}`; // oidc-provider derives its mount path from this
    }
    return next();
  };
}

export function installRequestHooks(provider, { requestLog, polling, mount }) {
  provider.use(logAndPace(requestLog, polling));
  provider.use(checkPassword);
  provider.use(entraLikePrompts(mount));
}
