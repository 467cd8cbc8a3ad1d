"""MSAL's ``http_cache``: a dict-like object the application keeps HTTP answers in, which the
caller may persist between runs (msal's documented recipe pickles it at exit), so that a new
process does not ask again.

nbauth keeps the providers' discovery documents there (what msal's keeps for 24 hours among
its public GET answers), as plain JSON-shaped values: ``{"document": {...}, "fetched_at": s}``
under ``"nbauth discovery <url>"``, beside whatever else the mapping holds (msal's own entries
included). It serves as the ``MetadataStore`` of ``authority.Discovery``: a stored document is
checked against its authority again when used, and anything else found under the key is
ignored and overwritten.
"""
from __future__ import annotations

from typing import Any, Dict, MutableMapping, Optional, Tuple

from ..exceptions import ConfigurationError

_PREFIX = "nbauth discovery "


class HttpCacheStore:
    """Discovery documents in a caller's ``http_cache`` mapping (see the module's docstring)."""

    def __init__(self, mapping: MutableMapping[str, Any]) -> None:
        self._mapping = mapping

    def __repr__(self) -> str:
        return f"<HttpCacheStore of a {type(self._mapping).__name__}>"

    def load(self, url: str) -> Optional[Tuple[Dict[str, Any], float]]:
        record = self._mapping.get(_PREFIX + url)
        if not isinstance(record, dict):
            return None
        document, fetched_at = record.get("document"), record.get("fetched_at")
        if not isinstance(document, dict) or isinstance(fetched_at, bool) or not isinstance(fetched_at, (int, float)):
            return None
        return document, float(fetched_at)

    def save(self, url: str, document: Dict[str, Any], fetched_at: float) -> None:
        self._mapping[_PREFIX + url] = {"document": document, "fetched_at": int(fetched_at)}


def dict_like(http_cache: Any) -> MutableMapping[str, Any]:
    """MSAL's ``http_cache`` option, checked: anything not dict-like is refused, naming it."""
    if not all(hasattr(http_cache, name) for name in ("get", "__setitem__", "__getitem__")):
        raise ConfigurationError(f"http_cache must be a dict-like object (get, [] and []=), not "
                                 f"{type(http_cache).__name__}")
    return http_cache


def http_cache_store(http_cache: Any) -> Optional[HttpCacheStore]:
    """The store over MSAL's ``http_cache`` option (None when not given)."""
    return None if http_cache is None else HttpCacheStore(dict_like(http_cache))
