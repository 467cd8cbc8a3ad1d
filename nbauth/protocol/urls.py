"""Web URLs with one reading: what nbauth decides on is what requests connects to (pure).

``urllib.parse`` (where nbauth checks hosts) and urllib3 (where requests connects) disagree on
some strings: ``https://evil.example\\@login.microsoftonline.com/`` is Microsoft's host to the first
and ``evil.example`` to the second; ``urlsplit`` silently drops tabs and newlines; urllib3 removes
``..`` segments. ``web_url`` accepts only the plain RFC 3986 forms on which they cannot disagree,
refusing the rest with an AuthorityError that names the problem, and rebuilds the URL from its
parts: lower-case scheme and host, no explicit default port, path, query and fragment as given
(percent escapes in upper case). Hosts must be ASCII: an international name is written in its
``xn--`` (punycode) form; nbauth does not convert it.
"""
from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from typing import Optional

from ..exceptions import AuthorityError

DEFAULT_PORTS = {"https": 443, "http": 80}
_SCHEME = re.compile(r"([A-Za-z][A-Za-z0-9+.-]*)://")
_TWO_READINGS = (  # (a character class, what it is called in the refusal)
    (re.compile(r"[\x00-\x20\x7f]"), "whitespace or control characters"),
    (re.compile(r"[^\x00-\x7f]"), "non-ASCII characters (write an international host in its xn-- form)"),
    (re.compile(r"\\"), "a backslash"),
)
_LABEL = re.compile(r"[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?\Z")
_NUMERIC_LABEL = re.compile(r"(?:[0-9]+|0x[0-9a-f]*)\Z")
_PORT = re.compile(r"[0-9]{1,5}\Z")
_BAD_ESCAPE = re.compile(r"%(?![0-9A-Fa-f]{2})")
_ESCAPE = re.compile(r"%[0-9A-Fa-f]{2}")
_DOT_SEGMENT = re.compile(r"(?:^|/)(?:\.|%2e){1,2}(?=/|$)", re.IGNORECASE)


@dataclass(frozen=True)
class WebUrl:
    """An http(s) URL both parsers read alike. ``host`` is lower case (an IPv6 address without
    brackets, as ``urlsplit``'s ``hostname``); ``port`` is None for the scheme's default."""

    url: str
    scheme: str
    host: str
    port: Optional[int]
    path: str

    @property
    def netloc(self) -> str:
        """``host[:port]`` as written in the URL."""
        return _netloc(self.host, self.port)

    @property
    def is_loopback(self) -> bool:
        return is_loopback_host(self.host)

    @property
    def is_safe(self) -> bool:
        """https, or http on a loopback host: fit for requests and links."""
        return self.scheme == "https" or self.is_loopback


def is_loopback_host(host: str) -> bool:
    """True for localhost and loopback IP addresses (127.0.0.0/8, ::1)."""
    host = host.strip("[]").lower()
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def web_url(text: object, what: str) -> WebUrl:
    """``text`` read once as an http(s) URL; AuthorityError naming ``what`` and the problem."""
    if not isinstance(text, str):
        raise AuthorityError(f"{what} must be a URL string, not {type(text).__name__}")
    for pattern, problem in _TWO_READINGS:
        if pattern.search(text):
            raise AuthorityError(f"{what} has {problem}: {text!r}")
    match = _SCHEME.match(text)
    scheme = match.group(1).lower() if match else ""
    if scheme not in DEFAULT_PORTS:
        raise AuthorityError(f"{what} is not an absolute URL with an https (or http) scheme: {text!r}")
    rest = text[match.end():]
    split = min((i for i in map(rest.find, "/?#") if i >= 0), default=len(rest))
    netloc, tail = rest[:split], rest[split:]
    if "@" in netloc:
        raise AuthorityError(f"{what} has user information (an '@' before the host): {text!r}")
    if "%" in netloc:
        raise AuthorityError(f"{what} has a percent-encoded host: {text!r}")
    host, port = _host_and_port(netloc, scheme, what, text)
    if _BAD_ESCAPE.search(tail):
        raise AuthorityError(f"{what} has a '%' that is not a percent-encoded byte: {text!r}")
    tail = _ESCAPE.sub(lambda escape: escape.group().upper(), tail)
    path = re.split(r"[?#]", tail, maxsplit=1)[0]
    if _DOT_SEGMENT.search(path):
        raise AuthorityError(f"{what} has a '.' or '..' dot segment in its path: {text!r}")
    return WebUrl(url=f"{scheme}://{_netloc(host, port)}{tail}", scheme=scheme, host=host, port=port, path=path)


def _netloc(host: str, port: Optional[int]) -> str:
    host = f"[{host}]" if ":" in host else host
    return host if port is None else f"{host}:{port}"


def _host_and_port(netloc: str, scheme: str, what: str, text: str) -> "tuple[str, Optional[int]]":
    if netloc.startswith("["):
        host, bracket, port_text = netloc[1:].lower().partition("]")
        try:
            ipaddress.IPv6Address(host if bracket else "")
        except ValueError:
            raise AuthorityError(f"{what}'s host is not a valid IPv6 address: {text!r}") from None
    else:
        host, colon, port_text = netloc.lower().partition(":")
        port_text = colon + port_text
        _check_name(host, what, text)
    if not port_text:
        return host, None
    if not port_text.startswith(":") or not _PORT.match(port_text[1:]) or not 0 < int(port_text[1:]) < 65536:
        raise AuthorityError(f"{what} has no valid port (1 to 65535) after its host: {text!r}")
    port = int(port_text[1:])
    return host, None if port == DEFAULT_PORTS[scheme] else port


def _check_name(host: str, what: str, text: str) -> None:
    """A DNS name of letters, digits, '-' and '_', or a dotted-quad IPv4 address. A name ending
    in a number is an IPv4 address to browsers and resolvers (``127.1``, ``0x7f.1``), so it must
    be one written in full."""
    if not host:
        raise AuthorityError(f"{what} is not an absolute URL (it has no host): {text!r}")
    labels = host.split(".")
    if _NUMERIC_LABEL.match(labels[-1]):
        try:
            ipaddress.IPv4Address(host)
        except ValueError:
            raise AuthorityError(f"{what}'s host {host!r} is not a valid IPv4 address "
                                 f"(write all four numbers in decimal): {text!r}") from None
    elif len(host) > 253 or not all(_LABEL.match(label) for label in labels):
        raise AuthorityError(f"{what}'s host {host!r} is not a valid host name: {text!r}")

