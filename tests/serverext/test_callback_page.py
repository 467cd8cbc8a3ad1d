"""nbauth's server extension, enabled by the config file the package ships, in a real Jupyter server."""
from __future__ import annotations

import pytest
import requests

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
