"""The notebook handle through provider faults: a cell gets the documented error (or its token),
never a stuck handle; the next ``token()`` after the fault clears works without a new sign-in; a
code being polled for outlives a provider that stops answering (real HTTP on loopback)."""
import time

import pytest

import nbauth
from support.fake_provider import CLIENT_ID
from nbauth.cache import PersistedTokenCache
from nbauth.exceptions import OAuthError
from nbauth.ui import Status
from support.faults import (FAULTS, OUTCOME, SCOPES, TIMEOUT, TOKEN_LIFETIME, Device, Faults, assert_kept, make_app,
                            sign_in)

pytestmark = pytest.mark.timeout(60)


def handle(provider, path, clock, ui="none"):
    return nbauth.login(CLIENT_ID, oidc_authority=provider.issuer, scopes=SCOPES, ui=ui, clock=clock, timeout=TIMEOUT,
                        cache=PersistedTokenCache(path, clock=clock))


@pytest.mark.parametrize("fault", FAULTS)
def test_a_signed_in_handle_whose_refresh_fails_recovers_on_the_next_call(provider, tmp_path, clock, fault):
    path = tmp_path / "token_cache.json"
    first, _ = sign_in(make_app(provider, path, clock))
    me = handle(provider, path, clock)
    assert me.status is Status.SIGNED_IN  # silently, from the cache
    clock.advance(TOKEN_LIFETIME)
    faults = Faults(provider.server, "/fake/token", provider.token_endpoint)
    faults.start(fault)
    try:
        expected = OUTCOME[fault] if not isinstance(OUTCOME[fault], str) else OAuthError
        with pytest.raises(expected):
            me.token(timeout=0)
        assert_kept(me.app, path, first["refresh_token"])
    finally:
        faults.clear()
    assert me.token(timeout=0) != first["access_token"]  # refreshed, no new sign-in
    assert me.status is Status.SIGNED_IN


#: Provider faults while a code is polled for; ``Faults`` names, and a 429 asking to wait a second.
POLL_FAULTS = ["down", "outage mid-request", "slow", "reset", "500 html", "503 json", "429 retry-after"]


def start_poll_fault(device, fault: str) -> None:
    if fault == "429 retry-after":
        device.token.answer = lambda request: (429, {"Retry-After": "1"}, "Too Many Requests")
    else:
        device.token.start(fault)


@pytest.mark.parametrize("fault", POLL_FAULTS)
def test_a_provider_not_answering_while_the_handle_polls_is_ridden_out_and_the_same_code_completes(
        provider, tmp_path, fault):
    device = Device(provider)
    me = handle(provider, tmp_path / "token_cache.json", time.time, ui="terminal")  # polls on the real clock
    code = me.state.user_code
    start_poll_fault(device, fault)
    try:
        assert me.wait_until(lambda state: state.retrying, 30), me.state  # said, and still waiting
        assert me.status is Status.WAITING and me.state.user_code == code
    finally:
        device.token.clear()
    assert me.wait_until(lambda state: not state.retrying, 30), me.state  # the provider answers again
    device.approve()  # the person finishes with the code they were shown
    assert me.token(timeout=30) and me.status is Status.SIGNED_IN
    assert device.endpoint.requests() == 1  # no new code was asked for


def test_a_refused_refresh_token_is_no_fault_but_sign_in_needed(provider, tmp_path, clock):
    """Unlike a transient failure, a refresh token the provider refuses needs a person."""
    path = tmp_path / "token_cache.json"
    sign_in(make_app(provider, path, clock))
    me = handle(provider, path, clock)
    clock.advance(TOKEN_LIFETIME)
    faults = Faults(provider.server, "/fake/token", lambda request: (400, {}, {"error": "invalid_grant"}))
    with pytest.raises(OAuthError, match="invalid_grant"):
        me.token(timeout=0)
    assert me.status is Status.SIGN_IN_NEEDED
    asked = faults.requests()
    with pytest.raises(OAuthError, match="invalid_grant"):
        me.token(timeout=0)  # the handle says why, without asking the provider again
    assert faults.requests() == asked
