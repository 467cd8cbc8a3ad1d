"""How a client proves who it is at the token endpoint (RFC 6749 section 2.3).

A public client only names itself; confidential forms (secrets, assertions) live in
``nbauth.credentials.client_credential`` and satisfy the same ``ClientAuth`` protocol.
"""
from __future__ import annotations

from typing import Protocol


class ClientAuth(Protocol):
    """Adds a client's authentication to a token request before it is sent."""

    client_id: str

    def apply(self, data: dict, headers: dict, token_endpoint: str) -> None:
        """Add fields to the form ``data`` and/or ``headers`` for a request to ``token_endpoint``."""


class PublicClientAuth:
    """A public client (RFC 6749 section 2.1): ``client_id`` in the form, no secret."""

    auth_method = "none"

    def __init__(self, client_id: str):
        self.client_id = client_id

    def __repr__(self) -> str:
        return f"PublicClientAuth(client_id={self.client_id!r})"

    def apply(self, data: dict, headers: dict, token_endpoint: str) -> None:
        data["client_id"] = self.client_id
