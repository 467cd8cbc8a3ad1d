"""After a token response arrives: verify its ID token, and file it in the cache as MSAL does.

Nothing is filed from a response that fails; a refresh that succeeded writes the rotated refresh
token over the one it replaces and creates no account (a concurrent ``remove_account`` wins).
"""
from __future__ import annotations

from typing import Any, Dict, List, Mapping, Optional

from ..cache.contract import EngineCache
from ..exceptions import IdTokenError
from ..protocol.idtoken_claims import check_id_token_claims
from ..protocol.oauth2 import Grant
from ..provider.authority import ProviderMetadata
from ..transport import Transport


def verified_claims(response: Mapping[str, Any], metadata: ProviderMetadata, transport: Transport, *,
                    client_id: str, nonce: Optional[str], max_age: Optional[int], now: float) -> Optional[dict]:
    """The claims of the response's ID token once its signature and claims check out; None
    without one. Raises IdTokenError (or, when the provider's keys cannot be had, what fetching
    them raised)."""
    if "id_token" not in response:
        return None
    if not metadata.jwks_uri:
        raise IdTokenError("the provider publishes no jwks_uri, so its ID tokens cannot be verified")
    from ..provider.jwks import verify_signature  # PyJWT and cryptography load only when a token arrives

    claims = verify_signature(response["id_token"], metadata.jwks_uri, transport)
    check_id_token_claims(claims, issuer=metadata.issuer, client_id=client_id, now=now, nonce=nonce,
                          max_age=max_age)
    return claims


def token_event(client_id: str, grant: Grant, response: Mapping[str, Any], claims: Optional[dict],
                granted: List[str], *, token_endpoint: str, environment: str, provider: Mapping[str, str],
                cache_data: Optional[Mapping[str, str]] = None) -> Dict[str, Any]:
    """MSAL's token event for ``TokenCache.add``; ``cache_data`` goes into its ``data`` (e.g.
    on-behalf-of's ``user_assertion_hash``), as does a password grant's username."""
    return {
        "client_id": client_id, "scope": granted, "token_endpoint": token_endpoint,
        "environment": environment, "grant_type": grant.grant_type, "params": {}, **provider,
        "response": dict(response, id_token_claims=claims) if claims else dict(response),
        "data": {**{k: v for k, v in grant.params.items() if k == "username"}, **(cache_data or {})},
    }


def file_event(cache: EngineCache, event: Dict[str, Any], refreshing: Optional[Mapping[str, Any]],
               now: float) -> None:
    """Add ``event`` to the cache; for a refresh of the cache's entry ``refreshing``, without
    creating an account and with its rotated refresh token written over that entry, saved once."""
    if refreshing is None:
        cache.add(event, now=now)
        return
    rotated = event["response"].pop("refresh_token", None)
    with cache.batch():
        cache.add(dict(event, skip_account_creation=True), now=now)
        keep_successor(cache, refreshing, rotated)


def keep_successor(cache: EngineCache, refreshing: Optional[Mapping[str, Any]], rotated: Optional[str]) -> None:
    """Write a rotated refresh token over the cache entry it replaces."""
    if refreshing is not None and rotated and rotated != refreshing.get("secret"):
        cache.update_rt(refreshing, rotated)
