"""Browser sign-in from the widget in JupyterLab 4 and Notebook 7, in headless chromium: the
provider's pages in a popup, the answer back through nbauth's callback page (issue 16)."""
from __future__ import annotations

import pytest
from playwright.sync_api import expect

from support.lab import ARTIFACTS, Lab
from support.notebook_page import (WAIT_MS, NotebookPage, expect_closed, sign_in_in_popup, signed_in_line,
                                   write_notebook)
from idp.server import EMAILS, IdPStartError, LocalIdP

pytestmark = pytest.mark.browser

DARK = "() => window.jupyterapp.commands.execute('apputils:change-theme', {theme: 'JupyterLab Dark'})"
LIGHT = "() => window.jupyterapp.commands.execute('apputils:change-theme', {theme: 'JupyterLab Light'})"


@pytest.fixture(scope="module", params=["lab", "notebook"])
def server(request, tmp_path_factory):
    jupyter = Lab(tmp_path_factory.mktemp(request.param), {"NBAUTH_UI": "widget"}, app=request.param,
                  extension=True).start()
    yield jupyter
    jupyter.stop()


@pytest.fixture(scope="module")
def coop_idp(session_ca):
    """A provider whose pages send Cross-Origin-Opener-Policy: same-origin (node's rare hang at
    start is retried once)."""
    try:
        provider = LocalIdP(ca=session_ca, coop=True).start()
    except IdPStartError:
        provider = LocalIdP(ca=session_ca, coop=True).start()
    yield provider
    provider.stop()


def sign_in_notebook(server, tmp_path, issuer: str, name: str) -> str:
    cache = tmp_path / "token_cache.json"
    return write_notebook(server.root, name, [
        "import nbauth\nfrom nbauth.cache import PersistedTokenCache\n"
        f"s = nbauth.login('nbauth-native', oidc_authority={issuer!r}, scopes=['api:read'], "
        f"cache=PersistedTokenCache({str(cache)!r}))",
        "print('token', len(s.token(timeout=30)) > 20, s.account['username'])",
    ])


@pytest.mark.parametrize("coop", [False, True], ids=["plain", "coop"])
def test_sign_in_with_browser(server, context, idp, coop_idp, coop, tmp_path, request):
    provider = coop_idp if coop else idp
    name = sign_in_notebook(server, tmp_path, provider.issuer, f"browser-{coop}.ipynb")
    nb = NotebookPage(context.new_page(), server.page_url(name))
    out = nb.run(0)
    start = out.get_by_role("button", name="Sign in with browser")
    expect(start).to_be_visible(timeout=WAIT_MS)
    expect(out.get_by_role("button", name="Use a code instead")).to_be_visible()
    expect(out.locator(".nbauth-status")).to_have_text("Choose how to sign in.")
    shots = server.app == "lab" and not coop
    if shots:
        screenshots(nb, out, "choice")
    with nb.page.expect_popup() as opened:
        start.click()
    popup = opened.value
    expect(out.locator(".nbauth-status")).to_have_text("Waiting for you to sign in in the sign-in window.",
                                                       timeout=WAIT_MS)
    popup.locator("input[name=login]").wait_for(timeout=WAIT_MS)  # the provider's login page, in the popup
    assert popup.url.startswith(provider.issuer)
    if shots:
        screenshots(nb, out, "in_flight")
    sign_in_in_popup(popup, "alice")
    expect_closed(popup)
    expect(out.locator(".nbauth-status")).to_have_text(signed_in_line(provider.issuer), timeout=WAIT_MS)
    expect(out.locator(".nbauth-browser")).to_be_hidden()
    if shots:
        screenshots(nb, out, "signed_in")
    expect(nb.run(1)).to_contain_text(f"token True {EMAILS['alice']}", timeout=WAIT_MS)


def screenshots(nb, out, what: str) -> None:
    """``what``, light and dark, into test-artifacts/browser/."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    for theme, switch in (("light", LIGHT), ("dark", DARK)):
        nb.page.evaluate(switch)
        nb.page.wait_for_timeout(300)  # the theme's stylesheet applies on the next frames
        out.screenshot(path=str(ARTIFACTS / f"browser_sign_in_{what}_{theme}.png"))
    nb.page.evaluate(LIGHT)
