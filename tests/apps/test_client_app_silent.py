"""Silent acquisition: the cache first, then the account's refresh token (rotated ones kept)."""
import threading

import pytest

from support.fake_provider import CLIENT_ID, FakeProvider
from idp.server import NATIVE_CLIENT
from nbauth import PublicClientApplication
from nbauth.exceptions import ConfigurationError
from nbauth.tokens.refresh import RETRY_AFTER

SCOPES = ["api:read"]


@pytest.fixture
def app(idp, clock):
    return PublicClientApplication(NATIVE_CLIENT, oidc_authority=idp.issuer, clock=clock)


def sign_in(app, user="alice"):
    result = app.acquire_token_by_username_password(user, f"{user}-pw", SCOPES)
    assert "access_token" in result, result
    return result


def account_of(app, user="alice"):
    (account,) = app.get_accounts(username=f"{user}@example.test")
    return account


def refresh_tokens(app):
    return [e["secret"] for e in app.token_cache.search("RefreshToken")]


def test_a_cached_token_is_served_without_asking_the_provider(app, idp):
    first = sign_in(app)
    requests_before = len(idp.request_log())
    result = app.acquire_token_silent(["API:Read"], account_of(app))
    assert (result["token_source"], result["access_token"]) == ("cache", first["access_token"])
    assert result["scope"] == "api:read" and 0 < result["expires_in"] <= 300
    assert len(idp.request_log()) == requests_before


def test_a_five_minute_token_is_served_from_the_cache_for_most_of_its_life(app, idp, clock):
    first = sign_in(app)
    clock.advance(265)  # before its renewal window (nine tenths through its life: 270 s)
    requests_before = len(idp.request_log())
    assert app.acquire_token_silent(SCOPES, account_of(app))["access_token"] == first["access_token"]
    app.service.wait_for_background(10)
    assert len(idp.request_log()) == requests_before


def test_in_its_renewal_window_a_token_is_served_while_one_refresh_runs_behind(app, idp, clock):
    first = sign_in(app)
    clock.advance(275)  # in its renewal window (270 s until its expiry margin at 285 s)
    refreshes = idp.count("refresh_token")
    served = [app.acquire_token_silent(SCOPES, account_of(app)) for _ in range(5)]
    assert {(r["token_source"], r["access_token"]) for r in served} == {("cache", first["access_token"])}
    app.service.wait_for_background(10)
    assert idp.count("refresh_token") == refreshes + 1
    renewed = app.acquire_token_silent(SCOPES, account_of(app))
    assert renewed["token_source"] == "cache" and renewed["access_token"] != first["access_token"]


def test_near_expiry_the_refresh_token_is_used_and_its_rotation_stored(app, idp, clock):
    first = sign_in(app)
    refreshes = idp.count("refresh_token")
    clock.advance(290)  # past its expiry margin (285 s)
    second = app.acquire_token_silent(SCOPES, account_of(app))
    assert second["token_source"] == "identity_provider" and second["access_token"] != first["access_token"]
    assert idp.count("refresh_token") == refreshes + 1
    assert refresh_tokens(app) == [second["refresh_token"]] != [first["refresh_token"]]
    third = app.acquire_token_silent(SCOPES, account_of(app), force_refresh=True)  # redeems the stored one
    assert third["token_source"] == "identity_provider" and refresh_tokens(app) == [third["refresh_token"]]
    reuse = PublicClientApplication(NATIVE_CLIENT, oidc_authority=idp.issuer)
    assert reuse.acquire_token_by_refresh_token(first["refresh_token"], SCOPES)["error"] == "invalid_grant"


def test_force_refresh_skips_a_fresh_cached_token(app, idp):
    first = sign_in(app)
    result = app.acquire_token_silent(SCOPES, account_of(app), force_refresh=True)
    assert result["token_source"] == "identity_provider" and result["access_token"] != first["access_token"]


def test_a_revoked_refresh_token_is_an_error_result_once_the_token_expired(app, idp, clock):
    sign_in(app, "bob")
    idp.revoke_user_refresh_tokens("bob")
    clock.advance(3600)
    result = app.acquire_token_silent_with_error(SCOPES, account_of(app, "bob"))
    assert result["error"] == "invalid_grant" and "access_token" not in result
    assert app.acquire_token_silent(SCOPES, account_of(app, "bob")) is None


def test_each_account_gets_its_own_tokens(app):
    alice, bob = sign_in(app, "alice"), sign_in(app, "bob")
    assert app.acquire_token_silent(SCOPES, account_of(app, "bob"))["access_token"] == bob["access_token"]
    assert app.acquire_token_silent(SCOPES, account_of(app, "alice"))["access_token"] == alice["access_token"]
    assert sorted(a["username"] for a in app.get_accounts()) == ["alice@example.test", "bob@example.test"]


def test_no_account_or_an_empty_cache_gives_none(app, idp):
    assert app.acquire_token_silent(SCOPES, None) is None
    stranger = {"home_account_id": "nobody", "environment": "127.0.0.1"}
    assert app.acquire_token_silent_with_error(SCOPES, stranger) is None


def test_reserved_scopes_are_refused_here_too(app):
    with pytest.raises(ConfigurationError, match="openid"):
        app.acquire_token_silent(["openid"], {"home_account_id": "x", "environment": "y"})


def test_username_filter_is_case_insensitive_and_remove_account_forgets_everything(app):
    sign_in(app)
    account = account_of(app)
    assert app.get_accounts(username="ALICE@Example.Test") == [account]
    assert app.get_accounts(username="carol@example.test") == []
    app.remove_account(account)
    assert app.get_accounts() == []
    for kind in ("AccessToken", "RefreshToken", "IdToken", "Account"):
        assert list(app.token_cache.search(kind)) == [], kind
    assert app.acquire_token_silent(SCOPES, account) is None


def test_a_refresh_token_from_elsewhere_is_redeemed_and_cached(app, idp, clock):
    elsewhere = PublicClientApplication(NATIVE_CLIENT, oidc_authority=idp.issuer)
    old = sign_in(elsewhere)
    result = app.acquire_token_by_refresh_token(old["refresh_token"], SCOPES)
    assert result["token_source"] == "identity_provider" and result["id_token_claims"]["sub"] == "alice"
    assert refresh_tokens(app) == [result["refresh_token"]]
    assert app.acquire_token_silent(SCOPES, account_of(app))["access_token"] == result["access_token"]


# ---- refresh_on and fallbacks, against a scripted provider ------------------------------------
@pytest.fixture
def provider(fake_server):
    provider = FakeProvider(fake_server)
    provider.extra_response = {"refresh_in": 100}
    return provider


@pytest.fixture
def fake_app(provider, clock):
    return PublicClientApplication(CLIENT_ID, oidc_authority=provider.issuer, clock=clock)


def test_refresh_on_refreshes_early_behind_the_valid_token_and_waits_after_a_failure(fake_app, provider, clock):
    first = fake_app.acquire_token_by_username_password("alice", "pw", SCOPES)
    assert first["refresh_on"] == int(clock.now + 100) and "refresh_in" not in first
    account = account_of(fake_app)
    clock.advance(150)
    provider.server.enqueue("POST", "/fake/token", (503, {}, {"error": "temporarily_unavailable"}),
                            (400, {}, {"error": "temporarily_unavailable"}))
    sent = len(provider.token_requests())
    fallback = fake_app.acquire_token_silent(SCOPES, account)  # served while a refresh fails behind it
    assert (fallback["token_source"], fallback["access_token"]) == ("cache", first["access_token"])
    fake_app.service.wait_for_background(10)
    assert len(provider.token_requests()) > sent
    sent = len(provider.token_requests())
    assert fake_app.acquire_token_silent(SCOPES, account)["access_token"] == first["access_token"]
    fake_app.service.wait_for_background(10)
    assert len(provider.token_requests()) == sent  # no new attempt right after a failure
    clock.advance(RETRY_AFTER)
    fake_app.acquire_token_silent(SCOPES, account)
    fake_app.service.wait_for_background(10)
    refreshed = fake_app.acquire_token_silent(SCOPES, account)
    assert refreshed["token_source"] == "cache" and refreshed["access_token"] != first["access_token"]


def test_a_provider_outage_falls_back_to_the_valid_token(fake_app, provider, clock):
    first = fake_app.acquire_token_by_username_password("alice", "pw", SCOPES)
    account = account_of(fake_app)
    clock.advance(150)
    provider.server.stop()
    assert fake_app.acquire_token_silent(SCOPES, account)["access_token"] == first["access_token"]


def test_a_claims_challenge_skips_the_cache_and_is_sent(fake_app, provider):
    fake_app.acquire_token_by_username_password("alice", "pw", SCOPES)
    challenge = '{"access_token":{"acrs":{"essential":true,"value":"c1"}}}'
    result = fake_app.acquire_token_silent(SCOPES, account_of(fake_app), claims_challenge=challenge)
    assert result["token_source"] == "identity_provider"
    refresh = provider.token_requests()[-1].form
    assert (refresh["grant_type"], refresh["claims"]) == ("refresh_token", challenge)
    assert refresh["scope"].split() == ["api:read", "offline_access", "openid", "profile"]


def test_concurrent_callers_share_one_refresh(app, idp, clock):
    sign_in(app)
    account = account_of(app)
    clock.advance(290)
    refreshes = idp.count("refresh_token")
    results, start = [], threading.Barrier(4)

    def call():
        start.wait(5)
        results.append(app.acquire_token_silent(SCOPES, account))

    threads = [threading.Thread(target=call) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(20)
    assert idp.count("refresh_token") == refreshes + 1  # a second redemption would revoke the grant
    assert len({r["access_token"] for r in results}) == 1 and len(results) == 4
