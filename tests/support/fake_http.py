"""A tiny scripted HTTP(S) server on 127.0.0.1 for what a real provider cannot show.

503/429 with Retry-After, malformed discovery documents, Entra-only fields such as client_info,
dropped connections, outages (stop the server)::

    with FakeServer() as server:
        server.route("GET", "/.well-known/openid-configuration", (200, {}, {"issuer": ...}))
        server.route("POST", "/token", [(503, {"Retry-After": "1"}, ""), (200, {}, {...})])
        server.route("GET", "/echo", lambda request: (200, {}, request.query))
        ...
        server.wait_for_requests(2, path="/token")

A response is ``(status, headers, body)``; a ``dict``/``list`` body is sent as JSON, ``str`` as
UTF-8 text, an iterator of ``bytes`` as it is made (chunked, unless the headers give a length). :data:`DROP` as a response (or raising :class:`DropConnection` in a handler) closes
the connection without answering.
"""
from __future__ import annotations

import json
import socket
import ssl
import tempfile
import threading
import time
import traceback
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Callable, Iterator, Union
from urllib.parse import parse_qsl, urlsplit

from requests.structures import CaseInsensitiveDict

Response = tuple  # (status, headers, body)
Handler = Callable[["FakeRequest"], Response]


class DropConnection(Exception):
    """Raise in a handler to close the connection without an answer."""


DROP = object()  # a canned "response" that closes the connection without an answer


@dataclass(frozen=True)
class FakeRequest:
    method: str
    path: str
    query: dict[str, str]
    headers: CaseInsensitiveDict
    body: bytes
    form: dict[str, str]
    received_at: float = field(compare=False)  # time.monotonic() on arrival

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class _Route:
    canned: deque = field(default_factory=deque)
    handler: Union[Handler, None] = None


def _encode(body) -> tuple[bytes, str | None]:
    if body is None:
        return b"", None
    if isinstance(body, (dict, list)):
        return json.dumps(body).encode(), "application/json"
    if isinstance(body, str):
        return body.encode(), "text/plain; charset=utf-8"
    return bytes(body), None


class _RequestHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as real clients use
    server: _Server

    def setup(self) -> None:
        super().setup()
        self.server.fake._track(self.connection, add=True)

    def finish(self) -> None:
        try:
            super().finish()
        finally:
            self.server.fake._track(self.connection, add=False)

    def _serve(self) -> None:
        self.server.fake._serve(self)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = _serve

    def log_message(self, format, *args) -> None:  # noqa: A002 - the stdlib's name
        pass


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address, fake: FakeServer, tls: ssl.SSLContext | None) -> None:
        self.fake = fake
        self.tls = tls
        super().__init__(address, _RequestHandler)

    def get_request(self):
        sock, address = super().get_request()
        if self.tls is not None:
            sock.settimeout(5)
            sock = self.tls.wrap_socket(sock, server_side=True)  # a failed handshake is an OSError
            sock.settimeout(None)
        return sock, address

    def handle_error(self, request, client_address) -> None:
        pass  # clients that hang up mid-request are part of the tests, not noise


class FakeServer:
    """Scripted routes on ``127.0.0.1``; every request is recorded. Context manager.

    ``ca`` (a TestCA) makes it serve https with a certificate from that CA.
    """

    def __init__(self, *, ca=None, port: int = 0) -> None:
        self._ca = ca
        self._port = port
        self._routes: dict[tuple[str, str], _Route] = {}
        self._requests: list[FakeRequest] = []
        self._errors: list[str] = []
        self._changed = threading.Condition()
        self._connections: set[socket.socket] = set()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self._tmp: tempfile.TemporaryDirectory | None = None

    # ---- lifecycle -------------------------------------------------------------------------
    def start(self) -> FakeServer:
        if self._server is not None:
            raise RuntimeError("FakeServer already started")
        self._server = _Server(("127.0.0.1", self._port), self, self._tls_context())
        self._port = self._server.server_address[1]  # a restart reuses the port
        # stop() waits for the serving loop to see the request, up to one poll interval: hundreds
        # of tests stop a server, so the loop looks often
        self._thread = threading.Thread(target=self._server.serve_forever,
                                        kwargs={"poll_interval": 0.005}, name="fake-http", daemon=True)
        self._thread.start()
        return self

    def _tls_context(self) -> ssl.SSLContext | None:
        if self._ca is None:
            return None
        if self._tmp is None:
            self._tmp = tempfile.TemporaryDirectory(prefix="nbauth-fake-http-")
        cert, key = self._ca.issue_server_cert(Path(self._tmp.name), name="fake-http")
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(cert, key)
        return context

    def stop(self) -> None:
        """Stop listening and cut open connections (an outage, as clients see it)."""
        server, self._server = self._server, None
        if server is None:
            return
        server.shutdown()
        server.server_close()
        with self._changed:
            connections = list(self._connections)
        for connection in connections:
            try:
                connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        if self._thread is not None:
            self._thread.join(5)

    def close(self) -> None:
        self.stop()
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None

    def __enter__(self) -> FakeServer:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.close()

    @property
    def running(self) -> bool:
        """Listening: started and not stopped since."""
        return self._server is not None

    @property
    def port(self) -> int:
        return self._port

    @property
    def url(self) -> str:
        """Base URL without a trailing slash, e.g. ``http://127.0.0.1:41234``."""
        scheme = "https" if self._ca is not None else "http"
        return f"{scheme}://127.0.0.1:{self._port}"

    # ---- scripting ---------------------------------------------------------------------------
    def route(self, method: str, path: str, responder) -> None:
        """Answer ``method path`` with a handler, a fixed response, or a list of canned ones.

        A list is a queue used up one request at a time; once it is empty the route answers
        500 (the script did not expect another request). Replaces what the route had.
        """
        route = _Route()
        if callable(responder):
            route.handler = responder
        elif isinstance(responder, list):
            route.canned.extend(responder)
        else:
            route.handler = lambda request: responder
        with self._changed:
            self._routes[(method.upper(), path)] = route

    def enqueue(self, method: str, path: str, *responses) -> None:
        """Canned responses that come before the route's handler (e.g. one 503, then normal)."""
        with self._changed:
            route = self._routes.setdefault((method.upper(), path), _Route())
            route.canned.extend(responses)

    def _respond(self, request: FakeRequest):
        with self._changed:
            route = self._routes.get((request.method, request.path))
            if route is None:
                return 404, {}, {"error": "fake_http: no route", "route": f"{request.method} {request.path}"}
            if route.canned:
                return route.canned.popleft()
            handler = route.handler
        if handler is None:
            return 500, {}, {"error": "fake_http: no canned response left",
                             "route": f"{request.method} {request.path}"}
        return handler(request)

    # ---- serving -------------------------------------------------------------------------------
    def _track(self, connection: socket.socket, *, add: bool) -> None:
        with self._changed:
            (self._connections.add if add else self._connections.discard)(connection)

    def _serve(self, handler: _RequestHandler) -> None:
        request = self._read(handler)
        with self._changed:
            self._requests.append(request)
            self._changed.notify_all()
        try:
            response = self._respond(request)
            if response is DROP:
                raise DropConnection
        except DropConnection:
            handler.close_connection = True
            handler.connection.shutdown(socket.SHUT_RDWR)
            return
        except Exception:
            with self._changed:
                self._errors.append(traceback.format_exc())
            response = (500, {}, {"error": "fake_http: handler raised"})
        self._write(handler, request, *response)

    @staticmethod
    def _read(handler: _RequestHandler) -> FakeRequest:
        received_at = time.monotonic()
        parts = urlsplit(handler.path)
        length = int(handler.headers.get("Content-Length") or 0)
        body = handler.rfile.read(length) if length else b""
        headers = CaseInsensitiveDict(handler.headers.items())
        form = {}
        if headers.get("Content-Type", "").startswith("application/x-www-form-urlencoded"):
            form = dict(parse_qsl(body.decode("utf-8"), keep_blank_values=True))
        return FakeRequest(handler.command, parts.path, dict(parse_qsl(parts.query, keep_blank_values=True)),
                           headers, body, form, received_at)

    @staticmethod
    def _write(handler: _RequestHandler, request: FakeRequest, status: int, headers, body) -> None:
        if isinstance(body, Iterator):
            FakeServer._stream(handler, status, headers, body)
            return
        data, content_type = _encode(body)
        handler.send_response(status)
        headers = CaseInsensitiveDict(headers or {})
        if content_type and "Content-Type" not in headers:
            headers["Content-Type"] = content_type
        for name, value in headers.items():
            handler.send_header(name, str(value))
        handler.send_header("Content-Length", str(len(data)))
        handler.end_headers()
        if request.method != "HEAD":
            handler.wfile.write(data)

    @staticmethod
    def _stream(handler: _RequestHandler, status: int, headers, chunks: Iterator[bytes]) -> None:
        """Send ``chunks`` as they are made, then close: chunked unless ``headers`` give a length."""
        handler.close_connection = True
        headers = CaseInsensitiveDict(headers or {})
        chunked = "Content-Length" not in headers
        if chunked:
            headers["Transfer-Encoding"] = "chunked"
        handler.send_response(status)
        for name, value in headers.items():
            handler.send_header(name, str(value))
        handler.end_headers()
        try:
            for chunk in chunks:
                handler.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk) if chunked else chunk)
            if chunked:
                handler.wfile.write(b"0\r\n\r\n")
        except OSError:
            pass  # the client hung up, as one refusing a long answer does

    # ---- what happened ----------------------------------------------------------------------------
    @property
    def requests(self) -> list[FakeRequest]:
        """A copy of every request received so far, in order."""
        with self._changed:
            return list(self._requests)

    @property
    def errors(self) -> list[str]:
        """Tracebacks of handlers that raised (each was answered with 500)."""
        with self._changed:
            return list(self._errors)

    def requests_to(self, path: str, method: str | None = None) -> list[FakeRequest]:
        return [r for r in self.requests if r.path == path and (method is None or r.method == method.upper())]

    def wait_for_requests(
        self, n: int, timeout: float = 5.0, *, path: str | None = None, method: str | None = None
    ) -> list[FakeRequest]:
        """Block until ``n`` requests (to ``path``/``method`` if given) arrived; return them.

        Raises TimeoutError, listing what did arrive, if they do not within ``timeout`` seconds.
        """
        def matching() -> list[FakeRequest]:
            return [r for r in self._requests if (path is None or r.path == path)
                    and (method is None or r.method == method.upper())]

        with self._changed:
            if not self._changed.wait_for(lambda: len(matching()) >= n, timeout):
                seen = [f"{r.method} {r.path}" for r in self._requests]
                raise TimeoutError(f"waited {timeout}s for {n} request(s) to {path or 'any path'}; got {seen}")
            return matching()
