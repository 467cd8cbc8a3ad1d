"""The sign-in callback page: hands the redirect's query to the notebook page, then closes.

The provider redirects the sign-in window here (``<base_url>nbauth/callback?code=...&state=...``).
The page is static: it never puts the query into HTML; its one script posts the query's
parameters to ``BroadcastChannel(CHANNEL)``, where the widget that started the sign-in matches
them by ``state`` (its kernel holds the PKCE verifier, without which the code is useless), removes
the query from the window's address and history, and closes the window. A same-origin channel
reaches the notebook page even after a provider's ``Cross-Origin-Opener-Policy`` cut the window
off from its opener. The server keeps nothing; the page is never cached and sends no referrer.
"""
from __future__ import annotations

import base64
import hashlib
from typing import Any

from jupyter_server.base.handlers import JupyterHandler
from jupyter_server.utils import url_path_join
from tornado import web

#: The path under the server's base URL, and the channel the page posts on.
PATH = "nbauth/callback"
CHANNEL = "nbauth-sign-in"

_SCRIPT = """
(function () {
  var params = {};
  new URLSearchParams(window.location.search).forEach(function (value, name) { params[name] = value; });
  window.history.replaceState(null, "", window.location.pathname);
  if (typeof BroadcastChannel === "function" && params.state) {
    var channel = new BroadcastChannel("%s");
    channel.postMessage({ type: "nbauth-redirect", params: params });
    channel.close();
    document.getElementById("nbauth-note").textContent = "Signed in here; this window closes itself.";
  }
  window.close();
})();
""" % CHANNEL
_SCRIPT_HASH = base64.b64encode(hashlib.sha256(_SCRIPT.encode("utf-8")).digest()).decode("ascii")
PAGE = f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="referrer" content="no-referrer">
<title>nbauth sign-in</title></head>
<body style="font-family: sans-serif; margin: 2em">
<p id="nbauth-note">Back from sign-in. You can close this window and return to your notebook.</p>
<script>{_SCRIPT}</script>
</body></html>
"""
CONTENT_SECURITY_POLICY = (f"default-src 'none'; script-src 'sha256-{_SCRIPT_HASH}'; "
                           "base-uri 'none'; form-action 'none'; frame-ancestors 'none'")


class CallbackHandler(JupyterHandler):
    """GET serves ``PAGE``, whatever the query (which only the page's script reads)."""

    @property
    def content_security_policy(self) -> str:
        return CONTENT_SECURITY_POLICY

    @web.authenticated
    def get(self) -> None:
        self.set_header("Content-Type", "text/html; charset=utf-8")
        self.set_header("Cache-Control", "no-store")
        self.set_header("Referrer-Policy", "no-referrer")
        self.finish(PAGE)


def install(web_app: Any) -> None:
    """Add the handler to a Jupyter server's tornado application."""
    route = url_path_join(web_app.settings.get("base_url", "/"), PATH)
    web_app.add_handlers(".*$", [(route, CallbackHandler)])
