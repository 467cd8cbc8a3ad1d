"""Token revocation (RFC 7009): tell the provider a signed-out account's refresh tokens are done with."""
from __future__ import annotations

import logging
from typing import Iterable

from ..exceptions import NbauthError
from ..protocol.client_auth import ClientAuth
from ..transport import Transport
from . import token_endpoint
from .authority import ProviderMetadata

logger = logging.getLogger("nbauth")


def revoke_refresh_tokens(transport: Transport, metadata: ProviderMetadata, client_auth: ClientAuth,
                          refresh_tokens: Iterable[str]) -> int:
    """Revoke ``refresh_tokens`` at the provider's revocation endpoint, if it advertises one;
    returns how many the provider accepted.

    Best effort: sign-out goes on locally whatever the provider says, so failures are logged
    (without the token) rather than raised.
    """
    if not metadata.revocation_endpoint:
        return 0
    return sum(_revoke(transport, metadata, client_auth, token) for token in refresh_tokens)


def _revoke(transport: Transport, metadata: ProviderMetadata, client_auth: ClientAuth, refresh_token: str) -> bool:
    data = {"token": refresh_token, "token_type_hint": "refresh_token"}
    try:
        response = token_endpoint.send_authenticated(
            transport, metadata.revocation_endpoint, data, client_auth,
            token_endpoint=metadata.token_endpoint, repeatable=True)
    except NbauthError as exc:
        logger.warning("could not revoke the refresh token: %s", exc)
        return False
    if response.status_code != 200:
        logger.warning("the provider refused to revoke the refresh token: HTTP %s", response.status_code)
        return False
    return True
