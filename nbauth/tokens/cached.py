"""Choosing among cache entries for the applications (pure: the entries and ``now`` are passed in).

The best access token to serve (a ``TokenResult``), and the one held on to while the provider does
not answer; an account's refresh tokens, newest first; when the token now cached should be renewed;
the account fields ``get_accounts`` shows.
"""
from __future__ import annotations

from typing import Any, Iterable, List, Mapping, Optional, Tuple

from ..protocol.lifecycle import RenewalWindow, TokenState, TokenTimes
from .result import TokenResult

_ACCOUNT_FIELDS = ("home_account_id", "environment", "username", "account_source", "authority_type",
                   "local_account_id", "realm")

Cached = Tuple[TokenState, TokenResult]
#: An access-token cache entry with its times (``EngineCache.access_tokens_with_times``).
Timed = Tuple[dict, TokenTimes]


def best_access_token(tokens: Iterable[Timed], now: float, *, ahead: bool = False,
                      account: Optional[Mapping[str, Any]] = None) -> Optional[Cached]:
    """A fresh token's result, else one due for refresh but still valid, else None.

    ``ahead``: a token whose renewal window opened counts as due (a background refresher's view).
    ``account`` is the one the tokens were filed under (None: the application's own).
    """
    best = best_timed(tokens, now, ahead=ahead)
    return None if best is None else (best[0], TokenResult.from_cache(best[1], best[2], account, now))


def best_timed(tokens: Iterable[Timed], now: float, *, ahead: bool = False) -> Optional[Tuple[TokenState, dict, TokenTimes]]:
    """``best_access_token``'s choice as (its state, the entry, its times)."""
    due = None
    for entry, times in tokens:
        state = times.state(now, ahead=ahead)
        if state is TokenState.FRESH:
            return state, entry, times
        if state is TokenState.REFRESH_DUE and due is None:
            due = state, entry, times
    return due


def held_timed(tokens: Iterable[Timed], now: float) -> Optional[Timed]:
    """The token valid longest, if one has not reached its expiry (though within its margin): what
    is served when the provider does not answer a refresh."""
    return max(((entry, times) for entry, times in tokens if now < times.expires_on),
               key=lambda timed: timed[1].expires_on, default=None)


def latest_renewal(tokens: Iterable[Timed], now: float) -> Optional[RenewalWindow]:
    """The renewal window of the newest access token that has not yet expired."""
    windows = (times.renewal_window() for _, times in tokens)
    return max((w for w in windows if w.end > now), default=None)


def newest_first(refresh_tokens: Iterable[dict]) -> List[dict]:
    return sorted(refresh_tokens, key=lambda e: int(e.get("last_modification_time") or 0), reverse=True)


def public_account(entry: dict) -> dict:
    """The account fields MSAL's get_accounts returns."""
    return {k: entry.get(k) for k in _ACCOUNT_FIELDS}
