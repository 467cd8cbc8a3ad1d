"""The per-account refresh locks a token cache hands out (``TokenCache.refresh_lock``).

A refresh token is redeemed under its account's lock, since a provider that rotates refresh
tokens accepts each only once (reusing one revokes the whole grant). Within the process the lock
is a thread lock (``AccountLocks``); a ``PersistedTokenCache`` adds a record lock on a lock file
beside the cache file, so every kernel and script of the user redeems each refresh token once.
The cache's own lock guards only its file reads and writes; this one is held across the network
call, and only by refreshes. Waits are bounded: a holder that hangs delays the others by at most
the timeout, after which they go ahead (and say so in the log).

A child forked while threads of its parent held these locks starts with none held.
"""
from __future__ import annotations

import contextlib
import hashlib
import logging
import threading
from typing import Dict, Iterator, Optional, Sequence

from ..after_fork import reset_in_child

logger = logging.getLogger("nbauth")

#: How a refresh lock is named: e.g. (client id, environment, home account id).
AccountKey = Sequence[Optional[str]]


def lock_name(account_key: AccountKey) -> str:
    """A short name for an account's lock, fit for a file name, that does not show the account."""
    return hashlib.sha256("\0".join(str(part) for part in account_key).encode()).hexdigest()[:24]


class AccountLocks:
    """One thread lock per account, made on first use."""

    def __init__(self) -> None:
        self._after_fork()
        reset_in_child(self, AccountLocks._after_fork)

    def _after_fork(self) -> None:
        """No lock held: in a forked child, their holders (threads of the parent) are gone."""
        self._lock = threading.Lock()
        self._locks: Dict[str, threading.Lock] = {}

    @contextlib.contextmanager
    def hold(self, name: str, timeout: float) -> Iterator[None]:
        """Hold lock ``name``, waiting up to ``timeout`` seconds before going ahead anyway."""
        with self._lock:
            lock = self._locks.setdefault(name, threading.Lock())
        held = lock.acquire(timeout=timeout)
        if not held:
            logger.warning("another thread held the refresh lock for more than %g s; refreshing anyway", timeout)
        try:
            yield
        finally:
            if held:
                lock.release()
