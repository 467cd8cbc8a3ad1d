"""The loopback redirect listener for interactive sign-in (RFC 8252 section 7.3).

Listens on 127.0.0.1 (an ephemeral port unless one is given) for the one redirect that carries
this sign-in's ``state``; answers it with a success or failure page, ignores anything else
(other paths, other states) with a short error page, and stops when closed.
"""
from __future__ import annotations

import html
import logging
import string
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Dict, Optional, Tuple
from urllib.parse import parse_qsl, urlsplit

from .exceptions import ConfigurationError, FlowError
from .protocol.authcode import state_matches

logger = logging.getLogger("nbauth.loopback")

DEFAULT_REDIRECT_URI = "http://localhost"  # what MSAL uses and Entra ID registers for desktop apps
SUCCESS_TEMPLATE = "Authentication completed. You can close this window now."
ERROR_TEMPLATE = "Authentication failed. $error: $error_description."
_PAGE = "<!DOCTYPE html><html><head><meta charset='utf-8'><title>{title}</title></head><body><p>{body}</p></body></html>"
#: The redirect's fields a page may show (never the code or the state).
_PAGE_FIELDS = ("error", "error_description", "error_uri")


def parse_redirect_uri(redirect_uri: str, port: Optional[int]) -> Tuple[str, int, str]:
    """(host, port, path as written) of a loopback redirect URI; ``port`` applies when the URI
    has none (0: an ephemeral port)."""
    parts = urlsplit(redirect_uri)
    if parts.scheme != "http" or not parts.hostname or parts.hostname not in ("localhost", "127.0.0.1"):
        raise ConfigurationError(f"the redirect URI must be http://localhost or http://127.0.0.1 "
                                 f"(with an optional port and path), not {redirect_uri!r}")
    if parts.query or parts.fragment:
        raise ConfigurationError(f"the redirect URI must not have a query or fragment: {redirect_uri!r}")
    return parts.hostname, parts.port or port or 0, parts.path


def _page(template: str, params: Dict[str, str], title: str) -> bytes:
    values = {name: html.escape(params.get(name, "")) for name in _PAGE_FIELDS}
    body = string.Template(template).safe_substitute(values)
    return _PAGE.format(title=html.escape(title), body=body).encode("utf-8")


class _Handler(BaseHTTPRequestHandler):
    server: "_Server"
    timeout = 10  # seconds a connection may stall before it is dropped (its thread and socket freed)

    def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
        status, page = self.server.listener.offer(self.path)
        self.send_response(status)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(page)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        self.wfile.write(page)

    def log_message(self, format: str, *args: object) -> None:  # the query carries the code
        logger.debug("loopback listener answered a request")


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    listener: "LoopbackListener"


class LoopbackListener:
    """Waits for the redirect with ``state`` at ``redirect_uri`` (default http://localhost:<port>)."""

    def __init__(self, state: str, *, redirect_uri: Optional[str] = None, port: Optional[int] = None,
                 success_template: Optional[str] = None, error_template: Optional[str] = None):
        host, port, path = parse_redirect_uri(redirect_uri or DEFAULT_REDIRECT_URI, port)
        self._path = path or "/"
        self._state = state
        self._success_template = success_template or SUCCESS_TEMPLATE
        self._error_template = error_template or ERROR_TEMPLATE
        self._lock = threading.Lock()
        self._arrived = threading.Event()
        self._params: Optional[Dict[str, str]] = None
        try:
            self._server = _Server(("127.0.0.1", port), _Handler)
        except OSError as exc:
            raise ConfigurationError(f"cannot listen on 127.0.0.1:{port} for the sign-in redirect: "
                                     f"{exc.strerror}") from None
        self._server.listener = self
        self.port: int = self._server.server_address[1]
        self.redirect_uri = f"http://{host}:{self.port}{path}"
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.2},
                                        name="nbauth-loopback", daemon=True)
        self._thread.start()

    def __repr__(self) -> str:
        return f"LoopbackListener(redirect_uri={self.redirect_uri!r})"

    def offer(self, request_path: str) -> Tuple[int, bytes]:
        """Take one request's path and query: the status and page to answer it with."""
        try:
            parts = urlsplit(request_path)
        except ValueError:  # e.g. "GET http://[ HTTP/1.1"
            return 400, _page("Not a valid request.", {}, "Bad request")
        if (parts.path or "/") != self._path:
            return 404, _page("Not found.", {}, "Not found")
        pairs = parse_qsl(parts.query, keep_blank_values=True)
        params = dict(pairs)
        if len(params) != len(pairs):  # RFC 6749 section 3.1: no parameter twice
            return 400, _page("This response repeats a parameter; it was ignored.", {}, "Sign-in response ignored")
        if not state_matches(params, self._state):
            return 400, _page("This response does not belong to the sign-in in progress; it was ignored.",
                              {}, "Sign-in response ignored")
        with self._lock:
            if self._params is not None:
                return 409, _page("This sign-in has already received its response.", {}, "Already done")
            self._params = params
        self._arrived.set()
        if params.get("error"):
            return 200, _page(self._error_template, params, "Sign-in failed")
        return 200, _page(self._success_template, params, "Signed in")

    def wait(self, timeout: Optional[float] = None) -> Dict[str, str]:
        """The redirect's query parameters; FlowError when none came within ``timeout`` s."""
        if not self._arrived.wait(timeout):
            raise FlowError(f"no sign-in response reached {self.redirect_uri} within {timeout} s")
        assert self._params is not None
        return self._params

    def close(self) -> None:
        """Stop listening and release the port."""
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()

    def __enter__(self) -> "LoopbackListener":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
