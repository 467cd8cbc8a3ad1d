"""ID-token claim checks (OpenID Connect Core 3.1.3.7), after its signature was verified.

Times are checked with a small leeway for clock skew; every failure is an IdTokenError that
names the claim, never the token.
"""
from __future__ import annotations

from typing import Any, Mapping, Optional

from ..exceptions import IdTokenError
from . import constant_time

DEFAULT_LEEWAY = 60.0
_MAX_TIME = 10 ** 11  # seconds since the epoch, about the year 5000: beyond it a time is nonsense
_TENANT_PLACEHOLDER = "{tenantid}"  # Entra's multi-tenant discovery documents


def expected_issuer(issuer: str, claims: Mapping[str, Any]) -> str:
    """The provider's issuer, with Entra's ``{tenantid}`` filled in from the token's ``tid``."""
    if _TENANT_PLACEHOLDER in issuer and isinstance(claims.get("tid"), str):
        return issuer.replace(_TENANT_PLACEHOLDER, claims["tid"])
    return issuer


def _number(claims: Mapping[str, Any], name: str, required: bool) -> Optional[float]:
    value = claims.get(name)
    if value is None and not required:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise IdTokenError(f"the ID token's {name} claim is {'missing' if value is None else 'not a number'}")
    if not -_MAX_TIME <= value <= _MAX_TIME:  # NaN fails too
        raise IdTokenError(f"the ID token's {name} claim is not a time")
    return float(value)


def _check_audience(claims: Mapping[str, Any], client_id: str) -> None:
    aud = claims.get("aud")
    audiences = [aud] if isinstance(aud, str) else aud
    if not isinstance(audiences, list) or client_id not in audiences:
        raise IdTokenError(f"the ID token was issued to {aud!r}, not to this client ({client_id!r})")
    azp = claims.get("azp")
    if len(audiences) > 1 and azp is None:
        raise IdTokenError("the ID token has several audiences but no azp claim")
    if azp is not None and azp != client_id:
        raise IdTokenError(f"the ID token's azp is {azp!r}, not this client ({client_id!r})")


def _check_times(claims: Mapping[str, Any], now: float, leeway: float) -> None:
    if _number(claims, "exp", True) <= now - leeway:
        raise IdTokenError("the ID token has expired")
    if _number(claims, "iat", True) > now + leeway:
        raise IdTokenError("the ID token's iat is in the future")
    nbf = _number(claims, "nbf", False)
    if nbf is not None and nbf > now + leeway:
        raise IdTokenError("the ID token is not valid yet (nbf)")


def check_id_token_claims(claims: Mapping[str, Any], *, issuer: str, client_id: str, now: float,
                          nonce: Optional[str] = None, max_age: Optional[int] = None,
                          leeway: float = DEFAULT_LEEWAY) -> None:
    """Raise IdTokenError unless the claims fit this provider, this client, this time and,
    when the request sent them, this ``nonce`` and a sign-in within ``max_age`` seconds."""
    iss = claims.get("iss")
    if not isinstance(iss, str) or iss != expected_issuer(issuer, claims):
        raise IdTokenError(f"the ID token's issuer {iss!r} is not the provider's ({issuer!r})")
    if not isinstance(claims.get("sub"), str) or not claims["sub"]:
        raise IdTokenError("the ID token has no sub claim")
    _check_audience(claims, client_id)
    _check_times(claims, now, leeway)
    if max_age is not None and _number(claims, "auth_time", True) + max_age < now - leeway:
        raise IdTokenError(f"the sign-in is older than the max_age of {max_age} s the request asked for")
    if nonce is not None:
        if not constant_time.equals(claims.get("nonce"), nonce):
            raise IdTokenError("the ID token's nonce does not match this sign-in's (a replayed or foreign token)")


def check_same_account(claims: Mapping[str, Any], *, home_account_id: Optional[str],
                       token_home_account_id: Optional[str], issuer: Optional[str] = None) -> None:
    """OpenID Connect Core 12.2: raise IdTokenError unless the ID token of a refresh names the
    account's subject (``token_home_account_id``, the account its response would be filed under:
    Entra's ``uid.utid``, else ``sub``, equals the account's) and, when known, its ``issuer``."""
    iss = claims.get("iss")
    if issuer is not None and (not isinstance(iss, str) or iss.rstrip("/") != issuer.rstrip("/")):
        raise IdTokenError(f"the refreshed ID token's issuer {iss!r} is not the account's ({issuer!r})")
    if token_home_account_id != home_account_id:
        raise IdTokenError("the refreshed ID token names another subject than the account's")
