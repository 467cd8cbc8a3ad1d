"""nbauth's Jupyter server extension: the page a browser sign-in's redirect lands on, and the relay
that brings a widget's clicks to a busy kernel.

Enabled by ``jupyter_server_config.d/nbauth.json``, which the package installs; it adds two
handlers, ``<base_url>nbauth/callback`` (``nbauth.serverext.callback``) and
``<base_url>nbauth/relay/<id>`` (``nbauth.serverext.relay``). Importing this module
imports nothing from Jupyter, so nbauth works where jupyter_server is not installed.
"""
from __future__ import annotations

from typing import Any, Dict, List


def _jupyter_server_extension_points() -> List[Dict[str, str]]:
    return [{"module": "nbauth.serverext"}]


def _load_jupyter_server_extension(serverapp: Any) -> None:
    from . import callback, relay

    callback.install(serverapp.web_app)
    relay.install(serverapp.web_app, serverapp.runtime_dir)
