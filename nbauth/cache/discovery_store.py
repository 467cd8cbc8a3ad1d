"""Discovery documents kept beside a persisted token cache, so that a new process with a warm
cache serves its tokens without asking the provider for its configuration first.

The documents are public, but the file is treated like the cache (owner-only, atomic replace,
no links followed, written under the cache's lock): whoever could change it could point nbauth
at other endpoints. Each document is checked again against its authority when it is used.
A damaged or unreadable file is only a missed shortcut: it is ignored and rewritten.
"""
from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any, Dict, Optional, Tuple

from .cachefile import CacheFile, DamagedFile
from .folder import Refused
from .lock import FileLock, LockTimeout

logger = logging.getLogger("nbauth.cache")


class DiscoveryStore:
    """``{discovery URL: {"document": {...}, "fetched_at": seconds}}`` in one JSON file."""

    def __init__(self, path: Path, lock: FileLock, lock_timeout: float) -> None:
        self._file = CacheFile(path, lock.folder)
        self._lock = lock
        self._lock_timeout = lock_timeout

    def __repr__(self) -> str:
        return f"<DiscoveryStore {str(self._file.path)!r}>"

    def load(self, url: str) -> Optional[Tuple[Dict[str, Any], float]]:
        """The stored document for ``url`` and when it was fetched, or None."""
        record = self._read().get(url)
        if not isinstance(record, dict):
            return None
        document, fetched_at = record.get("document"), record.get("fetched_at")
        if not isinstance(document, dict) or not isinstance(fetched_at, (int, float)):
            return None
        return document, float(fetched_at)

    def save(self, url: str, document: Dict[str, Any], fetched_at: float) -> None:
        """Remember ``document``; a failure to write is logged, never raised."""
        try:
            with self._lock.hold(self._lock_timeout):
                records = self._read()
                records[url] = {"document": document, "fetched_at": int(fetched_at)}
                self._file.remove_leftovers()
                self._file.write(json.dumps(records, sort_keys=True).encode()).close()
        except (OSError, LockTimeout, Refused) as error:
            logger.debug("discovery document not saved to %s: %s", self._file.path, error)

    def _read(self) -> Dict[str, Any]:
        try:
            data, version, _ = self._file.read()
        except (DamagedFile, Refused) as error:  # the file, or its folder, nbauth must not use
            logger.debug("ignoring the discovery file %s (%s)", self._file.path, error)
            return {}
        if version is not None:
            version.close()
        try:
            records = json.loads(data) if data.strip() else {}
        except ValueError:
            return {}
        return records if isinstance(records, dict) else {}
