"""Helpers for the integration tests (no tests): signed-in apps and an API that checks tokens."""
import functools
import json

import jwt
import requests

import nbauth
from idp.server import API_RESOURCE, NATIVE_CLIENT, USERS
from nbauth import PublicClientApplication
from nbauth.cache import TokenCache

SCOPES = ["api:read"]


def signed_in_app(provider, user="alice", cache=None, scopes=SCOPES):
    """A public app with ``user`` signed in (password grant: quick, no person needed), and the account."""
    app = PublicClientApplication(NATIVE_CLIENT, oidc_authority=provider.issuer, token_cache=cache or TokenCache())
    result = app.acquire_token_by_username_password(user, USERS[user], list(scopes))
    assert "access_token" in result, result
    (account,) = app.get_accounts(username=f"{user}@example.test")
    return app, account


def signed_in_handle(provider):
    """nbauth.login's handle, signed in silently from a cache where alice signed in; the
    provider's log is cleared after."""
    cache = TokenCache()
    signed_in_app(provider, cache=cache)
    handle = nbauth.login(NATIVE_CLIENT, oidc_authority=provider.issuer, scopes=SCOPES, cache=cache, ui="none")
    assert handle.status.value == "signed_in"
    provider.reset_stats()
    return handle


@functools.lru_cache(maxsize=None)
def _jwks(jwks_uri: str, ca_path: str) -> jwt.PyJWKSet:
    return jwt.PyJWKSet.from_dict(requests.get(jwks_uri, verify=ca_path, timeout=10).json())


def verified_claims(provider, access_token: str) -> dict:
    """The claims of an access token the local provider signed; raises if it did not."""
    key = _jwks(provider.metadata()["jwks_uri"], provider.ca_path)[jwt.get_unverified_header(access_token)["kid"]]
    return jwt.decode(access_token, key, algorithms=["RS256"], audience=API_RESOURCE, issuer=provider.issuer)


def bearer_of(request) -> str:
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    assert scheme == "Bearer", request.headers.get("Authorization")
    return token


def checking_api(provider, answers=None):
    """A FakeServer handler for an API: takes a real token of ``provider`` (else 401), and first
    gives the canned ``answers`` (e.g. a 401 with a challenge) to requests it would have taken."""
    pending = list(answers or [])

    def handle(request):
        try:
            claims = verified_claims(provider, bearer_of(request))
        except (AssertionError, jwt.InvalidTokenError):
            return 401, {"WWW-Authenticate": 'Bearer error="invalid_token"'}, {"error": "invalid_token"}
        if pending:
            return pending.pop(0)
        return 200, {}, {"sub": claims["sub"], "client_id": claims.get("client_id"),
                         "body": request.body.decode() or None}
    return handle


def api_on(server, provider):
    """``serve(*answers)``: routes GET and POST /data on ``server`` to ``checking_api(provider,
    answers)`` and gives the URL; ``tokens_seen(server)`` lists the bearer tokens it was sent."""
    def serve(*answers):
        for method in ("GET", "POST"):
            server.route(method, "/data", checking_api(provider, answers))
        return server.url + "/data"
    return serve


def tokens_seen(server):
    return [bearer_of(r) for r in server.requests_to("/data")]


def challenge(error, **params):
    """A 401 answer carrying a Bearer challenge."""
    values = ", ".join(f'{name}="{value}"' for name, value in dict(error=error, **params).items())
    return 401, {"WWW-Authenticate": f'Bearer realm="api", {values}'}, json.dumps({"error": error})



def gated_refreshes(provider, gate):
    """Make ``provider`` (a FakeProvider) hold each refresh-token grant until ``gate`` (an Event)
    is set; other grants are answered at once. Returns the list the refresh requests join as
    they arrive."""
    refreshes = []

    def token(request):
        if request.form.get("grant_type") == "refresh_token":
            refreshes.append(request)
            assert gate.wait(30), "the test never released the refresh"
        return provider.token_endpoint(request)
    provider.server.route("POST", provider.mount + "/token", token)
    return refreshes
