"""The notebook sign-in at awkward moments, in headless chromium (issue 17): a refused refresh token's
new code shows in the cell that asked for a token (JupyterLab 4 and Notebook 7); a provider stopped
for 20 s while a code is polled for, then started again on the same port, still completes that code
(JupyterLab 4 and Notebook 7 through one outage); the contacting and retrying states are screenshotted (test-artifacts/browser/)."""
from __future__ import annotations

import time
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import expect

from idp.server import EMAILS
from support.cells import start_cell
from support.fake_provider import CLIENT_ID, FakeProvider
from support.faults import Device
from support.held import held
from support.notebook_page import WAIT_MS, NotebookPage, write_notebook
from support.shots import shoot

pytestmark = [pytest.mark.browser, pytest.mark.timeout(180)]
#: How long the provider stays down while the code is polled for.
OUTAGE_SECONDS = 20
RETRYING = "Waiting for you to sign in; the provider is not answering, retrying."


#: The kernels' environment: the widget (CI sets CI), and device codes (these cells approve them).
ENV = {"NBAUTH_UI": "widget", "NBAUTH_SIGN_IN": "device"}


def login_cell(client_id: str, issuer: str, cache) -> str:
    return ("import nbauth\nfrom nbauth.cache import PersistedTokenCache\n"
            f"me = nbauth.login({client_id!r}, oidc_authority={issuer!r}, scopes=['api:read'], "
            f"cache=PersistedTokenCache({str(cache)!r}))")


def shown_code(out) -> str:
    code = out.locator(".nbauth-code")
    expect(code).to_be_visible(timeout=WAIT_MS)
    return code.inner_text()


@pytest.mark.parametrize("app", ["lab", "notebook"])
def test_a_refused_refresh_token_shows_the_new_code_in_the_cell_that_asked(start_lab, app, page, make_idp, tmp_path):
    lab = start_lab(ENV, app=app)
    provider = make_idp(access_token_ttl=3)  # renewed in the background about every 2.6 seconds
    name = write_notebook(lab.root, "resign_in.ipynb", [
        login_cell("nbauth-native", provider.issuer, tmp_path / "cache.json"),
        "print('first', len(me.token()) > 20)",
        "print('again', len(me.token()) > 20)",
    ])
    nb = NotebookPage(page, lab.page_url(name))
    login = nb.run(0)
    first = shown_code(login)
    provider.approve_device(first, "alice")
    expect(nb.run(1)).to_contain_text("first True", timeout=WAIT_MS)
    provider.revoke_user_refresh_tokens("alice")
    expect(login.locator(".nbauth-status")).to_contain_text("Sign-in needed", timeout=WAIT_MS)  # the refresher's
    asking = start_cell(nb, 2)  # it waits in token() for the new sign-in
    second = shown_code(asking)  # here, where the person is, not only far above
    assert second != first
    if app == "lab":
        shoot(page, asking, "flow_resign_in_asking_cell")
    provider.approve_device(second, "alice")
    expect(asking).to_contain_text("again True", timeout=WAIT_MS)
    expect(asking.locator(".nbauth-status")).to_have_text(
        f"\u2714 Signed in as {EMAILS['alice']} at {provider.issuer}. Tokens refresh automatically.")


def test_a_provider_stopped_for_20_s_mid_poll_then_started_again_completes_the_same_code(
        start_lab, page, fake_server, tmp_path):
    """JupyterLab and Notebook 7 side by side through one outage: each front end's kernel polls the
    same code, and both complete it once the provider is back."""
    provider = FakeProvider(fake_server)
    device = Device(provider)  # one code for every request: each kernel asks once
    release = held(fake_server, "GET", "/fake/.well-known/openid-configuration",
                   lambda request: (200, {}, provider.metadata()))  # a provider slow to answer at first
    statuses, logins = {}, {}
    try:
        for app, tab in (("lab", page), ("notebook", page.context.new_page())):
            lab = start_lab(ENV, app=app)
            name = write_notebook(lab.root, "outage.ipynb", [login_cell(CLIENT_ID, provider.issuer,
                                                                        tmp_path / f"{app}.json")])
            nb = NotebookPage(tab, lab.page_url(name))
            logins[app] = nb.run(0)
            statuses[app] = logins[app].locator(".nbauth-status")
            expect(statuses[app]).to_have_text(f"Contacting {urlsplit(provider.issuer).netloc}\u2026", timeout=WAIT_MS)
            expect(tab.locator(".jp-Notebook .jp-Cell").nth(0).locator(".jp-InputPrompt")).not_to_have_text(
                "[*]:", timeout=WAIT_MS)  # the cell finished: the kernel does not wait on the provider
        shoot(page, logins["lab"], "flow_contacting")
    finally:
        release.set()
    for login in logins.values():
        assert shown_code(login) == "FAULT-1"
    fake_server.stop()  # nothing listens on the provider's port now
    down_since = time.monotonic()
    for app, login in logins.items():
        expect(statuses[app]).to_have_text(RETRYING, timeout=WAIT_MS)
        expect(login.locator(".nbauth-code")).to_have_text("FAULT-1")  # the code stays up meanwhile
    shoot(page, logins["lab"], "flow_retrying")
    time.sleep(max(0.0, OUTAGE_SECONDS - (time.monotonic() - down_since)))  # the outage itself lasts 20 s
    fake_server.start()  # the same port again
    device.approve()  # the person entered the code they were shown
    for status in statuses.values():
        expect(status).to_have_text(f"\u2714 Signed in as alice@example.test at {provider.issuer}. "
                                    "Tokens refresh automatically.", timeout=WAIT_MS)
    assert device.endpoint.requests() == 2  # one code per kernel: none was asked for again
