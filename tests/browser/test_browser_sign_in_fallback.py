"""Browser sign-in from the widget on a Jupyter server WITHOUT nbauth's server extension (issue 16):
the answer comes back by reading the sign-in window's address, and the widget says so when the
provider's Cross-Origin-Opener-Policy cuts the window off; a window left open ends at the timeout,
or at Cancel (JupyterLab, headless chromium; one server for the module)."""
from __future__ import annotations

import pytest
import requests
from playwright.sync_api import expect

from idp.server import EMAILS
from support.lab import ARTIFACTS, Lab
from support.notebook_page import (WAIT_MS, NotebookPage, expect_closed, sign_in_in_popup, signed_in_line,
                                   write_notebook)

pytestmark = pytest.mark.browser
#: The browser sign-in's deadline in the kernel, through SignIn's wait seam (the real one is 10 minutes).
SHORT_WAIT = "lambda seconds, cancelled: cancelled.wait(min(seconds, 2.0))"


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    server = Lab(tmp_path_factory.mktemp("lab"), {"NBAUTH_UI": "widget"}, extension=False).start()
    answer = requests.get(f"{server.url}/nbauth/callback", headers=server.headers, timeout=10)
    assert answer.status_code == 404  # no callback page: the extension is off
    yield server
    server.stop()


@pytest.fixture
def widget(lab, chromium, tmp_path, request):
    """``widget(issuer, wait=None)``: the login cell's output (a browser sign-in at ``issuer``, with
    ``wait`` as SignIn's wait seam when given) and its page."""
    context = chromium.new_context(viewport={"width": 1100, "height": 800}, ignore_https_errors=True)

    def open_for(issuer: str, wait: str = "None"):
        name = write_notebook(lab.root, f"{request.node.name}.ipynb", [
            "import nbauth\nfrom nbauth.cache import PersistedTokenCache\nfrom nbauth.notebook import SignIn\n"
            f"app = nbauth.PublicClientApplication('nbauth-native', oidc_authority={issuer!r}, "
            f"token_cache=PersistedTokenCache({str(tmp_path / 'cache.json')!r}))\n"
            f"s = SignIn(app, ['api:read'], authority=app.authority.url, ui='widget', method='browser', "
            f"wait={wait}).start()",
            "print('token', len(s.token(timeout=30)) > 20, s.account['username'])"])
        nb = NotebookPage(context.new_page(), lab.page_url(name))
        out = nb.run(0)
        expect(out.get_by_role("button", name="Sign in with browser")).to_be_visible(timeout=WAIT_MS)
        return nb, out

    yield open_for
    context.close()


def start(nb, out):
    """Click "Sign in with browser"; the sign-in window."""
    with nb.page.expect_popup() as opened:
        out.get_by_role("button", name="Sign in with browser").click()
    return opened.value


def screenshot(out, what: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    out.screenshot(path=str(ARTIFACTS / f"browser_sign_in_{what}_light.png"))


def test_the_window_address_brings_the_answer_back(widget, idp, lab):
    nb, out = widget(idp.issuer)
    popup = start(nb, out)
    popup.locator("input[name=login]").wait_for(timeout=WAIT_MS)
    with popup.expect_event("framenavigated", lambda frame: frame.url.startswith(lab.url),
                            timeout=WAIT_MS) as landed:
        sign_in_in_popup(popup, "alice")
    assert landed.value.url.startswith(f"{lab.url}/nbauth/callback?")  # a 404 page: no extension here
    expect_closed(popup)  # the widget read its address and closed it
    expect(out.locator(".nbauth-status")).to_have_text(signed_in_line(idp.issuer), timeout=WAIT_MS)
    expect(nb.run(1)).to_contain_text(f"token True {EMAILS['alice']}", timeout=WAIT_MS)


def test_a_window_cut_off_by_coop_says_what_to_do(widget, make_idp):
    provider = make_idp(coop=True)
    nb, out = widget(provider.issuer)
    start(nb, out)
    status = out.locator(".nbauth-status")
    expect(status).to_contain_text("cut the sign-in window off from this notebook (Cross-Origin-Opener-Policy)",
                                   timeout=WAIT_MS)
    expect(status).to_contain_text("jupyter server extension enable nbauth.serverext")
    expect(status).to_contain_text("use a code instead")
    expect(out.get_by_role("button", name="Use a code instead")).to_be_visible()
    expect(out.get_by_role("button", name="Sign in with browser")).to_be_visible()
    screenshot(out, "cut_off")


def test_no_answer_in_time_ends_in_the_timeout_state(widget, idp):
    nb, out = widget(idp.issuer, SHORT_WAIT)
    popup = start(nb, out)
    status = out.locator(".nbauth-status")
    expect(status).to_contain_text("no answer from the sign-in window within 10 minutes", timeout=WAIT_MS)
    expect(status).to_contain_text("sign in again")
    expect(out.get_by_role("button", name="Sign in again")).to_be_visible()
    expect_closed(popup)  # a window that can no longer sign in is closed
    screenshot(out, "timeout")


def test_cancel_while_the_window_is_open(widget, idp):
    nb, out = widget(idp.issuer)
    popup = start(nb, out)
    popup.locator("input[name=login]").wait_for(timeout=WAIT_MS)
    out.get_by_role("button", name="Cancel").click()
    expect(out.locator(".nbauth-status")).to_have_text("Sign-in cancelled.", timeout=WAIT_MS)
    expect(out.get_by_role("button", name="Sign in again")).to_be_visible()
    expect_closed(popup)
    screenshot(out, "cancelled")
