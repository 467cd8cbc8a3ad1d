"""One refresh, however many ask.

``SingleFlight``: calls with the same key while one is running wait for it and share its outcome
(its result or its exception), so 16 threads asking at the moment a token expires send one request.

``RefreshLocks``: what a refresh token is redeemed under, one lock per account, since a provider
that rotates refresh tokens accepts each only once (reusing one revokes the whole grant). Within
the process it is a thread lock; for a ``PersistedTokenCache`` it is also a record lock on a lock
file beside the cache file (see ``cache.lock``), so every kernel and script of the user redeems
each refresh token once, and one that waited finds the token the other wrote. The cache's own lock guards only its
file reads and writes; this one is held across the network call, and only by refreshes. Waits are
bounded: a holder that hangs delays the others by at most the timeout, after which they go ahead
(and say so in the log). A lock file owned by another user is not used: the refresh goes ahead
under the thread lock only (and says so in the log).

A child forked while threads of its parent held these locks or led flights starts with none.
"""
from __future__ import annotations

import contextlib
import hashlib
import logging
import threading
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from pathlib import Path
from typing import Any, Callable, Dict, Hashable, Iterator, Optional, Sequence, TypeVar

from ..after_fork import reset_in_child
from ..cache.folder import Refused
from ..cache.lock import FileLock, LockTimeout
from ..cache.persistence import PersistedTokenCache

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


class RefreshLocks:
    """The per-account refresh locks of one token cache (thread locks, plus lock files when the
    cache is a ``PersistedTokenCache``: ``<cache file>.refresh-<hash of the account>.lock``)."""

    def __init__(self, cache: Any) -> None:
        persisted = isinstance(cache, PersistedTokenCache)
        self._folder_file: Optional[Path] = cache.path if persisted else None
        self._folder = cache.folder if persisted else None
        self._after_fork()
        reset_in_child(self, RefreshLocks._after_fork)

    def _after_fork(self) -> None:
        """No thread lock held: in a forked child, their holders (threads of the parent) are gone."""
        self._lock = threading.Lock()
        self._thread_locks: Dict[str, threading.Lock] = {}

    @contextlib.contextmanager
    def hold(self, account_key: Sequence[Optional[str]], timeout: float) -> Iterator[None]:
        """Hold the refresh lock of ``account_key`` (e.g. client, environment, home account id),
        waiting up to ``timeout`` seconds for each of its two parts before going ahead anyway."""
        name = hashlib.sha256("\0".join(str(part) for part in account_key).encode()).hexdigest()[:24]
        with self._lock:
            thread_lock = self._thread_locks.setdefault(name, threading.Lock())
        held = thread_lock.acquire(timeout=timeout)
        if not held:
            logger.warning("another thread held the refresh lock for more than %g s; refreshing anyway", timeout)
        try:
            with self._across_processes(name, timeout):
                yield
        finally:
            if held:
                thread_lock.release()

    @contextlib.contextmanager
    def _across_processes(self, name: str, timeout: float) -> Iterator[None]:
        with contextlib.ExitStack() as stack:
            if self._folder_file is not None:
                path = self._folder_file.with_name(f"{self._folder_file.name}.refresh-{name}.lock")
                try:
                    stack.enter_context(FileLock(path, self._folder, "the refresh lock file").hold(timeout))
                except LockTimeout as error:
                    logger.warning("the refresh lock %s; refreshing anyway", error)
                except Refused as refused:
                    logger.warning("%s; refreshing without it", refused)
                except OSError as error:
                    logger.warning("cannot take the refresh lock %s (%s); refreshing anyway", path, error.strerror)
            yield
