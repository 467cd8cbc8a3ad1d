"""While the provider does not answer a refresh, a cached token past its expiry margin but not yet
expired is served rather than no token (as azure-identity serves one): a user's (the provider
stopped, connections refused) and the app's own (its token endpoint answering 503). A refusal is
never covered up this way, nor is a token past its expiry served."""
import pytest

from idp.server import NATIVE_CLIENT
from nbauth import ConfidentialClientApplication, PublicClientApplication
from nbauth.exceptions import OAuthError, ProtocolError, TransportError
from nbauth.protocol.lifecycle import TokenTimes
from nbauth.protocol.status import provider_unanswered
from nbauth.tokens.cached import held_timed
from support.fake_http import FakeServer

SCOPES = ["api:read"]
LIFETIME = 300  # the local provider's access tokens; their margin is 15 s


def test_the_token_held_is_the_one_valid_longest_and_none_once_all_expired():
    older, newer = ({"secret": "a"}, TokenTimes.of(1290, 990)), ({"secret": "b"}, TokenTimes.of(1295, 995))
    assert held_timed([older, newer], 1289) == newer
    assert held_timed([older, newer], 1295) is None


@pytest.fixture
def outage_provider(make_idp):
    return make_idp(mount="/outage")  # its own: this test stops it


def test_a_users_token_in_its_margin_is_served_while_the_provider_is_down_until_it_expires(outage_provider, clock):
    app = PublicClientApplication(NATIVE_CLIENT, oidc_authority=outage_provider.issuer, clock=clock)
    first = app.acquire_token_by_username_password("alice", "alice-pw", SCOPES)
    (account,) = app.get_accounts()
    clock.advance(LIFETIME - 10)  # past its margin, 10 s before its expiry
    outage_provider.stop()
    held = app.acquire_token_silent(SCOPES, account)
    assert (held["access_token"], held["token_source"]) == (first["access_token"], "cache")
    assert 0 < held["expires_in"] <= 10
    clock.advance(11)
    with pytest.raises(TransportError):  # past its expiry: the network's error, as msal raises it
        app.acquire_token_silent(SCOPES, account)


def test_a_refused_refresh_token_is_not_covered_by_the_token_held(make_idp, clock):
    provider = make_idp()
    app = PublicClientApplication(NATIVE_CLIENT, oidc_authority=provider.issuer, clock=clock)
    app.acquire_token_by_username_password("bob", "bob-pw", SCOPES)
    (account,) = app.get_accounts()
    provider.revoke_user_refresh_tokens("bob")
    clock.advance(LIFETIME - 10)
    assert app.acquire_token_silent_with_error(SCOPES, account)["error"] == "invalid_grant"


@pytest.mark.parametrize("answer, held", [
    ((503, {}, {"error": "temporarily_unavailable"}), True),
    ((429, {"Retry-After": "30"}, {"error": "too_many_requests"}), True),
    ((401, {}, {"error": "invalid_client"}), False),
])
def test_the_apps_own_token_is_held_only_while_the_provider_does_not_answer(fake_server: FakeServer, clock,
                                                                             answer, held):
    issuer = fake_server.url + "/op"
    fake_server.route("GET", "/op/.well-known/openid-configuration",
                      (200, {}, {"issuer": issuer, "token_endpoint": issuer + "/token"}))
    fake_server.enqueue("POST", "/op/token", (200, {}, {"access_token": "at-1", "token_type": "Bearer",
                                                        "expires_in": 3600}), answer)
    app = ConfidentialClientApplication("app", "secret", oidc_authority=issuer, clock=clock, wait=clock.wait)
    assert app.acquire_token_for_client(["api"])["access_token"] == "at-1"
    clock.advance(3500)  # past its margin (3,420 s), before its expiry (the retries' waits move the clock too)
    result = app.acquire_token_for_client(["api"])
    if held:
        assert (result["access_token"], result["token_source"]) == ("at-1", "cache")
        assert clock.waits, "the HTTP retry did not wait through the application's wait seam"
    else:
        assert result["error"] == "invalid_client" and "access_token" not in result


@pytest.mark.parametrize("error, unanswered", [
    (TransportError("connection refused"), True),
    (OAuthError("temporarily_unavailable", status=400), True),
    (OAuthError("too_many_requests", status=429), True),
    (ProtocolError("not JSON", status=502), True),
    (OAuthError("invalid_grant", status=400), False),
    (OAuthError("invalid_client", status=401), False),
    (ProtocolError("not JSON", status=200), False),
])
def test_which_failures_mean_the_provider_did_not_answer(error, unanswered):
    assert provider_unanswered(error) is unanswered
