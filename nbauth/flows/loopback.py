"""The loopback redirect listener for interactive sign-in (RFC 8252 section 7.3).

Listens on 127.0.0.1 (an ephemeral port unless one is given), and for a ``localhost`` redirect on
::1 too, at the same port: a browser may resolve localhost to either, so no other local process
may hold the other and receive the code. Waits for the one redirect that carries this sign-in's
``state``; answers it with a success or failure page, ignores anything else (other paths, other
states) with a short error page, and stops when closed. It serves at most ``MAX_CONNECTIONS`` at
once: past that, the connection idle longest is dropped, so idle ones cannot keep the browser out.
"""
from __future__ import annotations

import errno
import html
import logging
import socket
import string
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Dict, List, Optional, Tuple
from urllib.parse import parse_qsl, urlsplit

from ..exceptions import ConfigurationError, FlowError
from ..protocol.authcode import state_matches

logger = logging.getLogger("nbauth.flows.loopback")

DEFAULT_REDIRECT_URI = "http://localhost"  # what MSAL uses and Entra ID registers for desktop apps
SUCCESS_TEMPLATE = "Authentication completed. You can close this window now."
ERROR_TEMPLATE = "Authentication failed. $error: $error_description."
_PAGE = "<!DOCTYPE html><html><head><meta charset='utf-8'><title>{title}</title></head><body><p>{body}</p></body></html>"
#: The redirect's fields a page may show (never the code or the state).
_PAGE_FIELDS = ("error", "error_description", "error_uri")
#: Connections served at once (a browser opens one or two).
MAX_CONNECTIONS = 8
#: Ephemeral ports tried for one free on both 127.0.0.1 and ::1.
_BIND_TRIES = 5
#: What binding ::1 fails with on a machine without IPv6 loopback, where nobody can listen there.
_NO_IPV6 = (errno.EADDRNOTAVAIL, errno.EAFNOSUPPORT)


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


class _Connections:
    """The listener's open connections, at most ``limit``. One past that drops the oldest still
    waiting for its request (as nginx reuses idle keep-alive connections when it runs out), or is
    itself closed when all are busy answering (which takes a moment)."""

    def __init__(self, limit: int):
        self._limit = limit
        self._lock = threading.Lock()
        self._idle: Dict[socket.socket, None] = {}  # oldest first
        self._busy: set = set()

    def admit(self, connection: socket.socket) -> bool:
        with self._lock:
            if len(self._idle) + len(self._busy) >= self._limit:
                if not self._idle:
                    return False
                oldest = next(iter(self._idle))
                del self._idle[oldest]
                _hang_up(oldest)  # its thread reads the end of the stream and finishes
            self._idle[connection] = None
            return True

    def busy(self, connection: socket.socket) -> None:
        with self._lock:
            if connection in self._idle:  # not dropped meanwhile
                del self._idle[connection]
                self._busy.add(connection)

    def done(self, connection: socket.socket) -> None:
        with self._lock:
            self._idle.pop(connection, None)
            self._busy.discard(connection)

    def hang_up_all(self) -> None:
        with self._lock:
            for connection in [*self._idle, *self._busy]:
                _hang_up(connection)


def _hang_up(connection: socket.socket) -> None:
    try:
        connection.shutdown(socket.SHUT_RDWR)
    except OSError:  # already gone
        pass


class _Handler(BaseHTTPRequestHandler):
    server: "_Server"
    timeout = 10  # seconds a connection may stall before it is dropped (its thread and socket freed)

    def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
        self.server.connections.busy(self.connection)
        status, page = self.server.listener.offer(self.path)
        try:
            self.send_response(status)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(page)))
            self.send_header("Cache-Control", "no-store")
            self.end_headers()
            self.wfile.write(page)
        finally:  # the waiter may close the listener at once: only after the page went out
            self.server.listener.answered()

    def log_message(self, format: str, *args: object) -> None:  # the query carries the code
        logger.debug("loopback listener answered a request")


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = socket.SOMAXCONN  # a burst of connections waits to be admitted, not refused
    listener: "LoopbackListener"

    def __init__(self, address: Tuple[str, int], family: socket.AddressFamily, connections: _Connections):
        self.address_family = family
        self.connections = connections
        super().__init__(address, _Handler)

    def process_request(self, request: socket.socket, client_address: object) -> None:  # type: ignore[override]
        if self.connections.admit(request):
            super().process_request(request, client_address)
        else:
            self.shutdown_request(request)

    def shutdown_request(self, request: socket.socket) -> None:  # type: ignore[override]
        self.connections.done(request)
        super().shutdown_request(request)

    def handle_error(self, request: object, client_address: object) -> None:
        """A browser that went away mid-answer (or a connection hung up as one too many) is no
        error of the sign-in: logged, not printed to stderr as socketserver does."""
        logger.debug("loopback listener: a connection ended early", exc_info=True)


def _cannot_listen(address: str, port: int, exc: OSError) -> ConfigurationError:
    return ConfigurationError(f"cannot listen on {address}:{port} for the sign-in redirect: {exc.strerror}")


def _bind(family: socket.AddressFamily, address: str, port: int, connections: _Connections) -> _Server:
    try:
        return _Server((address, port), family, connections)
    except OSError as exc:
        raise _cannot_listen(address, port, exc) from None


def _listen(host: str, port: int, connections: _Connections) -> List[_Server]:
    """Servers on 127.0.0.1 and, for ``localhost``, on ::1 at the same port (``port``, or an
    ephemeral one free on both); ConfigurationError when that cannot be had."""
    for _ in range(_BIND_TRIES):
        ipv4 = _bind(socket.AF_INET, "127.0.0.1", port, connections)
        if host != "localhost":
            return [ipv4]
        chosen = ipv4.server_address[1]
        try:
            return [ipv4, _Server(("::1", chosen), socket.AF_INET6, connections)]
        except OSError as exc:
            if exc.errno in _NO_IPV6:
                logger.debug("no IPv6 loopback here; listening on 127.0.0.1 only")
                return [ipv4]
            ipv4.server_close()
            if exc.errno != errno.EADDRINUSE or port:
                raise _cannot_listen("[::1]", chosen, exc) from None
    raise ConfigurationError(f"found no port free on both 127.0.0.1 and [::1] for the sign-in redirect "
                             f"in {_BIND_TRIES} tries")


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
        self._connections = _Connections(MAX_CONNECTIONS)
        self._servers = _listen(host, port, self._connections)
        self.port: int = self._servers[0].server_address[1]
        self.redirect_uri = f"http://{host}:{self.port}{path}"
        self._threads = []
        for server in self._servers:
            server.listener = self
            thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.2},
                                      name="nbauth-loopback", daemon=True)
            thread.start()
            self._threads.append(thread)

    def __repr__(self) -> str:
        return f"LoopbackListener(redirect_uri={self.redirect_uri!r})"

    def offer(self, request_path: str) -> Tuple[int, bytes]:
        """Take one request's path and query: the status and page to answer it with (a redirect
        taken here reaches ``wait`` once the handler has ``answered``)."""
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
        if params.get("error"):
            return 200, _page(self._error_template, params, "Sign-in failed")
        return 200, _page(self._success_template, params, "Signed in")

    def answered(self) -> None:
        """A request was answered: if it brought the redirect, ``wait`` returns it now."""
        if self._params is not None:
            self._arrived.set()

    def wait(self, timeout: Optional[float] = None) -> Dict[str, str]:
        """The redirect's query parameters; FlowError when none came within ``timeout`` s."""
        if not self._arrived.wait(timeout):
            raise FlowError(f"no sign-in response reached {self.redirect_uri} within {timeout} s")
        assert self._params is not None
        return self._params

    def close(self) -> None:
        """Stop listening, hang up open connections and release the port."""
        for server in self._servers:
            server.shutdown()
            server.server_close()
        self._connections.hang_up_all()
        for thread in self._threads:
            thread.join()

    def __enter__(self) -> "LoopbackListener":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
