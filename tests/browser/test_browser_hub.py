"""Browser sign-in on a real JupyterHub (issue 16): two users of one hub sign in from their own
servers at ``/user/<name>/lab`` with the one redirect URI registered at the hub's origin
(``/hub/user-redirect/nbauth/callback``), and each gets their own tokens in their own cache."""
from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from playwright.sync_api import expect

from support.hub import SPAWN_SECONDS, Hub
from support.lab import ARTIFACTS
from support.notebook_page import (WAIT_MS, NotebookPage, expect_closed, sign_in_in_popup, signed_in_line,
                                   write_notebook)
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


@pytest.fixture
def log_in(hub, chromium, idp):
    """``log_in(user)``: a browser of ``user``'s own logs in to the hub (which starts spawning their
    server, with a notebook as the quickstart's); its page, and the list of every URL it requests."""
    contexts = []

    def log_in(user: str):
        home = hub.home(user)
        home.mkdir(parents=True)
        write_notebook(home, NOTEBOOK, [  # nbauth's per-user cache, as the quickstart: no cache argument
            f"import nbauth\ns = nbauth.login('nbauth-native', oidc_authority={idp.issuer!r}, scopes=['api:read'])",
            "print('token', len(s.token(timeout=30)) > 20, s.account['username'])",
        ])
        context = chromium.new_context(viewport={"width": 1100, "height": 800}, ignore_https_errors=True)
        contexts.append(context)
        requested: list = []
        context.on("request", lambda request: requested.append(request.url))
        page = context.new_page()
        page.goto(f"{hub.url}/hub/login")
        page.locator("input[name=username]").fill(user)
        page.locator("input[name=password]").fill("any password")
        page.locator("#login_submit").click()
        return page, requested

    yield log_in
    for context in contexts:
        context.close()


def sign_in_on_hub(hub: Hub, page, idp, user: str, screenshot: bool) -> None:
    """Once the hub has spawned ``user``'s server, open their notebook at /user/<name>/lab and sign in
    through the browser, as ``user`` in the provider's pages."""
    page.wait_for_url(f"{hub.url}/user/{user}/**", timeout=SPAWN_SECONDS * 1000)
    nb = NotebookPage(page, hub.page_url(user, NOTEBOOK))
    out = nb.run(0)
    with page.expect_popup(timeout=WAIT_MS) as opened:
        out.get_by_role("button", name="Sign in with browser").click()
    sign_in_in_popup(opened.value, user)
    expect_closed(opened.value)
    expect(out.locator(".nbauth-status")).to_have_text(signed_in_line(idp.issuer, user), timeout=WAIT_MS)
    if screenshot:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        out.screenshot(path=str(ARTIFACTS / "hub_signed_in.png"))
    expect(nb.run(1)).to_contain_text(f"token True {EMAILS[user]}", timeout=WAIT_MS)


def redirect_uris(requested: list, issuer: str) -> set:
    """The redirect_uri of each authorization request the browser sent the provider."""
    return {parse_qs(urlsplit(url).query)["redirect_uri"][0]
            for url in requested if url.startswith(f"{issuer}/auth?")}


def test_two_hub_users_sign_in_with_one_registration(hub, log_in, idp):
    idp.reset_stats()
    pages = {user: log_in(user) for user in ("alice", "bob")}  # the hub spawns both servers at once
    hub_uri = f"{hub.url}/hub/user-redirect/nbauth/callback"
    for user, (page, requested) in pages.items():
        sign_in_on_hub(hub, page, idp, user, screenshot=user == "alice")
        assert redirect_uris(requested, idp.issuer) == {hub_uri}
        # the hub forwarded the provider's answer to this user's own server
        assert any(url.startswith(f"{hub.url}/user/{user}/nbauth/callback?") for url in requested)
    assert idp.count("authorization_code") == 2
    assert cached_accounts(cache_of(hub, "alice")) == {EMAILS["alice"]}
    assert cached_accounts(cache_of(hub, "bob")) == {EMAILS["bob"]}
