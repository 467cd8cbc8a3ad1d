"""Cache files written the way each library writes them, quickly (no sign-in per token)."""
from __future__ import annotations

import os
from pathlib import Path
from typing import Iterable, Tuple

from .libs import Library


def write_private(path: Path, data: str) -> None:
    """Replace ``path`` atomically with ``data`` (0600, as another process saving its cache would)."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    temp = path.with_name(path.name + ".bench-tmp")
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as stream:
        stream.write(data)
    os.replace(temp, path)


def serialized(library: Library, events: Iterable[dict]) -> Tuple[object, str]:
    """The library's in-memory cache after ``events``, and its serialized text."""
    cache = library.memory_cache()
    for event in events:
        cache.add(event)
    return cache, cache.serialize()


def signature(path: Path) -> Tuple[int, int, int]:
    """(inode, size, mtime in ns): what changes when anyone writes the file."""
    info = os.stat(path)
    return info.st_ino, info.st_size, info.st_mtime_ns
