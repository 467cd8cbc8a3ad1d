"""The sign-in widget where anywidget's front end is missing (its JupyterLab extension disabled, as
``jupyter labextension disable anywidget`` does): no error box, the kernel's expiry text, the code
selectable, "Use a code instead" for the browser's choices, and Cancel over the comm (JupyterLab,
headless chromium; one server for the module)."""
from __future__ import annotations

import pytest
from playwright.sync_api import expect

from support.lab import ARTIFACTS, Lab
from support.notebook_page import WAIT_MS, NotebookPage, write_notebook

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    server = Lab(tmp_path_factory.mktemp("lab"), {"NBAUTH_UI": "widget"}, extension=True,
                 disabled=("anywidget",)).start()
    yield server
    server.stop()


def test_without_anywidgets_front_end_the_core_widgets_stand_in(lab, chromium, idp, tmp_path):
    name = write_notebook(lab.root, "fallback.ipynb", [
        "import nbauth\nfrom nbauth.cache import PersistedTokenCache\n"
        f"s = nbauth.login('nbauth-native', oidc_authority={idp.issuer!r}, scopes=['api:read'], "
        f"cache=PersistedTokenCache({str(tmp_path / 'cache.json')!r}))"])
    context = chromium.new_context(viewport={"width": 1100, "height": 800})
    try:
        nb = NotebookPage(context.new_page(), lab.page_url(name))
        out = nb.run(0)
        expect(out.locator(".nbauth-status")).to_have_text("Choose how to sign in.", timeout=WAIT_MS)
        expect(out.locator(".nbauth-browser")).to_have_count(0)  # anywidget's views did not render
        out.get_by_role("button", name="Use a code instead").click()  # the core button, over the comm
        code = out.locator(".nbauth-code")
        expect(code).to_be_visible(timeout=WAIT_MS)
        expect(out.locator(".nbauth-expiry")).to_have_text("Code expires in about 10 minutes")
        expect(out.locator(".nbauth-countdown")).to_have_count(0)
        assert code.evaluate("(el) => getComputedStyle(el).userSelect") == "all"
        errors = out.locator(".jupyter-widgets-error-widget").all() + out.get_by_text("JavaScript").all()
        assert errors and not any(error.is_visible() for error in errors)  # the error views are there, unseen
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        out.screenshot(path=str(ARTIFACTS / "widget_without_anywidget_lab_light.png"))
        out.get_by_role("button", name="Cancel").click()
        expect(out.locator(".nbauth-status")).to_have_text("Sign-in cancelled.", timeout=WAIT_MS)
    finally:
        context.close()
