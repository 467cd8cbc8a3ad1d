"""The cache file on disk: refusing unsafe files, atomic replacement, moving damage aside.

Only the owner may read or write it (0600, its folder 0700 when nbauth creates it). Writes go
to a temporary file in the same folder, are flushed to disk, then renamed over the cache in one
step, so a reader (or a process killed mid-write) sees the old file or the new one, never a
mix. The caller holds the lock around ``write`` and ``move_aside``; ``read`` needs no lock.
"""
from __future__ import annotations

import contextlib
import os
import stat
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Optional, Tuple

#: What identifies one version of the file: (device, inode, size, mtime in ns).
Signature = Tuple[int, int, int, int]


class DamagedFile(Exception):
    """The cache path holds something nbauth must not or cannot use (the message says why)."""


@dataclass
class FileVersion:
    """One version of the file: its signature, and an open descriptor on it.

    The descriptor keeps the inode alive, so its number cannot be reused by a later version
    (which would make an unchanged-looking signature lie). Close it when replaced.
    """

    signature: Signature
    fd: int

    def close(self) -> None:
        with contextlib.suppress(OSError):
            os.close(self.fd)


def _signature(info: os.stat_result) -> Signature:
    return info.st_dev, info.st_ino, info.st_size, info.st_mtime_ns


class CacheFile:
    """Reads, writes and quarantines the file at ``path``."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._temp_prefix = f".{self.path.name}."

    def signature(self) -> Optional[Signature]:
        """The current version's signature (None if there is none to see), without following links."""
        try:
            return _signature(os.stat(self.path, follow_symlinks=False))
        except OSError:  # missing, or a path that cannot be looked at: read() says which
            return None

    def read(self) -> Tuple[bytes, Optional[FileVersion], bool]:
        """(contents, the version read or None if there is no file, whether its permissions had
        to be narrowed to owner-only).

        Raises DamagedFile for a link, a directory or other non-regular file, a file of another
        user, or one that cannot be read.
        """
        flags = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC  # NONBLOCK: a FIFO can't hang us
        try:
            fd = os.open(self.path, flags)
        except (FileNotFoundError, NotADirectoryError):
            return b"", None, False
        except OSError as error:
            raise DamagedFile(self._why_unopenable(error)) from None
        try:
            info = os.fstat(fd)
            narrowed = self._check(fd, info)
            data = self._read_all(fd, info.st_size)
        except BaseException:
            os.close(fd)
            raise
        return data, FileVersion(_signature(info), fd), narrowed

    def _why_unopenable(self, error: OSError) -> str:
        if os.path.islink(self.path):
            return "is a symbolic link, which nbauth does not follow"
        return f"cannot be opened ({error.strerror})"

    @staticmethod
    def _check(fd: int, info: os.stat_result) -> bool:
        if stat.S_ISDIR(info.st_mode):
            raise DamagedFile("is a directory")
        if not stat.S_ISREG(info.st_mode):
            raise DamagedFile("is not a regular file")
        if info.st_uid != os.geteuid():
            raise DamagedFile(f"belongs to another user (uid {info.st_uid})")
        if not info.st_mode & 0o077:
            return False
        try:
            os.fchmod(fd, 0o600)
        except OSError as error:
            raise DamagedFile(f"is open to other users and cannot be made owner-only ({error.strerror})") from None
        return True

    @staticmethod
    def _read_all(fd: int, size: int) -> bytes:
        """The file's bytes: in one read when it is ``size`` long (no copy to join them)."""
        chunks = []
        try:
            while True:
                chunk = os.read(fd, size + 1 if not chunks else 1 << 20)
                if not chunk:
                    return b"".join(chunks)
                chunks.append(chunk)
        except OSError as error:
            raise DamagedFile(f"cannot be read ({error.strerror})") from None

    def ensure_folder(self) -> None:
        """Create the cache's folder (0700) if it is missing; OSError if that is impossible."""
        self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)

    def write(self, data: bytes) -> FileVersion:
        """Atomically replace the file with ``data``; the version now there."""
        self._remove_leftovers()
        fd, temp = tempfile.mkstemp(dir=self.path.parent, prefix=self._temp_prefix, suffix=".tmp")
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view):]
            os.fsync(fd)
            info = os.fstat(fd)
            os.replace(temp, self.path)
        except BaseException:
            os.close(fd)
            with contextlib.suppress(OSError):
                os.unlink(temp)
            raise
        self._sync_folder()
        return FileVersion(_signature(info), fd)

    def _remove_leftovers(self) -> None:
        """Delete temporary files of writers that died mid-write (safe: we hold the lock)."""
        with contextlib.suppress(OSError):
            for leftover in self.path.parent.glob(self._temp_prefix + "*.tmp"):
                with contextlib.suppress(OSError):
                    leftover.unlink()

    def _sync_folder(self) -> None:
        with contextlib.suppress(OSError):  # some file systems cannot fsync a directory
            fd = os.open(self.path.parent, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)

    def move_aside(self, now: float) -> Path:
        """Rename whatever is at the path to a timestamped backup (never deleted); its new path."""
        stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(now))
        backup = self.path.with_name(f"{self.path.name}.damaged-{stamp}")
        counter = 1
        while os.path.lexists(backup):
            counter += 1
            backup = self.path.with_name(f"{self.path.name}.damaged-{stamp}-{counter}")
        os.rename(self.path, backup)
        return backup
