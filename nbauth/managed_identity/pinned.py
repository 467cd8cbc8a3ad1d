"""An HTTPS client that trusts exactly one server certificate, named by its SHA-1 thumbprint.

Service Fabric's managed-identity endpoint presents the cluster's own certificate (often
self-signed, and no CA vouches for it); ``IDENTITY_SERVER_THUMBPRINT`` names it. urllib3 checks
the thumbprint of the certificate the server presents right after the TLS handshake, in constant
time, before any byte of the request (which carries the endpoint's ``Secret`` header) is written;
no CA, host name or proxy plays a part, and redirects are not followed. The client has MSAL's
minimal ``http_client`` shape, so nbauth's ``Transport`` (timeouts, retries) drives it.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping, Optional, Tuple

from ..exceptions import ProtocolError
from ..transport.base import MAX_BODY_BYTES
from .identity import ManagedIdentityError

_SEPARATORS = " \t\r\n:"


def sha1_thumbprint(text: str) -> str:
    """``text`` as a SHA-1 thumbprint (40 hex digits; spaces and colons dropped), lowercased;
    ManagedIdentityError naming IDENTITY_SERVER_THUMBPRINT otherwise."""
    digits = "".join(c for c in str(text) if c not in _SEPARATORS).lower()
    if len(digits) != 40 or any(c not in "0123456789abcdef" for c in digits):
        raise ManagedIdentityError("IDENTITY_SERVER_THUMBPRINT must be a SHA-1 certificate thumbprint (40 hex digits)")
    return digits


@dataclass(frozen=True)
class PinnedResponse:
    status_code: int
    text: str
    headers: Mapping[str, str] = field(default_factory=dict)


class PinnedClient:
    """GETs over HTTPS to servers presenting the certificate with ``thumbprint`` (and no other)."""

    def __init__(self, thumbprint: str, timeout: Tuple[float, float] = (10.0, 30.0)) -> None:
        import urllib3

        self._pool = urllib3.PoolManager(cert_reqs="CERT_NONE", assert_fingerprint=sha1_thumbprint(thumbprint),
                                         retries=False, timeout=urllib3.Timeout(connect=timeout[0], read=timeout[1]))

    def __repr__(self) -> str:
        return "PinnedClient()"

    def get(self, url: str, params: Optional[dict] = None, headers: Optional[dict] = None, **_: Any) -> PinnedResponse:
        """One GET; a certificate other than the pinned one is a ``requests`` SSLError, a network
        failure a ConnectionError (what the transport expects of an injected client)."""
        import requests
        import urllib3

        if not url.lower().startswith("https://"):
            raise ManagedIdentityError("the Service Fabric managed identity endpoint must use https")
        try:
            raw = self._pool.request("GET", url, fields=params, headers=headers, redirect=False, preload_content=False)
        except urllib3.exceptions.SSLError:
            raise requests.exceptions.SSLError("the server's certificate is not the one IDENTITY_SERVER_THUMBPRINT "
                                               "names") from None
        except urllib3.exceptions.HTTPError as exc:
            raise requests.exceptions.ConnectionError(type(exc).__name__) from None
        try:
            body = raw.read(MAX_BODY_BYTES + 1)
        except urllib3.exceptions.HTTPError as exc:
            raise requests.exceptions.ConnectionError(type(exc).__name__) from None
        finally:  # closed, not kept alive: the rest of an answer over the cap is never read
            raw.close()
            raw.release_conn()
        if len(body) > MAX_BODY_BYTES:
            raise ProtocolError(f"the answer from the Service Fabric endpoint is longer than {MAX_BODY_BYTES >> 20} MiB; "
                                "it was not read")
        return PinnedResponse(raw.status, body.decode("utf-8", errors="replace"), dict(raw.headers))
