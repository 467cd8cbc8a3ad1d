"""When a cached access token is served, refreshed early, or treated as expired.

MSAL treats any token with under five minutes left as expired, so a token issued for five
minutes is never served from its cache. Here the margin is a twentieth of the token's lifetime,
at most five minutes: a 5-minute token is served for 4.75 minutes, a 1-hour token for 57, a
2-hour one for 115 (MSAL's margin). ``refresh_on`` (from the provider's ``refresh_in``) asks for
an early refresh while the token is still good, so a failed refresh can fall back to it; while
the provider does not answer a refresh at all, a token within its margin is served until it expires.

A background refresher renews earlier still (``renewal_window``): at ``refresh_on``, else two
margins before the expiry (nine tenths through a lifetime of up to 100 minutes), so a notebook cell
never meets a token it must refresh and the second margin is left for retries. That keeps refreshes
near one per lifetime (1.11) and renews a 1-hour token 6 minutes before its expiry, as early as
peers do (azure-identity: 5 minutes, google-auth: 3.75).
"""
from __future__ import annotations

import enum
from typing import Any, Mapping, NamedTuple, Optional

MAX_MARGIN = 300.0
MARGIN_FRACTION = 0.05


class TokenState(enum.Enum):
    FRESH = "fresh"
    REFRESH_DUE = "refresh_due"
    EXPIRED = "expired"


def expiry_margin(lifetime: float) -> float:
    """Seconds before expiry from which a token of this lifetime counts as expired."""
    return min(MAX_MARGIN, max(0.0, lifetime) * MARGIN_FRACTION)


def _margin(expires_on: float, cached_at: Optional[float]) -> float:
    """A token's expiry margin; without ``cached_at`` its lifetime is taken as long."""
    return MAX_MARGIN if cached_at is None else expiry_margin(expires_on - cached_at)


def token_state(expires_on: float, now: float, *, cached_at: Optional[float] = None,
                refresh_on: Optional[float] = None) -> TokenState:
    """The state of a token at ``now``; without ``cached_at`` the lifetime is taken as long."""
    return TokenTimes.of(expires_on, cached_at, refresh_on).state(now)


def _seconds(entry: Mapping[str, Any], name: str) -> Optional[float]:
    value = entry.get(name)
    try:
        return float(value) if value not in (None, "") else None
    except (TypeError, ValueError):
        return None


class RenewalWindow(NamedTuple):
    """When to renew a token ahead of need: from ``start`` until ``end``, when it counts as expired."""

    start: float
    end: float


def renewal_window(expires_on: float, *, cached_at: Optional[float] = None,
                   refresh_on: Optional[float] = None) -> RenewalWindow:
    """The window a background refresher renews a token in: from ``refresh_on``, else two expiry
    margins before its expiry (ten minutes when the lifetime is not known), until the token counts
    as expired."""
    margin = _margin(expires_on, cached_at)
    end = expires_on - margin
    start = end - margin if refresh_on is None else refresh_on
    return RenewalWindow(min(start, end), end)


class TokenTimes(NamedTuple):
    """A token's times in epoch seconds, read once (e.g. from its cache entry): ``TokenTimes.of``."""

    expires_on: float
    cached_at: Optional[float]
    refresh_on: Optional[float]
    expired_from: float  # the expiry less the token's margin: from then on it counts as expired

    @classmethod
    def of(cls, expires_on: float, cached_at: Optional[float] = None,
           refresh_on: Optional[float] = None) -> "TokenTimes":
        return cls(expires_on, cached_at, refresh_on, expires_on - _margin(expires_on, cached_at))

    def state(self, now: float, *, ahead: bool = False) -> TokenState:
        """The token's state at ``now``; ``ahead``: as a background refresher sees it, due for
        refresh once its renewal window opened."""
        if now >= self.expired_from:
            return TokenState.EXPIRED
        if (self.refresh_on is not None and now >= self.refresh_on) or (ahead and now >= self.renewal_window().start):
            return TokenState.REFRESH_DUE
        return TokenState.FRESH

    def fresh_until(self, *, ahead: bool = False) -> float:
        """When ``state`` stops being fresh: at ``refresh_on``, the renewal window (``ahead``) or the expiry."""
        until = self.expired_from if self.refresh_on is None else min(self.expired_from, self.refresh_on)
        return min(until, self.renewal_window().start) if ahead else until

    def renewal_window(self) -> RenewalWindow:
        return renewal_window(self.expires_on, cached_at=self.cached_at, refresh_on=self.refresh_on)


def entry_times(entry: Mapping[str, Any]) -> Optional[TokenTimes]:
    """The times of an access-token cache entry (MSAL's schema: strings); None without a
    readable expiry."""
    expires_on = _seconds(entry, "expires_on")
    if expires_on is None:
        return None
    return TokenTimes.of(expires_on, _seconds(entry, "cached_at"), _seconds(entry, "refresh_on"))


