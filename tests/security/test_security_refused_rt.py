"""A refused refresh token is not hammered: once the provider refuses it (``invalid_grant``), no
process sharing the cache sends it again for that account and scopes, until the cache holds a
different refresh token (a new sign-in) or, for a refusal of some scopes only, other scopes are asked.
"""
import pytest

from support.fake_provider import FakeProvider
from idp.server import NATIVE_CLIENT
from nbauth import PublicClientApplication
from nbauth.cache import PersistedTokenCache, TokenCache
from support.processes import expect_line, kill, python_child

SCOPES = ["api:read"]
pytestmark = pytest.mark.timeout(120)

#: An application on the shared cache whose clock runs 120 s ahead (its access token expired), asking
#: silently three times and printing each answer's error (or "token").
ASK_THREE_TIMES = """
import sys, time
from nbauth import PublicClientApplication
from nbauth.cache import PersistedTokenCache
path, issuer = sys.argv[1], sys.argv[2]
clock = lambda: time.time() + 120
app = PublicClientApplication("nbauth-native", oidc_authority=issuer, clock=clock,
                              token_cache=PersistedTokenCache(path, clock=clock))
(account,) = app.get_accounts()
for _ in range(3):
    result = app.acquire_token_silent_with_error(["api:read"], account)
    print("answer", result.get("error", "token"), flush=True)
"""


def sign_in(provider, path):
    app = PublicClientApplication(NATIVE_CLIENT, oidc_authority=provider.issuer, token_cache=PersistedTokenCache(path))
    assert "access_token" in app.acquire_token_by_username_password("alice", "alice-pw", SCOPES)


def answers(path, provider) -> list:
    child = python_child(ASK_THREE_TIMES, str(path), provider.issuer)
    try:
        return [expect_line(child, "answer").split()[1] for _ in range(3)]
    finally:
        kill(child)


def test_two_processes_send_a_refused_refresh_token_once_until_a_new_sign_in(make_idp, tmp_path):
    provider = make_idp(access_token_ttl=60)
    path = tmp_path / "token_cache.json"
    sign_in(provider, path)
    assert provider.revoke_user_refresh_tokens("alice") >= 1
    provider.reset_stats()

    assert answers(path, provider) == ["invalid_grant"] * 3
    assert answers(path, provider) == ["invalid_grant"] * 3  # another process, same cache
    assert provider.count("refresh_token", "invalid_grant") == 1 and provider.count("refresh_token") == 0

    sign_in(provider, path)  # a new sign-in: a different refresh token, which is used
    assert answers(path, provider) == ["token"] * 3
    assert provider.count("refresh_token") == 1 and provider.count("refresh_token", "invalid_grant") == 1


def test_a_refusal_of_some_scopes_only_keeps_the_refresh_token_for_others(fake_server):
    """Entra refuses a refresh for scopes not consented with invalid_grant, suberror consent_required
    (AADSTS65001): that refresh token stays good for the scopes that were consented."""
    provider = FakeProvider(fake_server)
    answer_ok = provider.token_endpoint  # its usual answer: tokens

    def token(request):
        if "api:admin" in request.form.get("scope", "") and request.form.get("grant_type") == "refresh_token":
            return 400, {}, {"error": "invalid_grant", "suberror": "consent_required", "error_codes": [65001],
                             "error_description": "AADSTS65001: consent required"}
        return answer_ok(request)

    fake_server.route("POST", provider.mount + "/token", token)
    cache = TokenCache()
    app = provider.app(token_cache=cache)
    app.acquire_token_by_username_password("alice", "pw", SCOPES)
    (account,) = app.get_accounts()

    for _ in range(3):
        assert app.acquire_token_silent_with_error(["api:admin"], account)["error"] == "invalid_grant"
    assert app.acquire_token_silent(SCOPES, account, force_refresh=True)["token_source"] == "identity_provider"
    asked = [r.form["scope"] for r in provider.token_requests() if r.form.get("grant_type") == "refresh_token"]
    assert len(asked) == 2 and "api:admin" in asked[0] and "api:admin" not in asked[1]
