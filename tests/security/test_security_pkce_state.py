"""PKCE is S256 only; state and nonce are used once and compared in constant time (RFC 9700
sections 2.1.1 and 4.7, RFC 7636, OpenID Core 3.1.2.1).

Also covered elsewhere: the older auth-code pair refuses ``code_challenge_method='plain'``
(test_confidential_web.py), a replayed ID token from an earlier interactive sign-in is refused
(test_public_interactive.py), the listener answers a second callback with 409 (test_loopback.py).
"""
import hmac
import threading
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
import requests

from support.fake_provider import CLIENT_ID, FakeProvider
from nbauth.exceptions import ConfigurationError, FlowError
from nbauth.flows.loopback import LoopbackListener
from nbauth.protocol.authcode import new_authorization_request
from nbauth.protocol.pkce import Pkce, challenge_s256, new_pkce

SCOPES = ["api:read"]
REDIRECT_URI = "http://localhost:5000/callback"


def query(url):
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}


@pytest.fixture
def provider(fake_server):
    return FakeProvider(fake_server)


@pytest.fixture
def app(provider):
    return provider.app()


def answer_for(flow, provider, **changes):
    """The provider's redirect for ``flow``; the token it then issues carries the flow's nonce."""
    provider.nonce = flow["nonce"]
    return {"code": "code-1", "state": flow["state"], "iss": provider.issuer, **changes}


class RedirectingBrowser:
    """An ``open_browser`` that goes straight back to the listener with the request's state."""

    def __init__(self, provider):
        self.provider, self.urls = provider, []

    def __call__(self, url):
        self.urls.append(url)
        params = query(url)
        self.provider.nonce = params["nonce"]
        back = urlencode({"code": "c", "state": params["state"], "iss": self.provider.issuer})
        threading.Thread(target=requests.get, args=(f"{params['redirect_uri']}?{back}",),
                         kwargs={"timeout": 5}, daemon=True).start()


# ---- PKCE: S256, with a fresh verifier, wherever a challenge could be asked for ---------------------
@pytest.mark.parametrize("fields", [
    {"method": "plain"},
    {"challenge": "the-verifier-itself-" + "v" * 30},
    {"verifier": "short", "challenge": challenge_s256("short")},
])
def test_a_pkce_pair_that_is_not_s256_cannot_be_made(fields):
    verifier = "v" * 50
    with pytest.raises(ConfigurationError, match="S256 only"):
        Pkce(**{"verifier": verifier, "challenge": challenge_s256(verifier), **fields})


def test_so_no_sign_in_url_can_carry_a_plain_challenge():
    verifier = "v" * 50
    with pytest.raises(ConfigurationError, match="S256 only"):
        new_authorization_request("https://idp.test/auth", CLIENT_ID, REDIRECT_URI, SCOPES,
                                  pkce=Pkce(verifier, verifier, "plain"))


@pytest.mark.parametrize("option", [{"code_challenge_method": "plain"}, {"code_challenge": "x" * 43},
                                    {"code_verifier": "v" * 43}])
def test_interactive_sign_in_refuses_pkce_options(app, provider, option):
    with pytest.raises(ConfigurationError, match="fresh PKCE pair"):
        app.acquire_token_interactive(SCOPES, open_browser=RedirectingBrowser(provider), timeout=5, **option)
    assert provider.token_requests() == []


def test_a_provider_advertising_only_plain_still_gets_s256(app, provider):
    provider.metadata = lambda: dict(FakeProvider.metadata(provider), code_challenge_methods_supported=["plain"])
    browser = RedirectingBrowser(provider)
    assert "access_token" in app.acquire_token_interactive(SCOPES, open_browser=browser, timeout=10)
    flow = app.initiate_auth_code_flow(SCOPES, redirect_uri=REDIRECT_URI)
    for url in (browser.urls[0], flow["auth_uri"]):
        params = query(url)
        assert params["code_challenge_method"] == "S256" and len(params["code_challenge"]) == 43
    sent = provider.token_requests()[0].form
    assert challenge_s256(sent["code_verifier"]) == query(browser.urls[0])["code_challenge"]


def test_every_sign_in_gets_its_own_state_nonce_and_verifier(app):
    flows = [app.initiate_auth_code_flow(SCOPES, redirect_uri=REDIRECT_URI) for _ in range(3)]
    for key in ("state", "nonce", "code_verifier"):
        assert len({flow[key] for flow in flows}) == 3, key
    assert len({new_pkce().verifier for _ in range(3)}) == 3


# ---- state and nonce: each flow's answer is taken once ------------------------------------------------
def test_a_flow_dict_is_redeemed_once(app, provider):
    flow = app.initiate_auth_code_flow(SCOPES, redirect_uri=REDIRECT_URI)
    answer = answer_for(flow, provider)
    assert "access_token" in app.acquire_token_by_auth_code_flow(flow, answer)
    for replay in (answer, dict(answer, code="code-2"), dict(answer, error="access_denied")):
        with pytest.raises(FlowError, match="already used"):
            app.acquire_token_by_auth_code_flow(dict(flow), replay)
    assert len(provider.token_requests()) == 1  # the replays never reached the provider


def test_a_used_flow_is_used_up_for_other_application_objects_too(app, provider):
    """Web apps often build their application per request; the flow stays spent."""
    flow = app.initiate_auth_code_flow(SCOPES, redirect_uri=REDIRECT_URI)
    assert "access_token" in app.acquire_token_by_auth_code_flow(flow, answer_for(flow, provider))
    other = provider.app()
    with pytest.raises(FlowError, match="already used"):
        other.acquire_token_by_auth_code_flow(flow, answer_for(flow, provider, code="code-2"))


def test_a_refusal_uses_the_flow_up_too(app, provider):
    flow = app.initiate_auth_code_flow(SCOPES, redirect_uri=REDIRECT_URI)
    refused = app.acquire_token_by_auth_code_flow(flow, answer_for(flow, provider, code=None, error="access_denied"))
    assert refused["error"] == "access_denied"
    with pytest.raises(FlowError, match="already used"):
        app.acquire_token_by_auth_code_flow(flow, answer_for(flow, provider))
    assert provider.token_requests() == []


def test_an_answer_with_another_state_does_not_use_the_flow_up(app, provider):
    flow = app.initiate_auth_code_flow(SCOPES, redirect_uri=REDIRECT_URI)
    for forged in ("forged", "", flow["state"] + "x", flow["state"][:-1]):
        with pytest.raises(FlowError, match="state does not match"):
            app.acquire_token_by_auth_code_flow(flow, answer_for(flow, provider, state=forged))
    assert "access_token" in app.acquire_token_by_auth_code_flow(flow, answer_for(flow, provider))


def test_misuse_before_the_answer_is_checked_does_not_use_the_flow_up(app, provider):
    flow = app.initiate_auth_code_flow(SCOPES, redirect_uri=REDIRECT_URI)
    with pytest.raises(FlowError, match="subset"):
        app.acquire_token_by_auth_code_flow(flow, answer_for(flow, provider), scopes=["other:scope"])
    assert "access_token" in app.acquire_token_by_auth_code_flow(flow, answer_for(flow, provider))


def test_a_token_carrying_another_flows_nonce_is_refused(app, provider):
    earlier = app.initiate_auth_code_flow(SCOPES, redirect_uri=REDIRECT_URI)
    flow = app.initiate_auth_code_flow(SCOPES, redirect_uri=REDIRECT_URI)
    answer = answer_for(flow, provider)
    provider.nonce = earlier["nonce"]
    result = app.acquire_token_by_auth_code_flow(flow, answer)
    assert result["error"] == "invalid_id_token" and "nonce" in result["error_description"]
    with pytest.raises(FlowError, match="already used"):  # nor can the flow be tried again
        app.acquire_token_by_auth_code_flow(flow, answer)


# ---- constant-time comparisons ----------------------------------------------------------------------
@pytest.fixture
def compare_spy(monkeypatch):
    """Every hmac.compare_digest call's arguments, as the real function still answers them."""
    calls = []
    real = hmac.compare_digest

    def spy(a, b):
        calls.append((a, b))
        return real(a, b)

    monkeypatch.setattr(hmac, "compare_digest", spy)
    return calls


def compared(calls, secret):
    encoded = secret.encode()
    return [call for call in calls if encoded in call]


def test_the_web_flows_state_and_nonce_go_through_compare_digest(app, provider, compare_spy):
    flow = app.initiate_auth_code_flow(SCOPES, redirect_uri=REDIRECT_URI)
    assert "access_token" in app.acquire_token_by_auth_code_flow(flow, answer_for(flow, provider))
    assert (flow["state"].encode(), flow["state"].encode()) in compared(compare_spy, flow["state"])
    assert (flow["nonce"].encode(), flow["nonce"].encode()) in compared(compare_spy, flow["nonce"])


def test_a_forged_state_is_refused_by_compare_digest(app, provider, compare_spy):
    flow = app.initiate_auth_code_flow(SCOPES, redirect_uri=REDIRECT_URI)
    with pytest.raises(FlowError):
        app.acquire_token_by_auth_code_flow(flow, answer_for(flow, provider, state="forged"))
    assert (b"forged", flow["state"].encode()) in compare_spy


def test_the_listener_and_interactive_sign_in_compare_through_compare_digest(app, provider, compare_spy):
    browser = RedirectingBrowser(provider)
    assert "access_token" in app.acquire_token_interactive(SCOPES, open_browser=browser, timeout=10)
    params = query(browser.urls[0])
    assert compared(compare_spy, params["state"]) and compared(compare_spy, params["nonce"])
    with LoopbackListener("s-1") as listener:
        assert listener.offer("/?code=c&state=s-2")[0] == 400
    assert (b"s-2", b"s-1") in compare_spy
