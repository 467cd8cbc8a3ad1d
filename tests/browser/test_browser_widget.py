"""The sign-in widget at awkward moments, in JupyterLab 4 and Notebook 7 (headless chromium; one
server per front end): Run All with a cell waiting in ``token()`` (the clicks reach the busy kernel
through nbauth's click relay), every state in light and dark themes (and a dark theme without
JupyterLab's colour variables), and a kernel restart under a waiting sign-in (issue 17)."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from playwright.sync_api import expect

from idp.server import EMAILS
from support.lab import ARTIFACTS, Lab
from support.notebook_page import WAIT_MS, NotebookPage, sign_in_in_popup, signed_in_line, write_notebook

pytestmark = pytest.mark.browser

QUICKSTART = Path(__file__).resolve().parents[2] / "notebooks" / "quickstart.ipynb"
THEMES = {"light": "JupyterLab Light", "dark": "JupyterLab Dark"}
RUN_ALL = "() => { window.jupyterapp.commands.execute('notebook:run-all-cells'); }"  # not awaited: it ends with the cells
THEME = "(theme) => window.jupyterapp.commands.execute('apputils:change-theme', {theme})"
RESTART = "() => window.jupyterapp.shell.currentWidget.sessionContext.session.kernel.restart()"
#: A theme of another front end: dark, and none of JupyterLab's variables (``initial`` makes var() fall back).
FOREIGN_DARK = """(names) => document.querySelectorAll('.nbauth-signin').forEach((el) => {
    el.style.background = '#1e1e1e'; el.style.color = '#d4d4d4';
    for (const name of names) el.style.setProperty(name, 'initial');
})"""
ENTRA = "https://login.microsoftonline.com/organizations"
#: Each state, as the flow gives it to the presenter (``name``, FlowState expression, browser choices?).
STATES = [
    ("waiting", "w", False),
    ("choose", "FlowState(status=Status.WAITING, method='choose', authority=A)", True),
    ("browser", "FlowState(status=Status.WAITING, method='browser', authority=A)", True),
    ("contacting", "FlowState(status=Status.WAITING, method='contacting', authority=A)", False),
    ("retrying", "replace(w, retrying=True)", False),
    ("signed_in", "w.settle(Status.SIGNED_IN, 'alice@contoso.com')", False),
    ("signed_in_saved", "replace(w.settle(Status.SIGNED_IN, 'alice@contoso.com'), saved=True)", False),
    ("sign_out_asks", "w.settle(Status.SIGNED_IN, 'alice@contoso.com')", False),
    ("expired", "w.settle(Status.EXPIRED, 'The device code expired before the sign-in was completed.')", False),
    ("denied", "w.settle(Status.DENIED, 'The user declined to consent to access the app.')", False),
    ("cancelled", "w.settle(Status.CANCELLED)", False),
    ("error", "w.settle(Status.ERROR, \"AADSTS700016: Application with identifier '00000000-1111-2222-3333-"
              "444444444444' was not found in the directory 'Contoso'. This can happen if the application has "
              "not been installed by the administrator of the tenant or consented to by any user in the tenant."
              "\")", False),
    ("signed_out", "w.settle(Status.SIGNED_OUT, 'alice@contoso.com')", False),
    ("sign_in_needed", "w.settle(Status.SIGN_IN_NEEDED, 'the provider no longer accepts this sign-in "
                       "(invalid_grant)')", False),
]
STATES_CELL = f"""import time
from dataclasses import replace
from nbauth.ui.base import BrowserActions
from nbauth.ui.text import FlowState, Status
from nbauth.ui.widget import WidgetPresenter
A = {ENTRA!r}
w = FlowState.from_flow({{'verification_uri': 'https://microsoft.com/devicelogin', 'user_code': 'WDJB-MJHT',
                         'expires_at': time.time() + 900}}, A)
choices = BrowserActions(start=lambda uri: None, redirect=print, closed=print, use_code=print)
shown = {{}}
for name, state, browser in {[(name, f"@{expr}@", browser) for name, expr, browser in STATES]!r}:
    state = eval(state.strip('@'))
    p = shown[name] = WidgetPresenter(on_retry=print, on_sign_out=print, browser=choices if browser else None)
    p.view.add_class('nbauth-shot-' + name)
    (p.show if state.status is Status.WAITING else p.finish)(state)
"""


@pytest.fixture(scope="module", params=["lab", "notebook"])
def server(request, tmp_path_factory, idp):
    cache = tmp_path_factory.mktemp("cache") / "token_cache.json"
    jupyter = Lab(tmp_path_factory.mktemp(request.param), {
        "NBAUTH_UI": "widget", "NBAUTH_DEMO_AUTHORITY": idp.issuer, "NBAUTH_CACHE_PATH": str(cache)},
        app=request.param, extension=True).start()
    jupyter.add_notebook(QUICKSTART)
    yield jupyter
    jupyter.stop()


def quickstart_cells(nb) -> list:
    """The output areas of the quickstart's code cells (login, a free cell, token())."""
    cells = json.loads(QUICKSTART.read_text())["cells"]
    return [nb.page.locator(".jp-Notebook .jp-Cell").nth(i).locator(".jp-OutputArea")
            for i, cell in enumerate(cells) if cell["cell_type"] == "code"]


def test_run_all_with_a_cell_waiting_in_token(server, context, idp):
    """Run All: the browser sign-in, Sign out, and Cancel all work while the token() cell waits."""
    nb = NotebookPage(context.new_page(), server.page_url(QUICKSTART.name))
    login, free, waits = quickstart_cells(nb)
    nb.page.evaluate(RUN_ALL)
    start = login.get_by_role("button", name="Sign in with browser")
    expect(start).to_be_visible(timeout=WAIT_MS)
    expect(free).to_contain_text("the kernel is free", timeout=WAIT_MS)  # so the token() cell runs now
    nb.page.wait_for_timeout(6_000)  # past token()'s wait for the relay's hello: the choice must stay
    expect(start).to_be_visible()
    with nb.page.expect_popup() as opened:
        start.click()  # through the relay: the kernel is busy in token()
    sign_in_in_popup(opened.value, "alice")
    expect(login.locator(".nbauth-status")).to_have_text(signed_in_line(idp.issuer), timeout=WAIT_MS)
    expect(waits).to_contain_text(f"signed in as {EMAILS['alice']}", timeout=WAIT_MS)

    login.get_by_role("button", name="Sign out").click()
    login.get_by_role("button", name="Sign out and revoke").click()
    expect(login.locator(".nbauth-status")).to_have_text(f"Signed out: {EMAILS['alice']}.", timeout=WAIT_MS)

    nb.page.evaluate(RUN_ALL)  # signed out: a new sign-in, and token() waits again
    expect(free).to_contain_text("the kernel is free", timeout=WAIT_MS)
    login.get_by_role("button", name="Use a code instead").click()
    expect(login.locator(".nbauth-code")).to_be_visible(timeout=WAIT_MS)
    login.get_by_role("button", name="Cancel").click()
    expect(login.locator(".nbauth-status")).to_have_text("Sign-in cancelled.", timeout=WAIT_MS)
    expect(waits).to_contain_text("cancelled", timeout=WAIT_MS)  # the waiting cell ends, Run All stops
    expect(login.get_by_role("button", name="Sign in again")).to_be_visible()


def test_every_state_in_light_and_dark_then_a_kernel_restart(server, context):
    name = write_notebook(server.root, "states.ipynb", [STATES_CELL])
    nb = NotebookPage(context.new_page(), server.page_url(name))
    out = nb.run(0)
    widget = {name: out.locator(f".nbauth-shot-{name}") for name, _, _ in STATES}
    expect(widget["sign_in_needed"]).to_be_visible(timeout=WAIT_MS)
    widget["sign_out_asks"].get_by_role("button", name="Sign out").click()
    expect(widget["sign_out_asks"]).to_contain_text("Sign out? This also revokes the sign-in at Microsoft Entra ID")
    expect(out.locator(".jupyter-widgets-error-widget")).to_have_count(0)
    expect(widget["waiting"].locator(".nbauth-countdown")).to_contain_text("Code expires in 1")
    expect(widget["waiting"].locator(".nbauth-expiry")).to_be_hidden()  # the countdown replaces the kernel's text
    line = widget["cancelled"].locator(".nbauth-status").bounding_box()
    long, box = widget["error"].locator(".nbauth-status").bounding_box(), widget["error"].bounding_box()
    assert long["height"] > 1.8 * line["height"]  # a long status wraps onto several lines
    assert long["x"] + long["width"] <= box["x"] + box["width"]  # inside the widget
    for theme, label in THEMES.items():
        nb.page.evaluate(THEME, label)
        nb.page.wait_for_timeout(500)  # the theme's stylesheet applies on the next frames
        shoot(widget, f"{server.app}_{theme}")

    variables = sorted({v for v in nb.page.evaluate(
        "() => [...document.querySelectorAll('.nbauth-signin, .nbauth-signin *')].map((el) => el.outerHTML)"
        ".join(' ')").split("var(")[1:] for v in [v.split(",")[0].split(")")[0]]} |
        {"--jp-border-color2", "--jp-brand-color1", "--jp-layout-color2"})
    nb.page.evaluate(FOREIGN_DARK, variables)
    shoot(widget, f"{server.app}_foreign_dark")
    code = widget["waiting"].locator(".nbauth-code")
    colour, background = code.evaluate("(el) => [getComputedStyle(el).color, getComputedStyle(el).backgroundColor]")
    assert min(int(c) for c in colour[4:-1].split(",")) > 150  # light text on the dark page
    assert float(background.split(",")[3].rstrip(")")) < 0.3  # over a translucent grey, not a light box

    nb.page.evaluate(RESTART)
    note = "This sign-in stopped: the kernel restarted. Run the cell again to sign in."
    nb.page.wait_for_function("(note) => getComputedStyle(document.querySelector('.nbauth-shot-waiting'), "
                              "'::after').content === JSON.stringify(note)", arg=note, timeout=WAIT_MS)
    expect(widget["waiting"].locator(".nbauth-countdown")).to_be_hidden()
    expect(widget["waiting"].get_by_role("button", name="Cancel")).to_be_hidden()
    shoot({"kernel_restarted": widget["waiting"]}, f"{server.app}_foreign_dark")


def shoot(widgets: dict, suffix: str) -> None:
    """Each widget's screenshot into test-artifacts/browser/widget_<state>_<suffix>.png."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    for name, widget in widgets.items():
        widget.screenshot(path=str(ARTIFACTS / f"widget_{name}_{suffix}.png"))
