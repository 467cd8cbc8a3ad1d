"""Scopes as MSAL handles them: case-insensitive sets, with OpenID's reserved scopes added.

MSAL adds ``openid``, ``profile`` and ``offline_access`` to every user sign-in (so there is an ID
token, a username and a refresh token), refuses them in the caller's list, and reports a
token's scopes without them, as Microsoft Entra ID does.
"""
from __future__ import annotations

from typing import Any, Iterable, List, Optional, Tuple

from ..exceptions import ConfigurationError
from ..memo import memoized

RESERVED_SCOPES = frozenset({"openid", "profile", "offline_access"})


def normalize(scopes: Iterable[str], what: str = "scopes") -> List[str]:
    """``scopes`` as a list without case-insensitive repeats, first spelling kept.

    Raises ConfigurationError for a single string (a common slip: ``"User.Read"`` would
    otherwise be read letter by letter) or for an entry that is not a non-empty, space-free string.
    Memoized: a silent call asks for the same scopes again and again.
    """
    return list(_normalized(_as_tuple(scopes, what), what))


def _as_tuple(scopes: Iterable[str], what: str) -> Tuple[Any, ...]:
    if isinstance(scopes, (str, bytes)) or not isinstance(scopes, (list, tuple, set, frozenset)):
        raise ConfigurationError(f"{what} must be a list of scope strings, not {type(scopes).__name__}")
    return tuple(scopes)


@memoized
def _normalized(scopes: Tuple[Any, ...], what: str) -> Tuple[str, ...]:
    seen = set()
    result = []
    for scope in scopes:
        if not isinstance(scope, str) or not scope or any(c.isspace() for c in scope):
            raise ConfigurationError(f"{what} has an entry that is not a scope: {scope!r}")
        if scope.lower() not in seen:
            seen.add(scope.lower())
            result.append(scope)
    return tuple(result)


def decorate(scopes: Iterable[str], exclude: Iterable[str] = ()) -> List[str]:
    """The scopes to request: the caller's plus the reserved ones, minus ``exclude``.

    Like MSAL, the caller may not pass a reserved scope (the result would not change, and a
    caller who thinks it matters would be surprised by what is reported back). Memoized.
    """
    return list(_decorated(_as_tuple(scopes, "scopes"), tuple(exclude)))


@memoized
def _decorated(scopes: Tuple[Any, ...], exclude: Tuple[str, ...]) -> Tuple[str, ...]:
    requested = _normalized(scopes, "scopes")
    reserved = sorted(s for s in requested if s.lower() in RESERVED_SCOPES)
    if reserved:
        raise ConfigurationError(
            f"scopes must not include {', '.join(reserved)}: nbauth (like MSAL) adds "
            f"{', '.join(sorted(RESERVED_SCOPES))} itself; pass only the API's scopes")
    excluded = {s.lower() for s in exclude}
    return requested + tuple(s for s in sorted(RESERVED_SCOPES) if s not in excluded)


def reportable(scopes: Iterable[str]) -> List[str]:
    """``scopes`` without the reserved ones, as a result's ``scope`` and the cache show them."""
    return list(_reportable(tuple(scopes)))


@memoized
def _reportable(scopes: Tuple[str, ...]) -> Tuple[str, ...]:
    return tuple(s for s in scopes if s.lower() not in RESERVED_SCOPES)


def granted(response_scope: Optional[str], requested: Iterable[str]) -> List[str]:
    """The scopes a token was issued for: the response's ``scope``, else what was requested
    (RFC 6749 section 5.1), in both cases without the reserved ones."""
    if isinstance(response_scope, str) and response_scope.strip():
        return reportable(normalize(response_scope.split()))
    return reportable(requested)


def is_subset(wanted: Iterable[str], available: Iterable[str]) -> bool:
    """True when every scope in ``wanted`` is in ``available``, ignoring case."""
    have = {s.lower() for s in available}
    return all(s.lower() in have for s in wanted)
