"""A folder only this user controls, opened so that what was checked is what is used.

The folder itself is opened with ``O_NOFOLLOW``: a symbolic link is refused, so is a folder of
another user (``Refused``), and one open to group or others is narrowed to 0700 with a
``CacheWarning``. The folders above it belong to the system and may be links (``/home`` ->
``/var/home`` is common): they are followed, unchecked, except those nbauth creates, which are
made one by one, 0700 whatever the umask, and never through a link. Files inside are opened
relative to the checked descriptor (``dir_fd``), so swapping the folder between the check and
the use changes nothing.

Each operation opens and checks the folder anew and closes it after (``opened``), rather than
keeping one descriptor for the cache's life: a folder deleted and made again (``rm -rf`` of
the cache while a kernel runs) is found again, no lock guards a shared descriptor, and a forked
child inherits none in use. It costs a few system calls per file operation, none on a cache hit.
"""
from __future__ import annotations

import contextlib
import errno
import os
import stat
import warnings
from pathlib import Path
from typing import Iterator

from ..exceptions import CacheWarning

_DIRECTORY = os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC


class Refused(Exception):
    """A file or folder nbauth must not use: a symbolic link, another user's, or not what it
    should be. The message names it and says why."""


def foreign(info: os.stat_result) -> str:
    """Why a file with this status is not the user's to use ("" when it is)."""
    return f"belongs to another user (uid {info.st_uid})" if info.st_uid != os.geteuid() else ""


def narrow(fd: int, info: os.stat_result, mode: int) -> bool:
    """Make the open file ``fd`` owner-only (``mode``) if group or others have bits; whether it had to."""
    if not info.st_mode & 0o077:
        return False
    os.fchmod(fd, mode)
    return True


class Folder:
    """The folder at ``path``, named in messages as ``label`` (e.g. "the token cache folder")."""

    def __init__(self, path: Path, label: str = "the folder") -> None:
        self.path = Path(os.path.abspath(path))  # "cache.json" has the folder "", which cannot be opened
        self.label = label

    def __repr__(self) -> str:
        return f"<Folder {str(self.path)!r}>"

    @contextlib.contextmanager
    def opened(self, create: bool = False) -> Iterator[int]:
        """A checked descriptor on the folder (made, with missing parents, if ``create``), closed
        after. Raises Refused, or OSError (FileNotFoundError when it is missing and not ``create``)."""
        fd = self._open(create)
        try:
            yield fd
        finally:
            os.close(fd)

    def _open(self, create: bool) -> int:
        above = _open_above(self.path.parent, create)
        try:
            made = create and _make(self.path.name, above)
            try:
                fd = os.open(self.path.name, _DIRECTORY | os.O_NOFOLLOW, dir_fd=above)
            except OSError as error:
                if error.errno == errno.ELOOP or _is_link(self.path.name, above):
                    raise Refused(f"{self.label} {self.path} is a symbolic link, which nbauth does not follow") \
                        from None
                raise
        finally:
            os.close(above)
        try:
            self._check(fd, made)
        except BaseException:
            os.close(fd)
            raise
        return fd

    def _check(self, fd: int, made: bool) -> None:
        info = os.fstat(fd)
        why = foreign(info)
        if why:
            raise Refused(f"{self.label} {self.path} {why}")
        if made:
            os.fchmod(fd, 0o700)  # mkdir's mode went through the umask
        elif narrow(fd, info, 0o700):
            warnings.warn(f"{self.label} {self.path} was open to other users; it is now owner-only (0700)",
                          CacheWarning, stacklevel=4)


def _open_above(path: Path, create: bool) -> int:
    """A descriptor on ``path``, following links; missing folders are made 0700 if ``create``."""
    try:
        return os.open(path, _DIRECTORY)
    except FileNotFoundError:
        if not create or path.parent == path:
            raise
    parent = _open_above(path.parent, create)
    try:
        made = _make(path.name, parent)
        fd = os.open(path.name, _DIRECTORY | os.O_NOFOLLOW, dir_fd=parent)
    finally:
        os.close(parent)
    if made:
        os.fchmod(fd, 0o700)
    return fd


def _make(name: str, parent: int) -> bool:
    """mkdir ``name`` (0700) in the folder ``parent``; False if something is there already."""
    try:
        os.mkdir(name, 0o700, dir_fd=parent)
    except FileExistsError:
        return False
    return True


def _is_link(name: str, parent: int) -> bool:
    try:
        return stat.S_ISLNK(os.stat(name, dir_fd=parent, follow_symlinks=False).st_mode)
    except OSError:
        return False
