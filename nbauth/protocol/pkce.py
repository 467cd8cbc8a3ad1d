"""PKCE (RFC 7636), S256 only: the verifier stays here, only its hash travels in the URL."""
from __future__ import annotations

import base64
import hashlib
import re
import secrets
from dataclasses import dataclass
from typing import Optional

from ..exceptions import ConfigurationError

METHOD = "S256"
_VERIFIER = re.compile(r"^[A-Za-z0-9\-._~]{43,128}$")


def challenge_s256(verifier: str) -> str:
    """BASE64URL(SHA256(ASCII(verifier))) without padding (RFC 7636 section 4.2)."""
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


@dataclass(frozen=True)
class Pkce:
    """A code verifier and its S256 challenge; the repr never shows the verifier."""

    verifier: str
    challenge: str
    method: str = METHOD

    def __post_init__(self) -> None:
        if self.method != METHOD or not isinstance(self.verifier, str) or not _VERIFIER.match(self.verifier) \
                or self.challenge != challenge_s256(self.verifier):
            raise ConfigurationError("PKCE is S256 only: a verifier of 43 to 128 characters and its S256 challenge")

    def __repr__(self) -> str:
        return f"Pkce(verifier=<redacted>, challenge={self.challenge!r}, method={self.method!r})"


def new_pkce(verifier: Optional[str] = None) -> Pkce:
    """A fresh PKCE pair (64 random URL-safe characters), or the pair for a given verifier."""
    if verifier is None:
        verifier = secrets.token_urlsafe(48)
    elif not isinstance(verifier, str) or not _VERIFIER.match(verifier):
        raise ConfigurationError("a PKCE code verifier must be 43 to 128 characters of A-Z a-z 0-9 - . _ ~")
    return Pkce(verifier=verifier, challenge=challenge_s256(verifier))
