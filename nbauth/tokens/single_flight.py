"""One refresh, however many ask.

``SingleFlight``: calls with the same key while one is running wait for it and share its outcome
(its result or its exception), so 16 threads asking at the moment a token expires send one request.
Across processes, the cache's per-account refresh lock does the same (``cache.refresh_locks``).

A child forked while threads of its parent led flights starts with none.
"""
from __future__ import annotations

import logging
import threading
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from typing import Any, Callable, Dict, Hashable, TypeVar

from ..after_fork import reset_in_child

logger = logging.getLogger("nbauth")

T = TypeVar("T")
#: How long a caller waits for a flight before doing the work itself (a leader that hangs past its
#: own network and lock timeouts).
FOLLOWER_TIMEOUT = 120.0
_ABANDONED = object()  # a flight whose leader was interrupted (e.g. Ctrl-C): its followers try again


class SingleFlight:
    """A registry of the calls in flight, by key."""

    def __init__(self, follower_timeout: float = FOLLOWER_TIMEOUT) -> None:
        self._follower_timeout = follower_timeout
        self._after_fork()
        reset_in_child(self, SingleFlight._after_fork)

    def _after_fork(self) -> None:
        """No flight: in a forked child, their leaders (threads of the parent) never land."""
        self._lock = threading.Lock()
        self._flights: Dict[Hashable, Future] = {}

    def run(self, key: Hashable, work: Callable[[], T]) -> T:
        """``work()``, unless a call with ``key`` is in flight: then that call's outcome (after
        ``follower_timeout`` seconds of waiting, ``work()`` after all)."""
        while True:
            with self._lock:
                flight = self._flights.get(key)
                if flight is None:
                    flight = self._flights[key] = Future()
                    break
            try:
                outcome = flight.result(self._follower_timeout)
            except FutureTimeout:
                logger.warning("a refresh in flight took over %g s; this caller goes ahead", self._follower_timeout)
                return work()
            if outcome is not _ABANDONED:
                return outcome
        return self._lead(key, flight, work)

    def _lead(self, key: Hashable, flight: Future, work: Callable[[], T]) -> T:
        try:
            result = work()
        except Exception as exc:
            self._land(key, flight.set_exception, exc)
            raise
        except BaseException:
            self._land(key, flight.set_result, _ABANDONED)
            raise
        self._land(key, flight.set_result, result)
        return result

    def _land(self, key: Hashable, settle: Callable[[Any], None], outcome: Any) -> None:
        with self._lock:
            del self._flights[key]
        settle(outcome)

