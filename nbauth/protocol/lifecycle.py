"""When a cached access token is served, refreshed early, or treated as expired.

MSAL treats any token with under five minutes left as expired, so a token issued for five
minutes is never served from its cache. Here the margin is a tenth of the token's lifetime,
at most five minutes: a 5-minute token is served for 4.5 minutes, a 1-hour token for 55.
``refresh_on`` (from the provider's ``refresh_in``) asks for an early refresh while the token
is still good, so a failed refresh can fall back to it.

A background refresher renews earlier still (``renewal_window``): at ``refresh_on``, else three
quarters through the token's lifetime, so a notebook cell never meets a token it must refresh.
"""
from __future__ import annotations

import enum
from typing import Any, Mapping, NamedTuple, Optional

MAX_MARGIN = 300.0
MARGIN_FRACTION = 0.1
#: How far through its lifetime a token is renewed in the background (without ``refresh_on``).
RENEWAL_FRACTION = 0.75


class TokenState(enum.Enum):
    FRESH = "fresh"
    REFRESH_DUE = "refresh_due"
    EXPIRED = "expired"


def expiry_margin(lifetime: float) -> float:
    """Seconds before expiry from which a token of this lifetime counts as expired."""
    return min(MAX_MARGIN, max(0.0, lifetime) * MARGIN_FRACTION)


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
    """The window a background refresher renews a token in: from ``refresh_on``, else three
    quarters through its lifetime (ten minutes before the expiry margin when the lifetime is not
    known), until the token counts as expired."""
    if cached_at is None:
        end = expires_on - MAX_MARGIN
        start = end - MAX_MARGIN
    else:
        end = expires_on - expiry_margin(expires_on - cached_at)
        start = cached_at + RENEWAL_FRACTION * (expires_on - cached_at)
    if refresh_on is not None:
        start = refresh_on
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
        margin = MAX_MARGIN if cached_at is None else expiry_margin(expires_on - cached_at)
        return cls(expires_on, cached_at, refresh_on, expires_on - margin)

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


