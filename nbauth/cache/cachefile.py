"""The cache file on disk: refusing unsafe files, atomic replacement, moving damage aside.

Only the owner may read or write it (0600, in a folder only the user controls: see ``folder``);
it is opened relative to the folder's checked descriptor, never through a symbolic link. Writes
go to a temporary file in the same folder, are flushed to disk, then renamed over the cache in
one step, so a reader (or a process killed mid-write) sees the old file or the new one, never a
mix. The caller holds the lock around ``write``, ``remove_leftovers`` and ``move_aside``;
``read`` needs no lock.
"""
from __future__ import annotations

import contextlib
import errno
import os
import secrets
import stat
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Optional, Tuple

from .folder import Folder, foreign, narrow

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
    """Reads, writes and quarantines the file at ``path``, inside ``folder`` (by default its
    parent) and always relative to the folder's checked descriptor."""

    def __init__(self, path: Path, folder: Optional[Folder] = None) -> None:
        self.path = Path(path)
        self.folder = folder or Folder(self.path.parent)
        self._name = self.path.name
        self._temp_prefix = f".{self._name}."

    def signature(self) -> Optional[Signature]:
        """The current version's signature (None if there is none to see), without following links.

        Only a change detector (one stat, as cheap as a cache hit needs): what is read is then
        opened through the checked folder.
        """
        try:
            return _signature(os.stat(self.path, follow_symlinks=False))
        except OSError:  # missing, or a path that cannot be looked at: read() says which
            return None

    def read(self) -> Tuple[bytes, Optional[FileVersion], bool]:
        """(contents, the version read or None if there is no file, whether its permissions had
        to be narrowed to owner-only).

        Raises DamagedFile for a link, a directory or other non-regular file, a file of another
        user, or one that cannot be read; Refused for a folder nbauth must not use.
        """
        flags = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC  # NONBLOCK: a FIFO can't hang us
        try:
            with self.folder.opened() as folder:
                fd = os.open(self._name, flags, dir_fd=folder)
        except (FileNotFoundError, NotADirectoryError):
            return b"", None, False
        except OSError as error:
            why = "is a symbolic link, which nbauth does not follow" if error.errno == errno.ELOOP \
                else f"cannot be opened ({error.strerror})"
            raise DamagedFile(why) from None
        try:
            info = os.fstat(fd)
            narrowed = self._check(fd, info)
            data = self._read_all(fd, info.st_size)
        except BaseException:
            os.close(fd)
            raise
        return data, FileVersion(_signature(info), fd), narrowed

    @staticmethod
    def _check(fd: int, info: os.stat_result) -> bool:
        if stat.S_ISDIR(info.st_mode):
            raise DamagedFile("is a directory")
        if not stat.S_ISREG(info.st_mode):
            raise DamagedFile("is not a regular file")
        why = foreign(info)
        if why:
            raise DamagedFile(why)
        try:
            return narrow(fd, info, 0o600)
        except OSError as error:
            raise DamagedFile(f"is open to other users and cannot be made owner-only ({error.strerror})") from None

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

    def write(self, data: bytes) -> FileVersion:
        """Atomically replace the file with ``data`` (making the folder if missing); the version
        now there. Raises Refused or OSError."""
        with self.folder.opened(create=True) as folder:
            temp = f"{self._temp_prefix}{secrets.token_hex(8)}.tmp"
            fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600,
                         dir_fd=folder)
            try:
                view = memoryview(data)
                while view:
                    view = view[os.write(fd, view):]
                os.fsync(fd)
                os.replace(temp, self._name, src_dir_fd=folder, dst_dir_fd=folder)
                now = time.time_ns()  # modified after it replaced the old version: msal-extensions
                os.utime(fd, ns=(now, now))  # reloads only a file modified after its last read
                info = os.fstat(fd)
            except BaseException:
                os.close(fd)
                with contextlib.suppress(OSError):
                    os.unlink(temp, dir_fd=folder)
                raise
            with contextlib.suppress(OSError):  # some file systems cannot fsync a directory
                os.fsync(folder)
        return FileVersion(_signature(info), fd)

    def remove_leftovers(self) -> None:
        """Delete temporary files of writers that died mid-write (call it holding the lock)."""
        with contextlib.suppress(OSError), self.folder.opened() as folder:
            for name in os.listdir(folder):
                if name.startswith(self._temp_prefix) and name.endswith(".tmp"):
                    with contextlib.suppress(OSError):
                        os.unlink(name, dir_fd=folder)

    def move_aside(self, now: float) -> Path:
        """Rename whatever is at the path to a timestamped backup (never deleted); its new path."""
        stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(now))
        with self.folder.opened() as folder:
            backup, counter = f"{self._name}.damaged-{stamp}", 1
            while _exists(backup, folder):
                counter += 1
                backup = f"{self._name}.damaged-{stamp}-{counter}"
            os.rename(self._name, backup, src_dir_fd=folder, dst_dir_fd=folder)
        return self.path.with_name(backup)


def _exists(name: str, folder: int) -> bool:
    try:
        os.stat(name, dir_fd=folder, follow_symlinks=False)
    except FileNotFoundError:
        return False
    return True
