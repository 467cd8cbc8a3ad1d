"""The transport: timeouts, retries and a User-Agent around ``requests`` or an injected client."""
from __future__ import annotations

import logging
import platform
import threading
import time
from typing import Any, Callable, Mapping, Optional, Tuple, Union
from urllib.parse import urlsplit

from .._version import __version__
from ..exceptions import ProtocolError, TransportError
from .base import MAX_BODY_BYTES, HttpClient, HttpResponse
from .retry import RetryPolicy, parse_retry_after

logger = logging.getLogger("nbauth.http")

Timeout = Union[float, Tuple[float, float]]
DEFAULT_TIMEOUT: Tuple[float, float] = (10.0, 30.0)
_CHUNK = 64 * 1024


def _user_agent() -> str:
    import requests

    return f"nbauth/{__version__} python/{platform.python_version()} requests/{requests.__version__}"


def _never_sent(exc: BaseException) -> bool:
    """True when a requests error proves the request never reached the server."""
    import requests

    if isinstance(exc, requests.exceptions.ConnectTimeout):
        return True
    if isinstance(exc, requests.exceptions.ConnectionError):
        import urllib3.exceptions

        reason = getattr(exc.args[0], "reason", None) if exc.args else None
        return isinstance(reason, urllib3.exceptions.NewConnectionError)
    return False


def _describe(exc: BaseException) -> str:
    """A short reason for a network failure that cannot echo a request body."""
    import requests

    for kind, text in ((requests.exceptions.SSLError, "TLS verification failed"),
                       (requests.exceptions.ConnectTimeout, "connection timed out"),
                       (requests.exceptions.ReadTimeout, "no answer before the timeout"),
                       (requests.exceptions.ConnectionError, "connection failed")):
        if isinstance(exc, kind):
            return text
    return type(exc).__name__


class Transport:
    """Sends nbauth's HTTP requests.

    ``http_client`` is MSAL's injectable client (anything with ``get``/``post`` like a
    ``requests.Session``); by default nbauth makes its own session, which takes proxies and
    the CA bundle from the environment as requests does. ``post_headers`` go with every POST
    (token and device-code requests), as MSAL's ``x-app-name`` / ``x-app-ver`` do.
    """

    def __init__(self, http_client: Optional[HttpClient] = None, *, timeout: Timeout = DEFAULT_TIMEOUT,
                 retry: RetryPolicy = RetryPolicy(), sleep: Callable[[float], None] = time.sleep,
                 clock: Callable[[], float] = time.time, post_headers: Optional[Mapping[str, str]] = None):
        self._client = http_client
        self.post_headers = dict(post_headers or {})
        self._own_client = http_client is None
        self._lock = threading.Lock()
        self.timeout = timeout
        self.retry = retry
        self._sleep = sleep
        self._clock = clock

    def __repr__(self) -> str:
        return f"Transport(timeout={self.timeout!r}, retry={self.retry!r})"

    @property
    def client(self) -> HttpClient:
        if self._client is None:
            with self._lock:
                if self._client is None:
                    import requests

                    session = requests.Session()
                    session.headers["User-Agent"] = _user_agent()
                    self._client = session
        return self._client

    def get(self, url: str, *, headers: Optional[Mapping[str, str]] = None) -> HttpResponse:
        """GET a public document (discovery, JWKS); always safe to retry."""
        return self._send("GET", url, headers=headers, repeatable=True)

    def post_form(self, url: str, data: Mapping[str, Any], *, headers: Optional[Mapping[str, str]] = None,
                  repeatable: bool) -> HttpResponse:
        """POST a form; ``repeatable`` says whether the server could consume it (see RetryPolicy)."""
        return self._send("POST", url, data=dict(data), headers={**self.post_headers, **(headers or {})},
                          repeatable=repeatable)

    def _send(self, method: str, url: str, *, repeatable: bool, data: Optional[dict] = None,
              headers: Optional[Mapping[str, str]] = None) -> HttpResponse:
        attempt = 0
        while True:
            attempt += 1
            try:
                response = self._send_once(method, url, data, headers)
            except TransportError as exc:
                delay = self.retry.delay_after_error(attempt, sent=not getattr(exc, "never_sent", False),
                                                     repeatable=repeatable)
                if delay is None:
                    raise
                logger.debug("%s %s failed (%s); retry %d in %.2fs", method, _safe_url(url), exc, attempt, delay)
            else:
                retry_after = parse_retry_after(response.header("Retry-After"), self._clock())
                delay = self.retry.delay_after_status(attempt, response.status_code, retry_after, repeatable)
                if delay is None:
                    return response
                logger.debug("%s %s answered %d; retry %d in %.2fs", method, _safe_url(url),
                             response.status_code, attempt, delay)
            self._sleep(delay)

    def _send_once(self, method: str, url: str, data: Optional[dict],
                   headers: Optional[Mapping[str, str]]) -> HttpResponse:
        import requests

        kwargs: dict = {"headers": dict(headers or {})}
        if method == "POST":
            kwargs.update(data=data)
        streaming = isinstance(self.client, requests.Session)  # MSAL's http_client takes only its keywords
        if streaming:  # No redirects, ever: a token request must not be resent elsewhere, and a document
            kwargs.update(timeout=self.timeout, allow_redirects=False, stream=True)  # must come from the URL
        try:
            raw = getattr(self.client, method.lower())(url, **kwargs)
            if streaming:
                text = _read_text(raw, url, _seconds_to_read(self.timeout))
            else:
                text = _checked_text(raw.text, url)
        except (requests.exceptions.RequestException, OSError) as exc:
            error = TransportError(f"{method} {_safe_url(url)}: {_describe(exc)}", url=_safe_url(url))
            error.never_sent = _never_sent(exc)  # type: ignore[attr-defined]
            raise error from None
        logger.debug("%s %s -> %s", method, _safe_url(url), raw.status_code)
        return HttpResponse(status_code=raw.status_code, text=text, url=url,
                            headers=dict(getattr(raw, "headers", None) or {}))  # MSAL's minimal shape has none

    def close(self) -> None:
        """Close the session nbauth made (an injected client is left to its owner)."""
        if self._own_client and self._client is not None:
            self._client.close()


def _too_long(url: str) -> ProtocolError:
    return ProtocolError(f"the answer from {_safe_url(url)} is longer than {MAX_BODY_BYTES >> 20} MiB; "
                         "it was not read")


def _seconds_to_read(timeout: Timeout) -> float:
    """How long a whole answer may take to arrive: the read timeout, which requests applies to
    each wait for bytes only (a server dripping a byte at a time would never meet it)."""
    return timeout[1] if isinstance(timeout, tuple) else timeout


def _read_text(raw: Any, url: str, seconds: float) -> str:
    """A streamed ``requests`` response's body as text, read (and decompressed) up to the cap
    within ``seconds``: a longer one, or one declared longer, is a ProtocolError, and never held
    whole; a slower one is a read timeout."""
    import requests

    deadline = time.monotonic() + seconds
    try:
        declared = raw.headers.get("Content-Length", "")
        if declared.isdigit() and int(declared) > MAX_BODY_BYTES:
            raise _too_long(url)
        body = bytearray()
        for chunk in raw.iter_content(_CHUNK):
            body += chunk
            if len(body) > MAX_BODY_BYTES:
                raise _too_long(url)
            if time.monotonic() > deadline:
                raise requests.exceptions.ReadTimeout("the answer took longer than the read timeout")
    finally:
        raw.close()  # an unread rest is dropped with the connection
    try:
        return body.decode(raw.encoding or "utf-8", errors="replace")  # as requests' .text does
    except LookupError:  # a charset Python does not know
        return body.decode("utf-8", errors="replace")


def _checked_text(text: str, url: str) -> str:
    """An injected client's body, which it read whole: refused past the cap (counted in characters,
    each at least one byte), so it goes no further (not parsed, not cached)."""
    if len(text) > MAX_BODY_BYTES:
        raise _too_long(url)
    return text


def _safe_url(url: str) -> str:
    """The URL without its query string, which could carry a code or a hint."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}{parts.path}"
