"""msal-extensions' lock on a cache file, taken by nbauth too, so both can share one file.

msal-extensions 1.x (with or without portalocker) locks ``<file>.lockfile`` by creating it
exclusively, writes ``"<pid> <program>"`` into it, rewrites the cache file in place (truncate,
then write) and deletes the lock file. nbauth creates and deletes it the same way around every
write and every read it must trust whole, so neither program rewrites the file while the other
reads or writes it. nbauth takes it while holding its own record lock (``lock``), so one nbauth
process of the user at a time waits for it.

A lock file that names a process no longer running on this machine (a holder that crashed:
msal-extensions would then wait for ever) is removed; one that cannot be had within the
timeout raises ``LockTimeout``, as nbauth's own lock does.
"""
from __future__ import annotations

import contextlib
import os
import sys
import time
from pathlib import Path
from typing import Iterator, Optional

from .folder import Folder
from .lock import LockTimeout

_FIRST_WAIT, _LONGEST_WAIT = 0.001, 0.05
_CREATE = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC


class CreationLock:
    """msal-extensions' lock file ``path`` (in ``folder``), held as a context manager."""

    def __init__(self, path: Path, folder: Folder) -> None:
        self.path = Path(path)
        self.folder = folder

    @contextlib.contextmanager
    def hold(self, timeout: float) -> Iterator[None]:
        """Create the lock file, waiting up to ``timeout`` seconds while another program holds
        it; delete it on leaving. Raises LockTimeout, Refused or OSError."""
        deadline = time.monotonic() + timeout
        with self.folder.opened(create=True) as folder:
            made = self._create(folder, deadline, timeout)
            try:
                yield
            finally:
                with contextlib.suppress(OSError):
                    if _inode(self.path.name, folder) == made:  # never another holder's file
                        os.unlink(self.path.name, dir_fd=folder)

    def _create(self, folder: int, deadline: float, timeout: float) -> int:
        """Make the lock file; its inode."""
        wait = _FIRST_WAIT
        while True:
            try:
                fd = os.open(self.path.name, _CREATE, 0o600, dir_fd=folder)
            except FileExistsError:
                holder = _holder(self.path.name, folder)
                if holder is not None and not _running(holder):
                    with contextlib.suppress(OSError):  # a crashed holder's: gone, then try again
                        os.unlink(self.path.name, dir_fd=folder)
                    continue
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    who = f"process {holder}" if holder is not None else "another process"
                    raise LockTimeout(f"{self.path} is held by {who} for more than {timeout:g} s") from None
                time.sleep(min(wait, remaining))  # creation has no timed wait: poll, backing off
                wait = min(wait * 2, _LONGEST_WAIT)
                continue
            try:
                with contextlib.suppress(OSError):  # who holds it, for others (a full disk: nobody is told)
                    os.write(fd, f"{os.getpid()} {sys.argv[0] if sys.argv else ''}".encode())
                return os.fstat(fd).st_ino
            finally:
                os.close(fd)


def _inode(name: str, folder: int) -> Optional[int]:
    try:
        return os.stat(name, dir_fd=folder, follow_symlinks=False).st_ino
    except OSError:
        return None


def _holder(name: str, folder: int) -> Optional[int]:
    """The pid a lock file names (None: none yet, as just after its creation, or unreadable)."""
    try:
        fd = os.open(name, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC, dir_fd=folder)
    except OSError:
        return None
    try:
        first = os.read(fd, 64).split(b" ", 1)[0]
    except OSError:
        return None
    finally:
        os.close(fd)
    return int(first) if first.isdigit() else None


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process
        return True
    return True
