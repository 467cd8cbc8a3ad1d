"""The click relay's server half: ``POST <base_url>nbauth/relay/<id>`` with one click as JSON.

Jupyter's login and XSRF check guard it (a page of this server sends its ``_xsrf`` cookie as the
``X-XSRFToken`` header; a request with the server's token needs none). The click goes to the file
of that id that a kernel made (``nbauth.ui.relay.deliver``): 204 when it did, 404 when no kernel of
this server waits on that id, 400 for a click that is not one, 403 for a file that is not the user's.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

from jupyter_server.base.handlers import JupyterHandler
from jupyter_server.utils import url_path_join
from tornado import web

from ..cache.folder import Refused
from ..ui.relay import FOLDER, deliver

PATH = "nbauth/relay"


class RelayHandler(JupyterHandler):
    """Hands a click to the kernel that waits on the id in the path."""

    def initialize(self, folder: Path) -> None:
        self.folder = folder

    @web.authenticated
    def post(self, relay_id: str) -> None:
        try:
            delivered = deliver(self.folder, relay_id, self.request.body)
        except ValueError as error:
            raise web.HTTPError(400, str(error)) from None
        except Refused as error:
            raise web.HTTPError(403, str(error)) from None
        if not delivered:
            raise web.HTTPError(404, "no sign-in with that id waits on this server")
        self.set_header("Cache-Control", "no-store")
        self.set_status(204)
        self.finish()


def install(web_app: Any, runtime_dir: str) -> None:
    """Add the handler to a Jupyter server's tornado application (its kernels share ``runtime_dir``)."""
    route = url_path_join(web_app.settings.get("base_url", "/"), PATH, "([^/]+)")
    web_app.add_handlers(".*$", [(route, RelayHandler, {"folder": Path(runtime_dir) / FOLDER})])
