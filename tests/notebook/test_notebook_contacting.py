"""The notebook widget's sign-in never waits on the network in the cell (in-process, real HTTP on
loopback): "Contacting <provider>..." while a hung provider is asked in the background, a saved
sign-in taken at once, setup errors as one sentence naming the client id or authority and raised by
``token()`` as one line, a refused refresh token's new sign-in revealed where ``token()`` was asked."""
from __future__ import annotations

import pickle
import threading
import time
import traceback
from pathlib import Path
from urllib.parse import urlsplit

import pytest

import nbauth
from nbauth.exceptions import DiscoveryError, OAuthError
from nbauth.provider.authority import discovery
from nbauth.ui import Status
from nbauth.ui.text import status_line
from nbauth.ui.widget import WidgetPresenter
from support.fake_provider import CLIENT_ID, FakeProvider
from support.faults import SCOPES, Device
from support.held import held

pytestmark = pytest.mark.timeout(60)
#: A cell that returns within this has not waited on a provider round trip that hangs.
AT_ONCE = 1.0


@pytest.fixture
def provider(fake_server) -> FakeProvider:
    """A fake provider whose access tokens last a minute (its ID tokens five, in real time)."""
    provider = FakeProvider(fake_server)
    provider.extra_response = {"expires_in": 60}
    return provider


@pytest.fixture
def device(provider) -> Device:
    return Device(provider)


def login(provider, **options):
    options.setdefault("cache", nbauth.SerializableTokenCache())
    options.setdefault("method", "device")
    return nbauth.login(CLIENT_ID, oidc_authority=provider.issuer, scopes=SCOPES, ui="widget", timeout=0.5,
                        **options)


def test_login_returns_at_once_while_a_hung_provider_is_contacted(provider, device):
    release = held(provider.server, "GET", "/fake/.well-known/openid-configuration",
                   lambda request: (200, {}, provider.metadata()))
    try:
        started = time.perf_counter()
        me = login(provider)
        assert time.perf_counter() - started < AT_ONCE
        assert (me.status, me.state.method, me.presenter.state.method) == (Status.WAITING, "contacting", "contacting")
        assert status_line(me.state) == f"Contacting {urlsplit(provider.issuer).netloc}\u2026"
    finally:
        release.set()
    assert me.wait_until(lambda state: state.user_code, 30) and me.state.user_code == "FAULT-1"
    device.approve()
    assert me.token(timeout=30) and me.status is Status.SIGNED_IN


def test_cancel_while_contacting_ends_it_at_once_and_the_late_code_is_dropped(provider, device):
    release = held(provider.server, "POST", "/fake/device", lambda request: (200, {}, {
        "device_code": "dc-late", "user_code": "LATE-1", "verification_uri": provider.base + "/verify",
        "expires_in": 600, "interval": 1}))
    me = login(provider)
    provider.server.wait_for_requests(1, path="/fake/device", timeout=30)
    started = time.perf_counter()
    me.cancel()
    assert time.perf_counter() - started < AT_ONCE and me.status is Status.CANCELLED
    release.set()
    me._thread.join(30)  # the background contact ended
    assert me.status is Status.CANCELLED and me.state.user_code == "" and device.token.requests() == 0


def test_a_saved_sign_in_is_taken_in_the_cell_without_a_request(provider, tmp_path):
    cache_path = tmp_path / "token_cache.json"
    app = provider.app(token_cache=nbauth.PersistedTokenCache(cache_path))
    assert "access_token" in app.acquire_token_by_username_password("alice", "pw", SCOPES)
    discovery.clear()  # a new kernel: the provider's configuration comes from the cache file
    asked = len(provider.server.requests)
    me = login(provider, cache=nbauth.PersistedTokenCache(cache_path), keep_fresh=False)
    assert me.status is Status.SIGNED_IN and len(provider.server.requests) == asked


def test_a_saved_sign_in_that_needs_a_refresh_is_renewed_behind_the_cell(provider, tmp_path, clock):
    cache = nbauth.PersistedTokenCache(tmp_path / "token_cache.json", clock=clock)
    assert "access_token" in provider.app(token_cache=cache, clock=clock).acquire_token_by_username_password(
        "alice", "pw", SCOPES)
    clock.advance(60)  # the access token expired: only the provider can give one
    release = held(provider.server, "POST", "/fake/token", provider.token_endpoint)
    try:
        started = time.perf_counter()
        me = login(provider, cache=cache, clock=clock, keep_fresh=False)
        assert time.perf_counter() - started < AT_ONCE and me.state.method == "contacting"
    finally:
        release.set()
    assert me.wait_for("signed_in", 30) and me.token(timeout=0)
    assert provider.server.requests_to("/fake/device") == []  # renewed, nobody asked


def wrong_client(provider):
    provider.server.route("POST", "/fake/device", (401, {}, {
        "error": "invalid_client", "error_description": "client not found\r\nTrace ID: 0000\r\nTimestamp: now"}))
    return OAuthError, [f"the provider at {provider.issuer} refused the client id {CLIENT_ID}: check it",
                        "it said invalid_client: client not found"]


def unknown_authority(provider):
    provider.server.route("GET", "/fake/.well-known/openid-configuration", (404, {}, "Not Found"))
    return DiscoveryError, [f"could not use the provider at {provider.issuer}", "answered HTTP 404",
                            "check the authority URL"]


def unreachable(provider):
    provider.server.stop()
    return DiscoveryError, [f"could not use the provider at {provider.issuer}", "connection failed",
                            "check the authority URL", "network"]


@pytest.mark.parametrize("setup", [wrong_client, unknown_authority, unreachable])
def test_a_sign_in_that_cannot_start_says_why_in_one_sentence_and_token_raises_one_line(provider, setup):
    kind, sentence = setup(provider)
    started = time.perf_counter()
    me = login(provider)
    assert time.perf_counter() - started < AT_ONCE
    assert me.wait_for("error", 30)
    shown = status_line(me.presenter.state)
    assert shown.startswith("Sign-in failed: ") and all(part in shown for part in sentence), shown
    with pytest.raises(kind) as caught:
        me.token()
    error = caught.value
    assert type(error) is kind  # the type MSAL users catch
    [line] = error._render_traceback_()  # what IPython shows instead of a traceback
    assert line.startswith(f"{kind.__name__}: ") and all(part in line for part in sentence) and "\n" not in line
    nbauth_frames = [frame for frame in traceback.extract_tb(error.__traceback__)
                     if Path(frame.filename).resolve().is_relative_to(Path(nbauth.__file__).parent)]
    assert [frame.name for frame in nbauth_frames] == ["token"]  # raised from the public frame
    assert pickle.loads(pickle.dumps(error))._render_traceback_() == [line]


def test_a_refused_refresh_token_found_by_token_starts_a_sign_in_revealed_in_the_asking_cell(
        provider, device, clock, monkeypatch):
    revealed = []
    monkeypatch.setattr(WidgetPresenter, "reveal", lambda presenter: revealed.append(presenter.state))
    device.approve()  # every code is approved at its first poll
    me = login(provider, clock=clock, keep_fresh=False)
    assert me.wait_for("signed_in", 30) and revealed == []
    first = me.token(timeout=0)

    def refuse_refresh(request):
        if request.form.get("grant_type") == "refresh_token":
            return 400, {}, {"error": "invalid_grant", "error_description": "refresh token revoked"}
        return device._poll(request)

    device.token.answer = refuse_refresh
    clock.advance(60)  # the access token expired: the refresh token is needed, and refused
    second = me.token(timeout=30)
    assert second != first and me.status is Status.SIGNED_IN
    assert len(revealed) == 1 and len(provider.server.requests_to("/fake/device")) == 2


def test_by_default_token_waits_as_long_as_the_code_lives_and_says_why_it_ended(provider):
    provider.server.route("POST", "/fake/device", (200, {}, {
        "device_code": "dc-short", "user_code": "SHORT-1", "verification_uri": provider.base + "/verify",
        "expires_in": 2, "interval": 1}))
    provider.server.route("POST", "/fake/token", (400, {}, {"error": "authorization_pending"}))
    me = login(provider)
    with pytest.raises(OAuthError) as caught:
        me.token()  # no timeout given: not a SignInTimeout, the code's own end
    assert caught.value.error == "expired_token" and me.status is Status.EXPIRED


def test_a_cell_waiting_in_token_while_the_provider_is_contacted_gets_a_code_not_the_browser_choice(
        provider, device):
    release = held(provider.server, "GET", "/fake/.well-known/openid-configuration",
                   lambda request: (200, {}, provider.metadata()))
    me = login(provider, method="auto")  # the provider has an authorization endpoint: the browser is offered
    device.approve()
    waiting = threading.Thread(target=me.token, kwargs={"timeout": 30})
    waiting.start()  # Run All: the next cell waits in token() before the provider answered
    assert me.wait_until(lambda state: me._cells_waiting, 30)
    release.set()
    waiting.join(30)
    assert me.status is Status.SIGNED_IN and len(provider.server.requests_to("/fake/device")) == 1
