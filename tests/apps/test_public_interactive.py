"""Interactive sign-in: authorization code + PKCE with a loopback redirect, the browser played
by a test thread (tests/idp/browser.py against the real provider; by hand against a fake)."""
import threading
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
import requests

from support.fake_provider import CLIENT_ID, FakeProvider
from idp.browser import login
from idp.server import NATIVE_CLIENT
from nbauth import PublicClientApplication
from nbauth.exceptions import FlowError
from nbauth.protocol.pkce import challenge_s256

SCOPES = ["api:read"]


def query(url):
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}


class Browser:
    """An ``open_browser`` for the app: runs ``script(url)`` in a thread, records what it saw."""

    def __init__(self, script):
        self.script = script
        self.urls, self.pages = [], []
        self.done = threading.Event()

    def __call__(self, url):
        self.urls.append(url)
        threading.Thread(target=self._run, args=(url,), daemon=True).start()
        return True

    def _run(self, url):
        try:
            self.script(self, url)
        finally:
            self.done.set()

    def visit(self, url):
        page = requests.get(url, timeout=10)
        self.pages.append(page)
        return page


def person(idp, user="alice"):
    """A person signing in at the real provider's pages."""
    return Browser(lambda browser, url: browser.visit(login(url, user, verify=idp.ca_path)))


@pytest.fixture
def app(idp):
    return PublicClientApplication(NATIVE_CLIENT, oidc_authority=idp.issuer)


def sign_in(app, browser, **kwargs):
    kwargs.setdefault("redirect_uri", "http://127.0.0.1/callback")
    return app.acquire_token_interactive(SCOPES, open_browser=browser, timeout=30, **kwargs)


def test_a_headless_sign_in_gets_tokens_and_shows_the_success_page(app, idp, capsys):
    browser = person(idp, "bob")
    launched = []
    result = sign_in(app, browser, login_hint="bob", prompt="login",
                     on_before_launching_ui=lambda **kw: launched.append(kw))
    assert result["token_source"] == "identity_provider" and result["id_token_claims"]["sub"] == "bob"
    assert launched == [{"ui": "browser"}]
    params = query(browser.urls[0])
    assert (params["code_challenge_method"], params["login_hint"], params["prompt"]) == ("S256", "bob", "login")
    assert params["redirect_uri"].startswith("http://127.0.0.1:") and params["redirect_uri"].endswith("/callback")
    assert browser.done.wait(5) and browser.pages[-1].status_code == 200
    assert "Authentication completed" in browser.pages[-1].text
    assert browser.urls[0] in capsys.readouterr().out  # the link is printed for copying
    assert [a["username"] for a in app.get_accounts()] == ["bob@example.test"]


def test_a_redirect_with_another_state_is_ignored_and_the_real_one_still_wins(app, idp):
    def script(browser, url):
        redirect_uri = query(url)["redirect_uri"]
        browser.visit(f"{redirect_uri}?{urlencode({'code': 'forged', 'state': 'not-this-one'})}")
        browser.visit(login(url, "alice", verify=idp.ca_path))

    browser = Browser(script)
    result = sign_in(app, browser)
    assert result["id_token_claims"]["sub"] == "alice"
    assert browser.done.wait(5)  # the app may have the code before the browser has its page
    assert [p.status_code for p in browser.pages] == [400, 200]
    assert "does not belong to the sign-in" in browser.pages[0].text


def test_no_response_in_time_raises_and_frees_the_port(app):
    idle = Browser(lambda browser, url: None)
    with pytest.raises(FlowError, match="within 0.3 s"):
        app.acquire_token_interactive(SCOPES, open_browser=idle, timeout=0.3)
    with pytest.raises(requests.ConnectionError):
        requests.get(query(idle.urls[0])["redirect_uri"], timeout=5)


# ---- what the real provider would not do, played by a fake one --------------------------------
@pytest.fixture
def provider(fake_server):
    return FakeProvider(fake_server)


@pytest.fixture
def fake_app(provider):
    return PublicClientApplication(CLIENT_ID, oidc_authority=provider.issuer)


def redirect_back(provider, **answer):
    """A browser that goes straight back to the app with ``answer`` plus the request's state."""
    def script(browser, url):
        params = query(url)
        provider.nonce = answer.pop("nonce", params["nonce"])
        fields = {"code": "code-1", "state": params["state"], "iss": provider.issuer, **answer}
        browser.visit(f"{params['redirect_uri']}?{urlencode({k: v for k, v in fields.items() if v})}")
    return Browser(script)


def test_the_code_is_redeemed_with_the_pkce_verifier_and_redirect_uri(fake_app, provider):
    browser = redirect_back(provider)
    result = fake_app.acquire_token_interactive(SCOPES, open_browser=browser, timeout=10)
    assert result["token_source"] == "identity_provider"
    params, form = query(browser.urls[0]), provider.token_requests()[-1].form
    assert (form["grant_type"], form["code"], form["redirect_uri"]) == ("authorization_code", "code-1",
                                                                       params["redirect_uri"])
    assert params["redirect_uri"].startswith("http://localhost:")  # MSAL's default redirect URI
    assert challenge_s256(form["code_verifier"]) == params["code_challenge"]


def test_an_id_token_with_another_nonce_is_rejected_and_nothing_cached(fake_app, provider):
    result = fake_app.acquire_token_interactive(SCOPES, open_browser=redirect_back(provider, nonce="other"),
                                                timeout=10)
    assert result["error"] == "invalid_id_token" and "nonce" in result["error_description"]
    assert fake_app.get_accounts() == [] and list(fake_app.token_cache.search("AccessToken")) == []


def test_a_replayed_id_token_from_an_earlier_sign_in_is_rejected(fake_app, provider):
    first = redirect_back(provider)
    assert "access_token" in fake_app.acquire_token_interactive(SCOPES, open_browser=first, timeout=10)
    earlier_nonce = query(first.urls[0])["nonce"]
    result = fake_app.acquire_token_interactive(SCOPES, open_browser=redirect_back(provider, nonce=earlier_nonce),
                                                timeout=10)
    assert result["error"] == "invalid_id_token" and "nonce" in result["error_description"]


def test_the_providers_error_is_the_result_and_the_page_escapes_it(fake_app, provider):
    browser = redirect_back(provider, code=None, error="access_denied", error_description="<b>no</b>")
    result = fake_app.acquire_token_interactive(SCOPES, open_browser=browser, timeout=10)
    assert (result["error"], result["error_description"]) == ("access_denied", "<b>no</b>")
    assert browser.done.wait(5) and "&lt;b&gt;no&lt;/b&gt;" in browser.pages[0].text
    assert provider.token_requests() == []


def test_a_response_from_another_issuer_is_refused(fake_app, provider):
    with pytest.raises(FlowError, match="issuer 'https://evil.test'"):
        fake_app.acquire_token_interactive(SCOPES, open_browser=redirect_back(provider, iss="https://evil.test"),
                                           timeout=10)
    assert provider.token_requests() == []
