"""Every way a browser sign-in from the widget can go wrong ends in a state that says what to do
(JupyterLab, headless chromium; one server for the module)."""
from __future__ import annotations

import pytest
from playwright.sync_api import expect

from support.lab import Lab
from support.notebook_page import WAIT_MS, NotebookPage, write_notebook

pytestmark = pytest.mark.browser
CHOOSE_AGAIN = "The sign-in window was closed before sign-in finished; choose how to sign in."


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    server = Lab(tmp_path_factory.mktemp("lab"), {"NBAUTH_UI": "widget"}, extension=True).start()
    yield server
    server.stop()


@pytest.fixture
def widget(lab, chromium, idp, tmp_path, request):
    """``widget(host)``: the login cell's output, on a page opened at ``host`` (default 127.0.0.1)."""
    context = chromium.new_context(viewport={"width": 1100, "height": 800}, ignore_https_errors=True)

    def open_at(host: str = "127.0.0.1"):
        name = write_notebook(lab.root, f"{request.node.name}.ipynb", [
            "import nbauth\nfrom nbauth.cache import PersistedTokenCache\n"
            f"s = nbauth.login('nbauth-native', oidc_authority={idp.issuer!r}, scopes=['api:read'], "
            f"cache=PersistedTokenCache({str(tmp_path / 'cache.json')!r}))"])
        nb = NotebookPage(context.new_page(), lab.page_url(name).replace("127.0.0.1", host))
        out = nb.run(0)
        expect(out.get_by_role("button", name="Sign in with browser")).to_be_visible(timeout=WAIT_MS)
        return nb.page, out

    yield open_at
    context.close()


def start(page, out):
    with page.expect_popup() as opened:
        out.get_by_role("button", name="Sign in with browser").click()
    popup = opened.value
    popup.locator("input[name=login]").wait_for(timeout=WAIT_MS)
    return popup


def test_popup_blocked_offers_a_link(widget, idp):
    page, out = widget()
    page.evaluate("() => { window.open = () => null; }")  # what a blocker makes window.open return
    out.get_by_role("button", name="Sign in with browser").click()
    expect(out.locator(".nbauth-browser-note")).to_have_text("The browser blocked the sign-in window.",
                                                             timeout=WAIT_MS)
    link = out.get_by_role("link", name="Open the sign-in page")
    expect(link).to_be_visible()
    assert link.get_attribute("href").startswith(idp.metadata()["authorization_endpoint"] + "?")


def test_popup_closed_goes_back_to_the_choices(widget):
    page, out = widget()
    popup = start(page, out)
    popup.close()
    expect(out.locator(".nbauth-status")).to_have_text(CHOOSE_AGAIN, timeout=WAIT_MS)
    expect(out.get_by_role("button", name="Use a code instead")).to_be_visible()


def test_access_denied_is_shown(widget):
    page, out = widget()
    popup = start(page, out)
    popup.get_by_role("link", name="[ Cancel ]").click()  # the provider's own "cancel": access_denied
    expect(out.locator(".nbauth-status")).to_contain_text("\u2716 Sign-in was denied: ", timeout=WAIT_MS)
    expect(out.get_by_role("button", name="Sign in again")).to_be_visible()


def test_unregistered_redirect_uri_says_which_and_where(widget, lab):
    page, out = widget("localhost")  # http://localhost:<port>/nbauth/callback is not registered
    out.get_by_role("button", name="Sign in with browser").click()
    status = out.locator(".nbauth-status")
    expect(status).to_contain_text(f"the provider does not accept the redirect URI "
                                   f"http://localhost:{lab.port}/nbauth/callback", timeout=WAIT_MS)
    expect(status).to_contain_text('"Mobile and desktop applications"')
    expect(out.get_by_role("button", name="Sign in again")).to_be_visible()
