"""Helpers for tests that search for secrets where they must not be (no tests): what a session
sent, the secrets a request form can carry, ``http.client``'s wire dump, tracebacks, PEM keys."""
from __future__ import annotations

import re
import traceback

import requests
from cryptography.hazmat.primitives import serialization

#: http.client's dump lines, and the request bodies it prints as bytes reprs (``print`` writes
#: "send:" and the body separately, so with threads the body may land on another line).
WIRE_DUMP = re.compile(r"(?:send|reply|header): .*|b'[^'\n]*'|b\"[^\"\n]*\"")
#: The request form fields that carry a secret.
SENT_SECRETS = ("code", "code_verifier", "refresh_token", "password", "device_code", "client_secret",
                "client_assertion", "assertion", "token")


class RecordingSession(requests.Session):
    """A real requests session that remembers the headers and form of every request it sends."""

    def __init__(self) -> None:
        super().__init__()
        self.sent: list = []

    def request(self, method, url, **kwargs):
        self.sent.append({"url": url, "headers": dict(kwargs.get("headers") or {}), "data": kwargs.get("data")})
        return super().request(method, url, **kwargs)

    def to_token_endpoint(self) -> list:
        return [s for s in self.sent if s["url"].endswith("/token")]


def traceback_text(exc: BaseException) -> str:
    """The traceback Python would print for ``exc``."""
    return "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))


def key_lines(pem: str) -> list:
    """The base64 lines of a PEM (its secret part, without the BEGIN/END lines)."""
    return [line for line in pem.splitlines() if line and "-----" not in line]


def encrypted(key_pem: str, passphrase: str) -> str:
    """The PEM private key encrypted with ``passphrase`` (PKCS#8)."""
    key = serialization.load_pem_private_key(key_pem.encode(), None)
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.BestAvailableEncryption(passphrase.encode())).decode()
