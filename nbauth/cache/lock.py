"""An advisory lock shared by every process of a user: a POSIX record lock on a lock file.

Record locks (``fcntl``), not ``flock``: they belong to the process, so a child forked while a
thread holds one does not hold it (an ``flock`` belongs to the open file description the child
shares, and would keep every other process waiting as long as the child lives), and they also
work on NFS. Being per process, they need two things in it: holders in different threads are
serialised by a thread lock, and each lock file is open once (closing *any* descriptor of a
file drops the process's lock on it). Both live in one registry by (device, inode), emptied in
a forked child, where no thread of the parent runs.

The kernel drops the lock when its holder exits or is killed, so a crashed kernel never leaves
a stale lock behind; a holder that hangs is met with a timeout (``LockTimeout``). Lock files
are made 0600 in a folder only the user controls, never through a symbolic link; one owned by
another user is refused (``Refused``), one open to others narrowed to 0600. They are never
deleted (deleting a lock file others may hold open would split the lock).
"""
from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import stat
import threading
import time
from pathlib import Path
from typing import Dict, Iterator, List, Optional, Tuple

from ..after_fork import reset_in_child
from .folder import Folder, Refused, foreign, narrow

_FIRST_WAIT, _LONGEST_WAIT = 0.001, 0.05


class LockTimeout(TimeoutError):
    """Another process held the lock for longer than the timeout (its pid, when known, is said)."""


class _Open:
    """A lock file open in this process: its descriptor and the thread lock its holders take."""

    def __init__(self, key: Tuple[int, int], fd: int) -> None:
        self.key, self.fd = key, fd
        self.thread_lock = threading.Lock()
        self.users = 0
        self.spare_fds: List[int] = []  # the same file opened again (see _Registry._open)


class _Registry:
    """This process's open lock files, by (device, inode); each closed when its last user leaves."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._files: Dict[Tuple[int, int], _Open] = {}

    def enter(self, folder: int, name: str, describe: str) -> _Open:
        """The open lock file ``name`` in ``folder`` (made 0600 if missing), one more user."""
        with self._lock:
            found = self._find(folder, name) or self._open(folder, name, describe)
            found.users += 1
            return found

    def leave(self, found: _Open) -> None:
        with self._lock:
            found.users -= 1
            if not found.users:
                del self._files[found.key]
                for fd in (found.fd, *found.spare_fds):
                    os.close(fd)

    def _find(self, folder: int, name: str) -> Optional[_Open]:
        try:
            info = os.stat(name, dir_fd=folder, follow_symlinks=False)
        except FileNotFoundError:
            return None
        return self._files.get((info.st_dev, info.st_ino))

    def _open(self, folder: int, name: str, describe: str) -> _Open:
        fd = os.open(name, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC, 0o600, dir_fd=folder)
        info = os.fstat(fd)
        key = (info.st_dev, info.st_ino)
        known = self._files.get(key)
        if known is not None:  # renamed here since _find: closing this one would drop our lock
            known.spare_fds.append(fd)
            return known
        why = "is not a regular file" if not stat.S_ISREG(info.st_mode) else foreign(info)
        try:
            if why:
                raise Refused(f"{describe} {why}")
            narrow(fd, info, 0o600)
        except BaseException:
            os.close(fd)  # safe: not one this process holds a lock through
            raise
        found = self._files[key] = _Open(key, fd)
        return found

    def forget(self) -> None:
        """In a forked child: it holds none of the parent's record locks, and the threads that
        held the thread locks are gone. Closing the copies releases nothing of the parent's."""
        for found in self._files.values():
            for fd in (found.fd, *found.spare_fds):
                with contextlib.suppress(OSError):
                    os.close(fd)
        self._lock = threading.Lock()
        self._files = {}


_registry = _Registry()
reset_in_child(_registry, _Registry.forget)


class FileLock:
    """An exclusive lock on ``path``, held as a context manager; the file lives in ``folder``
    (by default its parent), and ``label`` names it in messages ("the token cache lock file")."""

    def __init__(self, path: Path, folder: Optional[Folder] = None, label: str = "the lock file") -> None:
        self.path = Path(path)
        self.folder = folder or Folder(self.path.parent)
        self.label = label

    @contextlib.contextmanager
    def hold(self, timeout: float) -> Iterator[None]:
        """Hold the lock, waiting up to ``timeout`` seconds (0: try once); raises LockTimeout,
        Refused (a lock file or folder nbauth must not use) or OSError (e.g. a symbolic link)."""
        deadline = time.monotonic() + timeout
        with self.folder.opened(create=True) as folder:
            found = _registry.enter(folder, self.path.name, f"{self.label} {self.path}")
        try:
            self._acquire(found, deadline, timeout)
            try:
                os.ftruncate(found.fd, 0)
                os.pwrite(found.fd, str(os.getpid()).encode(), 0)  # who holds it, for others' timeout message
                yield
            finally:
                fcntl.lockf(found.fd, fcntl.LOCK_UN)
                found.thread_lock.release()
        finally:
            _registry.leave(found)

    def _acquire(self, found: _Open, deadline: float, timeout: float) -> None:
        if not found.thread_lock.acquire(timeout=max(0.0, deadline - time.monotonic())):
            raise self._timeout(found.fd, timeout)
        try:
            self._lock_file(found.fd, deadline, timeout)
        except BaseException:
            found.thread_lock.release()
            raise

    def _lock_file(self, fd: int, deadline: float, timeout: float) -> None:
        wait = _FIRST_WAIT
        while True:
            try:
                fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return
            except OSError as error:
                if error.errno not in (errno.EAGAIN, errno.EACCES):
                    raise
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise self._timeout(fd, timeout)
            time.sleep(min(wait, remaining))  # a record lock has no timed wait: poll, backing off
            wait = min(wait * 2, _LONGEST_WAIT)

    def _timeout(self, fd: int, timeout: float) -> LockTimeout:
        return LockTimeout(f"{self.path} is held by {_holder(fd)} for more than {timeout:g} s")


def _holder(fd: int) -> str:
    try:
        pid = os.pread(fd, 32, 0).decode().strip()
    except (OSError, UnicodeDecodeError):
        pid = ""
    return f"process {pid}" if pid.isdigit() else "another process"
