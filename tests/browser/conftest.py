"""JupyterLab on 127.0.0.1 and Debian's chromium driven by Playwright, for the browser tests.

Browser tests carry the ``browser`` marker (``-m "not browser"`` leaves them out). Chromium is
``/usr/bin/chromium`` (``make chromium`` installs it); Playwright never downloads a browser.
"""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from support.lab import ARTIFACTS, Lab

CHROMIUM = os.environ.get("NBAUTH_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"]


def pytest_configure(config):
    config.addinivalue_line("markers", "browser: drives JupyterLab in headless chromium (slow)")


@pytest.fixture(scope="module")
def start_lab(tmp_path_factory):
    """``start_lab(env, app="lab"|"notebook", extension=False)``: a JupyterLab (or Notebook 7) whose
    kernels see ``env``, with no kernel running.

    A server starts once per module, ``env`` and options (a start takes seconds); a later test asking
    for the same gets it with every kernel of the earlier tests shut down. Stopped at teardown.
    """
    labs: dict[tuple, Lab] = {}

    def start(env: dict, **options) -> Lab:
        key = (tuple(sorted(env.items())), tuple(sorted(options.items())))
        if key in labs:
            labs[key].shut_down_kernels()
        else:
            labs[key] = Lab(tmp_path_factory.mktemp("jupyter"), env, **options).start()
        return labs[key]

    yield start
    for lab in labs.values():
        lab.stop()


@pytest.fixture(scope="module")
def chromium():
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: run `make chromium` (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture(scope="module")
def browser_context(chromium):
    """One browser context per module (its HTTP cache makes a second Lab page load faster); it may
    read and write the clipboard."""
    context = chromium.new_context(viewport={"width": 1200, "height": 900},
                                   permissions=["clipboard-read", "clipboard-write"])
    yield context
    context.close()


@pytest.fixture
def context(chromium):
    """A fresh browser context for one test (its windows, storage and popups its own), which accepts
    the test CA's certificates."""
    context = chromium.new_context(viewport={"width": 1100, "height": 900}, ignore_https_errors=True)
    yield context
    context.close()


@pytest.fixture
def page(browser_context, request):
    """A new page of the module's context; a screenshot is kept on failure."""
    page = browser_context.new_page()
    yield page
    if getattr(request.node, "failed", False):
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / f"{request.node.name}-failure.png"))
    page.close()


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    report = yield
    if report.when == "call" and report.failed:
        item.failed = True
    return report


@pytest.fixture
def artifacts() -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS
