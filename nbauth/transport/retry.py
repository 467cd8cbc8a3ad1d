"""When to retry an HTTP request, and after how long (pure: no clock reads, no sleeps)."""
from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Optional

#: Answers that say the server did not do the work, so any request may be sent again.
_REFUSED = frozenset({429, 503})
#: Other answers worth retrying when the request is safe to repeat.
_TRANSIENT = frozenset({500, 502, 504})


def parse_retry_after(value: Optional[str], now: float) -> Optional[float]:
    """Seconds to wait per a ``Retry-After`` header (delta-seconds or HTTP-date), or None."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    import email.utils  # only for a Retry-After given as a date

    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when is None or when.tzinfo is None:
        return None
    return max(0.0, when.timestamp() - now)


@dataclass(frozen=True)
class RetryPolicy:
    """Bounded retries for connection errors, 5xx and 429.

    ``repeatable`` requests (GETs, grants that are not consumed by use) are retried on
    connection errors and on 429/5xx. A request whose grant could be consumed (an
    authorization code, a rotating refresh token) is retried only when it provably never
    reached the server, or when the server refused it with 429/503.
    """

    max_attempts: int = 3
    backoff: float = 0.5
    max_delay: float = 30.0

    def delay_after_status(self, attempt: int, status: int, retry_after: Optional[float],
                           repeatable: bool) -> Optional[float]:
        """Seconds to wait before attempt ``attempt + 1``, or None to stop."""
        if attempt >= self.max_attempts:
            return None
        if status not in _REFUSED and not (repeatable and status in _TRANSIENT):
            return None
        if retry_after is not None:
            return retry_after if retry_after <= self.max_delay else None
        return self._backoff(attempt)

    def delay_after_error(self, attempt: int, sent: bool, repeatable: bool) -> Optional[float]:
        """Seconds to wait after a connection error, or None to stop."""
        if attempt >= self.max_attempts or (sent and not repeatable):
            return None
        return self._backoff(attempt)

    def _backoff(self, attempt: int) -> float:
        base = self.backoff * (2 ** (attempt - 1))
        return min(self.max_delay, base * (0.5 + random.random() / 2))
