"""The quickstart notebook in a real IPython kernel (nbclient), cell by cell, against the local provider.

The widget presentation is forced (``NBAUTH_UI=widget``) since CI sets ``CI``. Cells run one at a
time inside ``setup_kernel()`` so the kernel, its widgets and its polling thread live between them.
"""
from __future__ import annotations

import re

from idp.server import EMAILS
from support.kernel import WIDGET_VIEW, displayed, kernel_env, quickstart, stdout  # noqa: F401 - a fixture
from support.kernel_sign_in import shown_bundle, shown_code, widget_values

def test_sign_in_cell_returns_while_pending_and_a_later_cell_gets_the_token(idp, kernel_env):
    kernel_env(idp.issuer)
    kernel = quickstart()
    with kernel.client.setup_kernel():
        took = kernel.execute(0)
        assert WIDGET_VIEW in displayed(kernel.cell(0))
        code = shown_code(kernel)
        assert code in shown_bundle(kernel)["text/html"]
        assert took < 30  # the cell finished; the person has not signed in yet
        kernel.execute(1)
        assert stdout(kernel.cell(1)) == "the kernel is free: 285\n"
        assert idp.token_log("device_code", user_code=code) and \
            all(e["outcome"] == "authorization_pending" for e in idp.token_log("device_code", user_code=code))
        idp.approve_device(code, "alice")
        kernel.execute(2)
        assert re.fullmatch(rf"signed in as {EMAILS['alice']} - access token of \d+ characters\n",
                            stdout(kernel.cell(2)))
        assert kernel.run("print(me.status.value, me.state.user_code == '')") == "signed_in True\n"


def test_cancel_in_the_kernel_stops_polling(idp, kernel_env):
    kernel_env(idp.issuer)
    kernel = quickstart()
    with kernel.client.setup_kernel():
        kernel.execute(0)
        code = shown_code(kernel)
        out = kernel.run("import threading\nme.cancel()\nprint(me.status.value, "
                         "[t.name for t in threading.enumerate() if t.name.startswith('nbauth')])")
        assert out == "cancelled []\n"
        polls = len(idp.token_log("device_code", user_code=code))
        idp.approve_device(code, "alice")
        out = kernel.run("import time\ntime.sleep(1.5)  # a poll interval and a half: nothing may poll now\n"
                         "print(me.status.value, me.account)")
        assert out == "cancelled None\n"
        assert len(idp.token_log("device_code", user_code=code)) == polls


def test_expired_code_then_sign_in_again_in_the_kernel(make_idp, kernel_env):
    provider = make_idp(device_code_ttl=3)
    kernel_env(provider.issuer)
    kernel = quickstart()
    with kernel.client.setup_kernel():
        kernel.execute(0)
        first = shown_code(kernel)
        assert kernel.run("print(me.wait(30).value)") == "expired\n"
        kernel.run("me.sign_in_again()")
        second = shown_code(kernel)
        assert second and second != first
        provider.approve_device(second, "bob")
        kernel.execute(2)
        assert stdout(kernel.cell(2)).startswith(f"signed in as {EMAILS['bob']}")


#: Links nbauth's URL rules accept (no whitespace, http or https) but the widget must not make
#: clickable (http off loopback) nor let inject markup; a javascript: link is refused outright.
HOSTILE_URI = "http://evil.example/<img/src=x/onerror=alert(1)>"
HOSTILE_CODE = '<script>alert("code")</script>'


def hostile_provider(server) -> None:
    issuer = server.url
    server.route("GET", "/.well-known/openid-configuration", (200, {}, {
        "issuer": issuer, "token_endpoint": issuer + "/token",
        "device_authorization_endpoint": issuer + "/device", "jwks_uri": issuer + "/jwks"}))
    server.route("POST", "/device", (200, {}, {
        "device_code": "dc", "user_code": HOSTILE_CODE, "verification_uri": HOSTILE_URI,
        "verification_uri_complete": "http://evil.example/<a/href='javascript:alert(2)'>click</a>",
        "message": "<b onmouseover=alert(3)>hi</b>", "expires_in": 600, "interval": 1}))
    server.route("POST", "/token", lambda request: (400, {}, {"error": "authorization_pending"}))


def test_hostile_provider_strings_are_inert_text(fake_server, kernel_env):
    hostile_provider(fake_server)
    kernel_env(fake_server.url)
    kernel = quickstart()
    with kernel.client.setup_kernel():
        kernel.execute(0)
        shown_code(kernel)
        widget_html = widget_values(kernel)
        fallback_html = shown_bundle(kernel)["text/html"]
        kernel.run("me.cancel()")
    for html in (fallback_html, widget_html):
        assert "<script" not in html and "<img" not in html and "<a href='javascript" not in html
        assert 'href="javascript' not in html
        assert "&lt;script&gt;alert(&quot;code&quot;)&lt;/script&gt;" in html
        assert '<code class="nbauth-unsafe-link">http://evil.example/&lt;img/src=x/onerror=alert(1)&gt;' in html
