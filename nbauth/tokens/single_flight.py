"""One refresh, however many ask.

``SingleFlight``: calls with the same key while one is running wait for it and share its outcome
(its result or its exception), so 16 threads asking at the moment a token expires send one request.
``begin`` starts a flight in a background thread instead and gives its ``Future``, so a caller
need not wait (a token due for refresh but still valid is served while one refresh runs) and an
event loop can await the flight (``asyncio.wrap_future``) without holding a thread per coroutine.
Threads and coroutines asking with one key share one flight. Across processes, the cache's
per-account refresh lock does the same (``cache.refresh_locks``).

Interpreter exit waits (up to ``EXIT_JOIN_SECONDS``) for background flights, so a rotated refresh
token being saved is not lost. A child forked while threads of its parent led flights starts with none.

``begin`` never waits for its thread to start: ``threading.Thread.start()`` returns only once the
operating system ran the new thread, which took up to 370 ms on a loaded 2-core machine (p99 23 ms),
and the caller is an event loop or a cache hit. A launcher thread (started with ``_thread``, whose
start does not wait) starts the flights' threads instead.
"""
from __future__ import annotations

import _thread
import atexit
import logging
import queue
import threading
import time
import weakref
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from typing import Any, Callable, Dict, Hashable, Set, TypeVar

from ..after_fork import reset_in_child

logger = logging.getLogger("nbauth")

T = TypeVar("T")
#: How long a caller waits for a flight before doing the work itself (a leader that hangs past its
#: own network and lock timeouts).
FOLLOWER_TIMEOUT = 120.0
#: How long interpreter exit waits for background flights (a rotated refresh token must be saved).
EXIT_JOIN_SECONDS = 10.0
#: The outcome of a flight whose leader was interrupted (e.g. Ctrl-C): its followers try again.
ABANDONED = object()


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
        self._background: Set[threading.Event] = set()  # set once each background flight's thread is done

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
            if outcome is not ABANDONED:
                return outcome
        return self._lead(key, flight, work)

    def begin(self, key: Hashable, work: Callable[[], T]) -> "Future[T]":
        """The flight with ``key``: the one in flight, else ``work()`` started in a background
        thread. Its ``Future`` gives the outcome (``ABANDONED`` if its leader was interrupted)."""
        with self._lock:
            flight = self._flights.get(key)
            if flight is not None:
                return flight
            flight = self._flights[key] = Future()
            done = threading.Event()
            self._background.add(done)
        _running.add(self)
        _launcher.start(threading.Thread(target=self._lead_in_background, args=(key, flight, work, done),
                                         name="nbauth-refresh", daemon=True))
        return flight

    def _lead_in_background(self, key: Hashable, flight: Future, work: Callable[[], Any],
                            done: threading.Event) -> None:
        try:
            self._lead(key, flight, work)
        except Exception:  # the outcome is the future's; a refresh failure is logged where it is read
            logger.debug("a background refresh failed", exc_info=True)
        finally:  # after the future's callbacks ran
            with self._lock:
                self._background.discard(done)
            done.set()

    def join_background(self, timeout: float) -> None:
        """Wait up to ``timeout`` seconds in all for the flights running in background threads."""
        deadline = time.monotonic() + timeout
        with self._lock:
            pending = list(self._background)
        for done in pending:
            done.wait(max(0.0, deadline - time.monotonic()))

    def _lead(self, key: Hashable, flight: Future, work: Callable[[], T]) -> T:
        try:
            result = work()
        except Exception as exc:
            self._land(key, flight.set_exception, exc)
            raise
        except BaseException:
            self._land(key, flight.set_result, ABANDONED)
            raise
        self._land(key, flight.set_result, result)
        return result

    def _land(self, key: Hashable, settle: Callable[[Any], None], outcome: Any) -> None:
        with self._lock:
            del self._flights[key]
        settle(outcome)



class Launcher:
    """Starts threads for callers that must not wait until the new thread runs (see the module's
    docstring): ``start`` only queues the thread; the launcher's own thread starts it (or, if no
    thread can be started, runs its work itself)."""

    def __init__(self) -> None:
        self._after_fork()
        reset_in_child(self, Launcher._after_fork)

    def _after_fork(self) -> None:
        """No launcher thread: in a forked child, the parent's did not come along."""
        self._queue: "queue.SimpleQueue[threading.Thread]" = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._started = False

    def start(self, thread: threading.Thread) -> None:
        self._queue.put(thread)
        with self._lock:
            if not self._started:
                _thread.start_new_thread(self._run, ())
                self._started = True

    def _run(self) -> None:
        while True:
            thread = self._queue.get()
            try:
                thread.start()
            except RuntimeError:  # e.g. "can't start new thread": the work still gets done
                logger.warning("could not start a background thread; the launcher does its work")
                thread.run()


_launcher = Launcher()
#: Registries that started background flights (for the wait at interpreter exit).
_running: "weakref.WeakSet[SingleFlight]" = weakref.WeakSet()


@atexit.register
def _join_at_exit() -> None:
    deadline = time.monotonic() + EXIT_JOIN_SECONDS
    for flights in list(_running):
        flights.join_background(max(0.0, deadline - time.monotonic()))
