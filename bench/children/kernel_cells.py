"""The cells the kernel benchmark runs: set up one way of asking for a token, then ask in a loop.

Each setup cell defines ``get_token() -> (access_token or None, token_source)``. The loop cell
asks every ``INTERVAL`` seconds for ``DURATION`` seconds, times each call, checks that the token
it got is not expired (its JWT ``exp``), and prints one JSON line.
"""

COMMON = """\
import base64, json, time
ISSUER, CACHE_PATH, SCOPES, CLIENT_ID = {issuer!r}, {path!r}, {scopes!r}, "nbauth-native"
"""

SETUPS = {
    "nbauth-login": """\
import nbauth
handle = nbauth.login(CLIENT_ID, oidc_authority=ISSUER, scopes=SCOPES,
                      cache=nbauth.PersistedTokenCache(CACHE_PATH), ui="none")
def get_token():
    return handle.token(), "-"
""",
    "nbauth-silent": """\
import nbauth
app = nbauth.PublicClientApplication(CLIENT_ID, oidc_authority=ISSUER,
                                     token_cache=nbauth.PersistedTokenCache(CACHE_PATH))
account = app.get_accounts()[0]
def get_token():
    result = app.acquire_token_silent(SCOPES, account) or {}
    return result.get("access_token"), result.get("token_source")
""",
    "nbauth-keep-fresh": """\
import nbauth
app = nbauth.PublicClientApplication(CLIENT_ID, oidc_authority=ISSUER,
                                     token_cache=nbauth.PersistedTokenCache(CACHE_PATH))
account = app.get_accounts()[0]
renewal = app.keep_fresh(account, SCOPES)  # nbauth's background renewal
def get_token():
    result = app.acquire_token_silent(SCOPES, account) or {}
    return result.get("access_token"), result.get("token_source")
""",
    "msal-silent": """\
import msal, msal_extensions
cache = msal_extensions.PersistedTokenCache(msal_extensions.FilePersistence(CACHE_PATH))
app = msal.PublicClientApplication(CLIENT_ID, oidc_authority=ISSUER, token_cache=cache)
account = app.get_accounts()[0]
def get_token():
    result = app.acquire_token_silent(SCOPES, account) or {}
    return result.get("access_token"), result.get("token_source")
""",
}

LOOP = """\
def _expires_at(token):
    payload = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))["exp"]

_durations, _expired, _sources, _bad = [], 0, {{}}, []
_due = time.monotonic()
_end = _due + {duration!r}
while _due < _end:
    _started = time.perf_counter()
    _token, _source = get_token()
    _durations.append(time.perf_counter() - _started)
    _left = _expires_at(_token) - time.time() if _token else None
    if _left is None or _left <= 0:
        _expired += 1
        _bad.append({{"call": len(_durations) - 1, "source": _source, "seconds_left": _left}})
    _sources[_source] = _sources.get(_source, 0) + 1
    _due += {interval!r}
    time.sleep(max(0.0, _due - time.monotonic()))
print(json.dumps({{"durations": _durations, "expired": _expired, "sources": _sources, "bad": _bad[:5]}}))
"""
