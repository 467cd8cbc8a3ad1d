"""Driving a notebook page in JupyterLab or Notebook 7: wait for the kernel, run a cell, and play a
person in the provider's sign-in window (the local provider's login and consent pages)."""
from __future__ import annotations

from pathlib import Path

import nbformat

from idp.server import EMAILS, USERS

WAIT_MS = 60_000
KERNEL_READY = """() => {
    const w = window.jupyterapp && window.jupyterapp.shell.currentWidget;
    const k = w && w.sessionContext && w.sessionContext.session && w.sessionContext.session.kernel;
    return !!(w && w.sessionContext.isReady && k && k.connectionStatus === 'connected' && k.status === 'idle');
}"""
RUN_CELL = """async (index) => {
    const panel = window.jupyterapp.shell.currentWidget;
    panel.content.activeCellIndex = index;
    await window.jupyterapp.commands.execute('notebook:run-cell');
}"""


def write_notebook(folder: Path, name: str, cells: list) -> str:
    """A notebook of code ``cells`` in ``folder``; its name."""
    book = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(source) for source in cells], metadata={
        "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}})
    nbformat.write(book, str(folder / name))
    return name


class NotebookPage:
    """A Playwright page open on a notebook whose kernel is ready."""

    def __init__(self, page, url: str):
        self.page = page
        page.goto(url)
        page.wait_for_function(KERNEL_READY, timeout=WAIT_MS)

    def run(self, index: int):
        """Run cell ``index``; its output area."""
        self.page.evaluate(RUN_CELL, index)
        return self.page.locator(".jp-Notebook .jp-Cell").nth(index).locator(".jp-OutputArea")


def sign_in_in_popup(popup, user: str = "alice") -> None:
    """Fill the provider's login and consent pages in the sign-in window as ``user``."""
    popup.locator("input[name=login]").fill(user, timeout=WAIT_MS)
    popup.locator("input[name=password]").fill(USERS[user])
    popup.locator("button[type=submit]").click()
    popup.locator("input[name=prompt][value=consent]").wait_for(state="attached", timeout=WAIT_MS)
    popup.locator("button[type=submit]").click()


def expect_closed(popup) -> None:
    """``popup`` closes, or closed already. Not ``popup.wait_for_event("close")`` alone: a window that
    closed itself during the previous call (the callback page closes at once) sent its one "close"
    event before anyone waited. Playwright takes in the browser's events only during a call, so none
    can slip between ``is_closed`` and the wait."""
    if not popup.is_closed():
        popup.wait_for_event("close", timeout=WAIT_MS)


def signed_in_line(issuer: str, user: str = "alice") -> str:
    """The widget's status once ``user`` is signed in at ``issuer``."""
    return f"\u2714 Signed in as {EMAILS[user]} at {issuer}. Tokens refresh automatically."
