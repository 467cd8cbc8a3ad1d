"""An advisory lock shared by every process of a user: ``flock`` on a separate lock file.

The kernel drops an ``flock`` when its holder exits or is killed, so a crashed kernel never
leaves a stale lock behind; a holder that hangs is met with a timeout (``LockTimeout``). The
lock file is never deleted (deleting a lock file others may hold open would split the lock).
"""
from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import time
from pathlib import Path
from typing import Iterator

_FIRST_WAIT, _LONGEST_WAIT = 0.001, 0.05


class LockTimeout(TimeoutError):
    """Another process held the lock for longer than the timeout (its pid, when known, is said)."""


class FileLock:
    """An exclusive lock on ``path`` (created 0600 if missing), held as a context manager."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)

    @contextlib.contextmanager
    def hold(self, timeout: float) -> Iterator[None]:
        """Hold the lock, waiting up to ``timeout`` seconds (0: try once); raises LockTimeout.

        Opening refuses a symbolic link (OSError), so a planted link cannot redirect the lock.
        """
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
        try:
            self._acquire(fd, timeout)
            os.ftruncate(fd, 0)
            os.write(fd, str(os.getpid()).encode())  # who holds it, for others' timeout message
            yield
        finally:
            os.close(fd)  # closing releases the flock

    def _acquire(self, fd: int, timeout: float) -> None:
        deadline, wait = time.monotonic() + timeout, _FIRST_WAIT
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return
            except OSError as error:
                if error.errno not in (errno.EAGAIN, errno.EACCES):
                    raise
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise LockTimeout(f"{self.path} is held by {self._holder(fd)} "
                                  f"for more than {timeout:g} s")
            time.sleep(min(wait, remaining))  # flock has no timed wait: poll, backing off
            wait = min(wait * 2, _LONGEST_WAIT)

    @staticmethod
    def _holder(fd: int) -> str:
        try:
            pid = os.pread(fd, 32, 0).decode().strip()
        except (OSError, UnicodeDecodeError):
            pid = ""
        return f"process {pid}" if pid.isdigit() else "another process"
