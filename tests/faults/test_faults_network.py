"""The provider failing every way a network can, against real HTTP on loopback.

Each fault: the caller gets MSAL's error dict or one of nbauth's documented exceptions
(``TransportError`` for the network, ``ProtocolError`` for an answer that is not OAuth,
``DiscoveryError`` before the provider is known), never anything else; the refresh token the
cache held is still in memory and in the file; and the next call succeeds once the fault clears.
"""
import time

import pytest
import requests

from nbauth import ConfidentialClientApplication, PublicClientApplication
from nbauth.provider.authority import discovery
from nbauth.cache import PersistedTokenCache
from nbauth.exceptions import DiscoveryError, ProtocolError, TransportError
from support.fake_http import DROP
from nbauth.tokens.refresh import RETRY_AFTER
from support.fake_provider import CLIENT_ID
from support.faults import (FAULTS, OUTCOME, SCOPES, TIMEOUT, TOKEN_LIFETIME, Device, Faults, assert_kept, make_app,
                            refresh_tokens_on_disk, sign_in, truncated)

pytestmark = pytest.mark.timeout(60)


@pytest.fixture
def faults(provider):
    """The token endpoint, on cue."""
    faults = Faults(provider.server, "/fake/token", provider.token_endpoint)
    yield faults
    faults.clear()


@pytest.fixture
def app(provider, path, clock):
    return make_app(provider, path, clock)


def expect_failure(fault, call):
    """Run ``call`` during ``fault``: it returns the error dict or raises what OUTCOME says."""
    expected = OUTCOME[fault]
    if isinstance(expected, str):
        assert call()["error"] == expected
        return
    with pytest.raises(expected) as caught:
        call()
    assert type(caught.value) is expected  # not a subclass of another kind, nor requests' own


@pytest.mark.parametrize("fault", FAULTS)
def test_an_expired_token_whose_refresh_fails_keeps_the_refresh_token_and_recovers(app, faults, path, clock,
                                                                                   fault):
    first, account = sign_in(app)
    clock.advance(TOKEN_LIFETIME)  # the access token is expired: only a refresh can help
    faults.start(fault)
    expect_failure(fault, lambda: app.acquire_token_silent_with_error(SCOPES, account))
    assert_kept(app, path, first["refresh_token"])
    faults.clear()
    renewed = app.acquire_token_silent(SCOPES, account)
    assert renewed["token_source"] == "identity_provider" and renewed["access_token"] != first["access_token"]
    assert refresh_tokens_on_disk(path) == [renewed["refresh_token"]]  # the rotated one replaced it


@pytest.mark.parametrize("fault", FAULTS)
def test_a_token_due_for_refresh_is_served_through_any_fault(app, faults, provider, path, clock, fault):
    provider.extra_response["refresh_in"] = TOKEN_LIFETIME // 2
    first, account = sign_in(app)
    clock.advance(TOKEN_LIFETIME // 2 + 1)
    faults.start(fault)
    served = app.acquire_token_silent(SCOPES, account)  # at once, while a refresh fails behind it
    assert (served["token_source"], served["access_token"]) == ("cache", first["access_token"])
    app.service.wait_for_background(2 * TIMEOUT)
    assert_kept(app, path, first["refresh_token"])
    faults.clear()
    clock.advance(RETRY_AFTER)  # a failed background refresh is tried again after a pause
    assert app.acquire_token_silent(SCOPES, account)["access_token"] == first["access_token"]
    app.service.wait_for_background(2 * TIMEOUT)
    assert app.acquire_token_silent(SCOPES, account)["access_token"] != first["access_token"]


def app_token(request) -> tuple:
    """A client-credentials answer: an access token only (no user, so no ID or refresh token)."""
    return 200, {}, {"access_token": f"app-at-{time.monotonic_ns()}", "token_type": "Bearer", "expires_in": 3600}


@pytest.mark.parametrize("fault", FAULTS)
def test_client_credentials_fail_cleanly_and_recover(faults, provider, tmp_path, fault):
    faults.normal = app_token
    app = ConfidentialClientApplication(CLIENT_ID, "secret", oidc_authority=provider.issuer, timeout=TIMEOUT,
                                        token_cache=PersistedTokenCache(tmp_path / "token_cache.json"))
    app.acquire_token_for_client(SCOPES)  # the provider is known; no token is cached now:
    app.remove_tokens_for_client()
    faults.start(fault)
    expect_failure(fault, lambda: app.acquire_token_for_client(SCOPES))
    faults.clear()
    assert app.acquire_token_for_client(SCOPES)["token_source"] == "identity_provider"
    assert app.acquire_token_for_client(SCOPES)["token_source"] == "cache"


def test_a_429_with_a_short_retry_after_is_waited_out_within_the_call(app, faults, provider, path, clock):
    first, account = sign_in(app)
    clock.advance(TOKEN_LIFETIME)
    provider.server.enqueue("POST", "/fake/token", (429, {"Retry-After": "1"}, "slow down"))
    before, started = faults.requests(), time.monotonic()
    renewed = app.acquire_token_silent(SCOPES, account)
    assert renewed["token_source"] == "identity_provider" and time.monotonic() - started >= 1
    assert faults.requests() == before + 2  # refused once, then the refresh token redeemed once
    assert refresh_tokens_on_disk(path) == [renewed["refresh_token"]]


def test_a_consumable_grant_is_sent_once_through_a_reset(app, faults, clock):
    """A refresh token the provider may have redeemed is never sent twice (it would be reuse)."""
    first, account = sign_in(app)
    clock.advance(TOKEN_LIFETIME)
    before = faults.requests()
    faults.start("reset")
    with pytest.raises(TransportError):
        app.acquire_token_silent(SCOPES, account)
    assert faults.requests() == before + 1


def test_a_truncated_body_read_late_by_an_injected_client_is_a_transport_error(provider, clock):
    session = requests.Session()
    session.stream = True  # the body is read when nbauth asks for it, after post() returned
    app = PublicClientApplication(CLIENT_ID, oidc_authority=provider.issuer, http_client=session, clock=clock)
    provider.server.enqueue("POST", "/fake/token", truncated(None))
    with pytest.raises(TransportError, match="/fake/token"):  # a refresh token is sent once only
        app.acquire_token_by_refresh_token("rt-from-elsewhere", SCOPES)
    assert "access_token" in app.acquire_token_by_refresh_token("rt-from-elsewhere", SCOPES)


def test_the_provider_down_at_first_use_is_a_discovery_error_until_it_is_back(faults, provider, path, clock):
    app = make_app(provider, path, clock)
    faults.start("down")
    with pytest.raises(DiscoveryError, match="could not fetch the OpenID configuration"):
        app.acquire_token_by_username_password("alice", "pw", SCOPES)
    faults.clear()
    sign_in(app)  # a failed discovery is not remembered


def test_a_new_process_with_a_warm_cache_is_served_while_the_provider_is_down(faults, provider, path, clock):
    first, _ = sign_in(make_app(provider, path, clock))
    discovery.clear()  # what a new kernel starts with
    app = make_app(provider, path, clock)
    (account,) = app.get_accounts()
    faults.start("down")
    assert app.acquire_token_silent(SCOPES, account)["access_token"] == first["access_token"]


# ---- device code ------------------------------------------------------------------------------
@pytest.fixture
def device(provider):
    device = Device(provider)
    yield device
    device.endpoint.clear()
    device.token.clear()


@pytest.mark.parametrize("fault", FAULTS)
def test_starting_a_device_flow_fails_cleanly_and_recovers(app, device, fault):
    app.initiate_device_flow(SCOPES)  # the provider is known
    device.endpoint.start(fault)
    expect_failure(fault, lambda: app.initiate_device_flow(SCOPES))
    device.endpoint.clear()
    assert app.initiate_device_flow(SCOPES)["user_code"] == "FAULT-1"


def test_a_dropped_poll_is_retried_and_the_sign_in_completes(app, device):
    flow = app.initiate_device_flow(SCOPES)
    device.provider.server.enqueue("POST", "/fake/token", DROP)
    device.approve()
    assert "access_token" in app.acquire_token_by_device_flow(flow)
    assert device.token.requests() == 2


@pytest.mark.parametrize("fault", ["down", "slow", "reset"])
def test_an_outage_while_polling_ends_the_wait_and_the_same_flow_resumes(app, device, path, fault):
    flow = app.initiate_device_flow(SCOPES)
    device.token.start(fault)
    with pytest.raises(TransportError):
        app.acquire_token_by_device_flow(flow)
    device.token.clear()
    device.approve()
    result = app.acquire_token_by_device_flow(flow)  # the code is still valid at the provider
    assert "access_token" in result
    assert refresh_tokens_on_disk(path) == [result["refresh_token"]]


# ---- the provider gone between its answer and the check of the ID token ------------------------
class KeysUnreachable(requests.Session):
    """An http_client whose requests for ``jwks_uri`` fail while ``failing`` is set."""

    def __init__(self, jwks_uri: str):
        super().__init__()
        self.jwks_uri = jwks_uri
        self.failing = False

    def request(self, method, url, *args, **kwargs):
        if self.failing and url == self.jwks_uri:
            raise requests.ConnectionError("the provider went away")
        return super().request(method, url, *args, **kwargs)


def test_a_refresh_answered_just_before_an_outage_keeps_its_rotated_refresh_token(idp, tmp_path):
    from idp.server import NATIVE_CLIENT, USERS
    from nbauth.provider.jwks import jwks_cache

    session = KeysUnreachable(idp.metadata()["jwks_uri"])
    app = PublicClientApplication(NATIVE_CLIENT, oidc_authority=idp.issuer, http_client=session,
                                  token_cache=PersistedTokenCache(tmp_path / "token_cache.json"))
    assert "access_token" in app.acquire_token_by_username_password("alice", USERS["alice"], SCOPES)
    (account,) = app.get_accounts()
    jwks_cache.clear()  # as in a new process: the provider's keys are not known yet
    session.failing = True
    with pytest.raises((TransportError, ProtocolError)):
        app.acquire_token_silent(SCOPES, account, force_refresh=True)  # the provider did rotate the token
    session.failing = False
    renewed = app.acquire_token_silent_with_error(SCOPES, account, force_refresh=True)
    assert "access_token" in renewed, renewed
