"""The lookup index: one section of the cache, with posting sets per field value and per scope.

A search intersects the posting sets of its query terms starting from the smallest, so a cache
hit costs the same with 10 tokens as with 10,000, also when the stored token's scopes are a
superset of those asked. Pure data structure: no locks (the store holds one), no I/O.
"""
from __future__ import annotations

from typing import Any, Dict, Hashable, Iterable, List, Mapping, Optional, Sequence, Set, Tuple

from .schema import Entry, scopes_of

#: Fields a query may name that are worth a posting set (identity fields, not times or secrets).
INDEXED_FIELDS = frozenset({
    "home_account_id", "environment", "realm", "client_id", "family_id", "user_assertion_hash",
    "key_id", "ext_cache_key", "authority_type", "local_account_id", "username",
})
#: Fields that isolate an access token: it matches only a query that names them.
ISOLATING_FIELDS = ("ext_cache_key", "user_assertion_hash")

Term = Tuple[str, Hashable]
_EMPTY: Set[str] = set()


def _normal(field: str, value: Any) -> Any:
    """Environments compare case-insensitively (MSAL lower-cases them); the rest exactly."""
    return value.lower() if field == "environment" and isinstance(value, str) else value


def _hashable(value: Any) -> bool:
    try:
        hash(value)
    except TypeError:
        return False
    return True


def _terms(entry: Mapping[str, Any]) -> List[Term]:
    terms: List[Term] = [(field, _normal(field, entry[field])) for field in INDEXED_FIELDS
                         if field in entry and _hashable(entry[field])]
    terms.extend(("scope", scope) for scope in set(scopes_of(entry)))
    return terms


def matches(entry: Mapping[str, Any], query: Optional[Mapping[str, Any]], scopes: Sequence[str],
            isolate: bool = False) -> bool:
    """MSAL's match: ``query`` is a sub-dict of ``entry`` and ``scopes`` a subset of its target.

    With ``isolate`` (access tokens), an entry carrying an isolating field matches only a query
    that names that field.
    """
    query = query or {}
    for field, value in query.items():
        if field not in entry or _normal(field, entry[field]) != _normal(field, value):
            return False
    if isolate and any(field in entry and field not in query for field in ISOLATING_FIELDS):
        return False
    return not scopes or set(scopes) <= set(scopes_of(entry))


class Section:
    """The entries of one credential type by key, indexed by field values and scopes."""

    def __init__(self) -> None:
        self.entries: Dict[str, Entry] = {}
        self._postings: Dict[Term, Set[str]] = {}

    def __len__(self) -> int:
        return len(self.entries)

    def get(self, key: str) -> Optional[Entry]:
        return self.entries.get(key)

    def put(self, key: str, entry: Entry) -> None:
        """Store ``entry`` under ``key``, replacing (and un-indexing) what was there."""
        self.pop(key)
        self.entries[key] = entry
        for term in _terms(entry):
            self._postings.setdefault(term, set()).add(key)

    def assign(self, key: str, entry: Optional[Entry]) -> None:
        """``put``, or ``pop`` when ``entry`` is None."""
        if entry is None:
            self.pop(key)
        else:
            self.put(key, entry)

    def pop(self, key: str) -> Optional[Entry]:
        entry = self.entries.pop(key, None)
        if entry is not None:
            for term in _terms(entry):
                keys = self._postings[term]
                keys.discard(key)
                if not keys:
                    del self._postings[term]
        return entry

    def candidates(self, query: Optional[Mapping[str, Any]], scopes: Iterable[str]) -> List[str]:
        """Keys of the entries that may match: those in every posting set the query names.

        Visits no more keys than the smallest posting set holds; an unqualified query (no
        indexed field, no scope) lists every key.
        """
        terms = [(field, _normal(field, value)) for field, value in (query or {}).items()
                 if field in INDEXED_FIELDS and _hashable(value)]
        terms.extend(("scope", scope) for scope in scopes)
        if not terms:
            return list(self.entries)
        postings = sorted((self._postings.get(term, _EMPTY) for term in terms), key=len)
        rarest, others = postings[0], postings[1:]
        return [key for key in rarest if all(key in keys for keys in others)]
