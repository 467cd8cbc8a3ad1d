"""Browser sign-in on a real JupyterHub (issue 16): two users of one hub sign in from their own
servers at ``/user/<name>/lab`` with the one redirect URI registered at the hub's origin
(``/hub/user-redirect/nbauth/callback``), and each gets their own tokens in their own cache."""
from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from playwright.sync_api import expect

from browser.conftest import ARTIFACTS
from browser.hub import Hub
from browser.notebook_page import WAIT_MS, NotebookPage, sign_in_in_popup, write_notebook
from browser.test_browser_sign_in import signed_in_line
from idp.server import EMAILS

pytestmark = pytest.mark.browser

NOTEBOOK = "sign_in.ipynb"


@pytest.fixture(scope="module")
def hub(tmp_path_factory, trust_session_ca):
    """One hub for the module; its users' kernels trust the provider's CA and show the widget."""
    trust = {"REQUESTS_CA_BUNDLE": trust_session_ca, "SSL_CERT_FILE": trust_session_ca}
    hub = Hub(tmp_path_factory.mktemp("hub"), {"NBAUTH_UI": "widget", **trust}).start()
    yield hub
    hub.stop()


def cache_of(hub: Hub, user: str) -> Path:
    """Where the user's kernel keeps nbauth's per-user cache (no NBAUTH_CACHE_PATH: under its HOME)."""
    return hub.home(user) / ".cache" / "nbauth" / "token_cache.json"


def cached_accounts(path: Path) -> set:
    """The usernames of the cache's accounts; every token in it belongs to one of them."""
    document = json.loads(path.read_text())
    accounts = {entry["home_account_id"]: entry["username"] for entry in document["Account"].values()}
    assert document["AccessToken"] and document["RefreshToken"]
    for section in ("AccessToken", "RefreshToken", "IdToken"):
        assert {entry["home_account_id"] for entry in document[section].values()} <= accounts.keys()
    return set(accounts.values())


def sign_in_on_hub(hub: Hub, chromium, idp, user: str, screenshot: bool) -> list:
    """``user`` logs in to the hub, opens their notebook at /user/<name>/lab and signs in through the
    browser; the URLs their browser requested."""
    home = hub.home(user)
    home.mkdir(parents=True, exist_ok=True)
    write_notebook(home, NOTEBOOK, [  # as the quickstart: nbauth's per-user cache, no cache argument
        f"import nbauth\ns = nbauth.login('nbauth-native', oidc_authority={idp.issuer!r}, scopes=['api:read'])",
        "print('token', len(s.token(timeout=30)) > 20, s.account['username'])",
    ])
    context = chromium.new_context(viewport={"width": 1100, "height": 800}, ignore_https_errors=True)
    requested: list = []
    context.on("request", lambda request: requested.append(request.url))
    try:
        page = context.new_page()
        page.goto(f"{hub.url}/hub/login")
        page.locator("input[name=username]").fill(user)
        page.locator("input[name=password]").fill("any password")
        page.locator("#login_submit").click()
        page.wait_for_url(f"{hub.url}/user/{user}/**", timeout=WAIT_MS)  # the hub spawned their server
        nb = NotebookPage(page, hub.page_url(user, NOTEBOOK))
        out = nb.run(0)
        start = out.get_by_role("button", name="Sign in with browser")
        with page.expect_popup(timeout=WAIT_MS) as opened:
            start.click()
        sign_in_in_popup(opened.value, user)
        opened.value.wait_for_event("close", timeout=WAIT_MS)
        expect(out.locator(".nbauth-status")).to_have_text(signed_in_line(idp.issuer, user), timeout=WAIT_MS)
        if screenshot:
            ARTIFACTS.mkdir(parents=True, exist_ok=True)
            out.screenshot(path=str(ARTIFACTS / "hub_signed_in.png"))
        expect(nb.run(1)).to_contain_text(f"token True {EMAILS[user]}", timeout=WAIT_MS)
    finally:
        context.close()
    return requested


def redirect_uris(requested: list, issuer: str) -> set:
    """The redirect_uri of each authorization request the browser sent the provider."""
    return {parse_qs(urlsplit(url).query)["redirect_uri"][0]
            for url in requested if url.startswith(f"{issuer}/auth?")}


def test_two_hub_users_sign_in_with_one_registration(hub, chromium, idp):
    idp.reset_stats()
    hub_uri = f"{hub.url}/hub/user-redirect/nbauth/callback"
    for user in ("alice", "bob"):
        requested = sign_in_on_hub(hub, chromium, idp, user, screenshot=user == "alice")
        assert redirect_uris(requested, idp.issuer) == {hub_uri}
        # the hub forwarded the provider's answer to this user's own server
        assert any(url.startswith(f"{hub.url}/user/{user}/nbauth/callback?") for url in requested)
    assert idp.count("authorization_code") == 2
    assert cached_accounts(cache_of(hub, "alice")) == {EMAILS["alice"]}
    assert cached_accounts(cache_of(hub, "bob")) == {EMAILS["bob"]}
