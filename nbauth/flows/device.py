"""The one driver of the device flow: polls, feeds each answer to ``advance``, waits between.

Time and waits are seams (``clock``, ``wait``), so a test runs expiry, slow_down and backoff in
milliseconds; cancellation comes in through ``cancelled`` (an event a waiting ``wait`` returns
on) or ``stop`` (read at least every ``STOP_TICK`` seconds, for MSAL's ``exit_condition`` and
``flow["expires_at"] = 0``). With ``ride_out=True`` (the notebook sign-in) a poll the provider
does not answer (network failure, 5xx, 429) is tried again with backoff until the code expires;
without it (MSAL's ``acquire_token_by_device_flow``) the failure ends the wait, as in MSAL.
"""
from __future__ import annotations

import threading
from typing import Callable, Optional, Tuple, TypeVar

from ..clock import Clock, Wait
from ..exceptions import OAuthError, ProtocolError, TransportError
from ..protocol.device import Answer, DeviceFlow, Unanswered, advance, cancelled_error, expired_error
from ..protocol.status import Outcome, device_poll_outcome, unanswered_status
from ..transport.retry import parse_retry_after

T = TypeVar("T")
#: Longest single wait while a ``stop`` callable must be re-read.
STOP_TICK = 1.0


def poll_until_done(flow: DeviceFlow, redeem: Callable[[], T], *, clock: Clock, wait: Wait,
                    cancelled: threading.Event, stop: Optional[Callable[[], bool]] = None,
                    on_poll: Optional[Callable[[DeviceFlow], None]] = None, ride_out: bool = False) -> T:
    """``redeem()``'s result once the person signs in; raises ``OAuthError`` when the flow ends
    otherwise: the provider's (denied, expired, failed), ``expired_error()`` when the code ran out
    here, ``cancelled_error()`` when cancelled; a network failure or an answer that is not OAuth
    (``TransportError``, ``ProtocolError``) unless ``ride_out``. ``redeem`` sends the device_code
    grant once; ``on_poll`` sees the flow after each poll (``flow.retrying``: unanswered)."""
    while True:
        now = clock()
        if now >= flow.next_poll_at and not flow.expired(now):
            flow, result = _poll(flow, redeem, now, on_poll, ride_out)
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
          on_poll: Optional[Callable[[DeviceFlow], None]], ride_out: bool) -> Tuple[DeviceFlow, Optional[T]]:
    """One poll: the flow after it and the result once signed in (None: poll again); raises
    when the flow ended otherwise."""
    result: Optional[T] = None
    answer: Answer = None
    error: Optional[Exception] = None
    try:
        result = redeem()
    except (OAuthError, ProtocolError, TransportError) as exc:
        answer, error = _answer(exc, now) if ride_out else _answer_as_msal(exc), exc
    flow, step = advance(flow, answer, now)
    if on_poll is not None:
        on_poll(flow)
    if step.outcome is not Outcome.SIGNED_IN and step.outcome is not Outcome.PENDING:
        raise step.error or error  # type: ignore[misc]
    return flow, result


def _answer_as_msal(exc: Exception) -> Answer:
    """The poll's answer where every failure but the provider's OAuth error ends the wait."""
    if isinstance(exc, OAuthError):
        return exc.error
    raise exc


def _answer(exc: Exception, now: float) -> Answer:
    """The poll's answer where a provider that did not answer is asked again: a network failure,
    or a 5xx / 429 that is not one of the device flow's own answers (then with its Retry-After)."""
    if isinstance(exc, TransportError):
        return Unanswered()
    own = isinstance(exc, OAuthError) and device_poll_outcome(exc.error) is not Outcome.FAILED
    if not own and unanswered_status(exc.status):  # type: ignore[attr-defined]
        return Unanswered(parse_retry_after(exc.retry_after, now))  # type: ignore[attr-defined]
    return _answer_as_msal(exc)
