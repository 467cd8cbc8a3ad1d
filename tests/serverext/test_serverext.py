"""nbauth's server extension, enabled by the config file the package ships, in a real Jupyter server:
the sign-in callback page, and the click relay."""
from __future__ import annotations

import json

import pytest
import requests

from nbauth.ui.relay import FOLDER, Inbox
from support.lab import Lab


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    server = Lab(tmp_path_factory.mktemp("jupyter"), {}, extension=True).start()
    yield server
    server.stop()


def test_callback_page_is_static_and_locked_down(lab):
    from nbauth.serverext.callback import CONTENT_SECURITY_POLICY, PAGE

    hostile = {"code": "<script>alert(1)</script>", "state": "\"><img src=x onerror=alert(2)>",
               "error_description": "</script><b>x</b>"}
    response = requests.get(f"{lab.url}/nbauth/callback", params=hostile, headers=lab.headers, timeout=10)
    assert response.status_code == 200
    assert response.text == PAGE  # the query never reaches the HTML: only the page's script reads it
    assert response.headers["Content-Security-Policy"] == CONTENT_SECURITY_POLICY
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["Referrer-Policy"] == "no-referrer"


def test_callback_page_asks_for_the_servers_login(lab):
    from nbauth.serverext.callback import PAGE

    response = requests.get(f"{lab.url}/nbauth/callback?code=c&state=s", allow_redirects=False, timeout=10)
    assert response.status_code in (302, 403) and response.text != PAGE


@pytest.fixture
def inbox(lab):
    """A kernel's end of the relay, in the server's runtime folder (as a kernel of it has)."""
    taken = []
    inbox = Inbox(taken.append, lab.runtime_dir / FOLDER)
    inbox.taken = taken
    return inbox


def browser_session(lab) -> requests.Session:
    """A session logged in as a browser is: the login cookie and the ``_xsrf`` cookie."""
    session = requests.Session()
    session.get(f"{lab.url}/lab?token={lab.token}", timeout=10).raise_for_status()
    assert "_xsrf" in session.cookies
    return session


def test_relay_hands_a_browser_click_to_the_kernel_that_waits_on_it(lab, inbox):
    session, url = browser_session(lab), f"{lab.url}/nbauth/relay/{inbox.id}"
    click = json.dumps({"action": "cancel", "id": "c1"})
    xsrf = {"X-XSRFToken": session.cookies["_xsrf"], "Content-Type": "application/json"}
    assert session.post(url, data=click, timeout=10).status_code == 403  # no XSRF token: refused
    inbox.poll()
    assert inbox.taken == []
    answer = session.post(url, data=click, headers=xsrf, timeout=10)
    assert answer.status_code == 204
    inbox.poll()
    assert inbox.taken == [{"action": "cancel", "id": "c1"}]
    assert session.post(f"{lab.url}/nbauth/relay/{'n' * 24}", data=click, headers=xsrf,
                        timeout=10).status_code == 404  # no kernel waits on that id
    bad = session.post(url, data=json.dumps({"action": "cancel", "id": "c2", "code": "x"}), headers=xsrf,
                       timeout=10)
    assert bad.status_code == 400 and "unexpected field" in bad.text


def test_relay_asks_for_the_servers_login(lab, inbox):
    answer = requests.post(f"{lab.url}/nbauth/relay/{inbox.id}", data=json.dumps({"action": "cancel", "id": "c"}),
                           timeout=10, allow_redirects=False)
    assert answer.status_code in (302, 403)
    inbox.poll()
    assert inbox.taken == []
