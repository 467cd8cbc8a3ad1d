"""Choosing among cache entries for the applications (pure: the entries and ``now`` are passed in).

The best access token to serve, in MSAL's result shape; an account's refresh tokens, newest first;
when the token now cached should be renewed; the account fields ``get_accounts`` shows.
"""
from __future__ import annotations

from typing import Iterable, List, Optional, Tuple

from ..protocol.lifecycle import RenewalWindow, TokenState, TokenTimes
from ..redact import RedactedDict, Secret

TOKEN_SOURCE_CACHE = "cache"
_ACCOUNT_FIELDS = ("home_account_id", "environment", "username", "account_source", "authority_type",
                   "local_account_id", "realm")

Cached = Tuple[TokenState, RedactedDict]
#: An access-token cache entry with its times (``TokenCache._access_tokens_with_times``).
Timed = Tuple[dict, TokenTimes]


def best_access_token(tokens: Iterable[Timed], now: float, *, ahead: bool = False) -> Optional[Cached]:
    """A fresh token's result, else one due for refresh but still valid, else None.

    ``ahead``: a token whose renewal window opened counts as due (a background refresher's view).
    """
    due = None
    for entry, times in tokens:
        state = times.state(now, ahead=ahead)
        if state is TokenState.FRESH:
            return state, cached_result(entry, times, now)
        if state is TokenState.REFRESH_DUE and due is None:
            due = state, cached_result(entry, times, now)
    return due


def cached_result(entry: dict, times: TokenTimes, now: float) -> RedactedDict:
    """MSAL's result for an access token served from the cache."""
    result = RedactedDict(access_token=Secret(entry["secret"]), token_type=entry.get("token_type") or "Bearer",
                          expires_in=int(times.expires_on - now), scope=entry.get("target", ""),
                          token_source=TOKEN_SOURCE_CACHE)
    if times.refresh_on is not None:
        result["refresh_on"] = int(times.refresh_on)
    return result


def latest_renewal(tokens: Iterable[Timed], now: float) -> Optional[RenewalWindow]:
    """The renewal window of the newest access token that has not yet expired."""
    windows = (times.renewal_window() for _, times in tokens)
    return max((w for w in windows if w.end > now), default=None)


def newest_first(refresh_tokens: Iterable[dict]) -> List[dict]:
    return sorted(refresh_tokens, key=lambda e: int(e.get("last_modification_time") or 0), reverse=True)


def public_account(entry: dict) -> dict:
    """The account fields MSAL's get_accounts returns."""
    return {k: entry.get(k) for k in _ACCOUNT_FIELDS}
