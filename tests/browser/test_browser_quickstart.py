"""The quickstart in JupyterLab, in headless chromium: what a person sees and clicks."""
from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from playwright.sync_api import expect

from support.notebook_page import KERNEL_READY, RUN_CELL, WAIT_MS
from idp.server import EMAILS

pytestmark = pytest.mark.browser

QUICKSTART = Path(__file__).resolve().parents[2] / "notebooks" / "quickstart.ipynb"


@pytest.fixture(scope="module")
def cache_file(tmp_path_factory) -> Path:
    """The token cache of the module's Lab (it starts once, with one environment)."""
    return tmp_path_factory.mktemp("cache") / "token_cache.json"


@pytest.fixture
def quickstart(start_lab, cache_file, page, idp):
    """JupyterLab open on the quickstart, kernel ready; returns (page, lab, run(cell) -> output)."""
    lab = start_lab({"NBAUTH_UI": "widget", "NBAUTH_SIGN_IN": "device", "NBAUTH_DEMO_AUTHORITY": idp.issuer,
                     "NBAUTH_CACHE_PATH": str(cache_file),
                     "PYTHONPATH": str(QUICKSTART.parents[1])})  # this checkout's nbauth, not the installed one
    cache_file.unlink(missing_ok=True)  # no earlier test's sign-in: each starts signed out
    lab.add_notebook(QUICKSTART)
    page.goto(lab.page_url(QUICKSTART.name))
    page.wait_for_function(KERNEL_READY, timeout=WAIT_MS)
    cells = json.loads(QUICKSTART.read_text())["cells"]
    code_cells = [i for i, cell in enumerate(cells) if cell["cell_type"] == "code"]

    def run(n: int):
        """Run the n-th code cell; its output area."""
        index = code_cells[n]
        page.evaluate(RUN_CELL, index)
        return page.locator(".jp-Notebook .jp-Cell").nth(index).locator(".jp-OutputArea")

    return page, lab, run


def polls(idp, code):
    return len(idp.token_log("device_code", user_code=code))


def test_pending_widget_copy_and_cancel(quickstart, idp, artifacts):
    page, _lab, run = quickstart
    out = run(0)
    code_box = out.locator(".nbauth-code")
    expect(code_box).to_be_visible(timeout=WAIT_MS)
    code = code_box.inner_text().strip()
    link = out.locator("a.nbauth-link")
    assert link.get_attribute("href") == f"{idp.issuer}/device?user_code={code}"
    assert link.get_attribute("target") == "_blank" and "noopener" in link.get_attribute("rel")
    countdown = out.locator(".nbauth-countdown")
    expect(countdown).to_contain_text("Code expires in")
    first = countdown.inner_text()
    expect(countdown).not_to_have_text(first, timeout=5_000)  # ticking in the browser
    expect(out.locator(".nbauth-status")).to_have_text("Waiting for you to sign in.")
    shot = artifacts / "pending.png"
    out.screenshot(path=str(shot))
    print(f"\npending widget screenshot: {shot}")

    out.locator("button.nbauth-copy").click()
    expect(out.locator("button.nbauth-copy")).to_have_text("Copied")
    assert page.evaluate("navigator.clipboard.readText()") == code

    free = run(1)  # the kernel is free while the code is pending
    expect(free).to_contain_text("the kernel is free: 285", timeout=WAIT_MS)

    out.get_by_role("button", name="Cancel").click()
    expect(out.locator(".nbauth-status")).to_have_text("Sign-in cancelled.", timeout=WAIT_MS)
    expect(out.get_by_role("button", name="Sign in again")).to_be_visible()
    expect(out.locator(".nbauth-code")).to_have_count(0)
    before = polls(idp, code)
    idp.approve_device(code, "alice")
    time.sleep(1.5)  # observing an absence: a poll interval and a half in which nothing may poll
    assert polls(idp, code) == before
    expect(out.locator(".nbauth-status")).to_have_text("Sign-in cancelled.")

    out.get_by_role("button", name="Sign in again").click()  # a new code, in the same output
    expect(out.locator(".nbauth-code")).to_be_visible(timeout=WAIT_MS)  # none was shown after cancel
    assert out.locator(".nbauth-code").inner_text().strip() not in ("", code)
    expect(out.locator(".nbauth-status")).to_have_text("Waiting for you to sign in.")


def test_approved_sign_in_collapses_to_one_line(quickstart, idp, artifacts):
    page, lab, run = quickstart
    out = run(0)
    expect(out.locator(".nbauth-code")).to_be_visible(timeout=WAIT_MS)
    code = out.locator(".nbauth-code").inner_text().strip()
    idp.approve_device(code, "alice")
    status = out.locator(".nbauth-status")
    expect(status).to_have_text(f"\u2714 Signed in as {EMAILS['alice']} at {idp.issuer}. "
                                "Tokens refresh automatically.", timeout=WAIT_MS)
    expect(out.locator(".nbauth-code")).to_have_count(0)
    expect(out.locator("a.nbauth-link")).to_have_count(0)
    expect(out.locator("button.nbauth-copy")).to_be_hidden()
    expect(out.get_by_role("button", name="Sign out")).to_be_visible()
    shot = artifacts / "signed_in.png"
    out.screenshot(path=str(shot))
    print(f"\nsigned-in widget screenshot: {shot}")

    expect(run(2)).to_contain_text(f"signed in as {EMAILS['alice']} - access token of", timeout=WAIT_MS)
    page.evaluate("window.jupyterapp.commands.execute('docmanager:save')")
    saved = lab.root / QUICKSTART.name
    expect(page.locator(".jp-mod-dirty")).to_have_count(0, timeout=WAIT_MS)
    text = saved.read_text()
    assert "Signed in as" in text and code not in text  # the saved notebook keeps no code or link

    idp.reset_stats()
    out.get_by_role("button", name="Sign out").click()  # it asks first: it also revokes
    expect(status).to_contain_text("Sign out? This also revokes the sign-in at", timeout=WAIT_MS)
    assert [e for e in idp.request_log() if e["endpoint"] == "revocation"] == []
    out.get_by_role("button", name="Sign out and revoke").click()
    expect(status).to_have_text(f"Signed out: {EMAILS['alice']}.", timeout=WAIT_MS)
    expect(out.get_by_role("button", name="Sign in again")).to_be_visible()
    assert [e["outcome"] for e in idp.request_log() if e["endpoint"] == "revocation"] == ["ok"]
