"""Token revocation (RFC 7009): tell the provider a signed-out account's refresh tokens are done with."""
from __future__ import annotations

import logging
from typing import Any

from ..exceptions import NbauthError
from ..tokens.accounts import provider_query
from . import token_endpoint

logger = logging.getLogger("nbauth")


def revoke_refresh_tokens(app: Any, account: dict) -> int:
    """Revoke ``account``'s cached refresh tokens for ``app`` (of its provider) at the provider's revocation
    endpoint, if it advertises one; returns how many the provider accepted.

    Best effort: sign-out goes on locally whatever the provider says, so failures are logged
    (without the token) rather than raised.
    """
    cache = app.token_cache
    query = {"environment": account.get("environment"), "home_account_id": account.get("home_account_id"),
             "client_id": app.client_id, **provider_query(app.authority)}
    secrets = [entry["secret"] for entry in cache.search(cache.CredentialType.REFRESH_TOKEN, query=query)]
    if not secrets:
        return 0
    try:
        metadata = app._metadata()
    except NbauthError as exc:
        logger.warning("could not revoke the refresh token: %s", exc)
        return 0
    if not metadata.revocation_endpoint:
        return 0
    return sum(_revoke(app, metadata, secret) for secret in secrets)


def _revoke(app: Any, metadata: Any, refresh_token: str) -> bool:
    data = {"token": refresh_token, "token_type_hint": "refresh_token"}
    try:
        response = token_endpoint.send_authenticated(
            app._transport, metadata.revocation_endpoint, data, app._client_auth,
            token_endpoint=metadata.token_endpoint, repeatable=True)
    except NbauthError as exc:
        logger.warning("could not revoke the refresh token: %s", exc)
        return False
    if response.status_code != 200:
        logger.warning("the provider refused to revoke the refresh token: HTTP %s", response.status_code)
        return False
    return True
