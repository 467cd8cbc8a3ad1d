"""The one driver of the device flow: polls, feeds each answer to ``advance``, waits between.

Time and waits are seams (``clock``, ``wait``), so a test runs expiry and slow_down in
milliseconds; cancellation comes in through ``cancelled`` (an event a waiting ``wait`` returns
on) or ``stop`` (read at least every ``STOP_TICK`` seconds, for MSAL's ``exit_condition`` and
``flow["expires_at"] = 0``).
"""
from __future__ import annotations

import threading
from typing import Callable, Optional, Tuple, TypeVar

from ..clock import Clock, Wait
from ..exceptions import OAuthError
from ..protocol.device import DeviceFlow, advance, cancelled_error, expired_error
from ..protocol.status import Outcome

T = TypeVar("T")
#: Longest single wait while a ``stop`` callable must be re-read.
STOP_TICK = 1.0


def poll_until_done(flow: DeviceFlow, redeem: Callable[[], T], *, clock: Clock, wait: Wait,
                    cancelled: threading.Event, stop: Optional[Callable[[], bool]] = None,
                    on_poll: Optional[Callable[[DeviceFlow], None]] = None) -> T:
    """``redeem()``'s result once the person signs in; raises ``OAuthError`` when the flow ends
    otherwise: the provider's (denied, expired, failed), ``expired_error()`` when the code ran out
    here, ``cancelled_error()`` when cancelled. ``redeem`` sends the device_code grant once;
    ``on_poll`` sees the flow after each poll."""
    while True:
        now = clock()
        if now >= flow.next_poll_at and not flow.expired(now):
            flow, result = _poll(flow, redeem, now, on_poll)
            if result is not None:
                return result
        elif cancelled.is_set() or (stop is not None and stop()):
            raise cancelled_error()
        elif flow.expired(now):
            raise expired_error()
        else:
            delay = min(flow.next_poll_at, flow.expires_at) - now
            wait(delay if stop is None else min(delay, STOP_TICK), cancelled)


def _poll(flow: DeviceFlow, redeem: Callable[[], T], now: float,
          on_poll: Optional[Callable[[DeviceFlow], None]]) -> Tuple[DeviceFlow, Optional[T]]:
    """One poll: the flow after it and the result once signed in (None: poll again); raises
    when the flow ended otherwise."""
    try:
        result: Optional[T] = redeem()
        answer, error = None, None
    except OAuthError as exc:
        result, answer, error = None, exc.error, exc
    flow, step = advance(flow, answer, now)
    if on_poll is not None:
        on_poll(flow)
    if step.outcome is not Outcome.SIGNED_IN and step.outcome is not Outcome.PENDING:
        raise step.error or error  # type: ignore[misc]
    return flow, result
