"""The lookup index: one section of the cache, with posting sets per field value and per scope.

A search intersects the posting sets of its query terms starting from the smallest, so a cache
hit costs the same with 10 tokens as with 10,000, also when the stored token's scopes are a
superset of those asked. Pure data structure: no locks (the store holds one), no I/O.
"""
from __future__ import annotations

import itertools
from typing import (AbstractSet, Any, Dict, FrozenSet, Hashable, Iterator, List, Mapping, Optional, Sequence, Set,
                    Tuple)

from ..protocol.lifecycle import TokenTimes, entry_times
from .schema import PROVIDER_FIELD, Entry, scopes_of

#: Fields a query may name that are worth a posting set (identity fields, not times or secrets).
INDEXED_FIELDS = frozenset({
    "home_account_id", "environment", "realm", "client_id", "family_id", "user_assertion_hash",
    "key_id", "ext_cache_key", "authority_type", "local_account_id", "username", PROVIDER_FIELD,
})
#: Fields that isolate an access token: it matches only a query that names them.
ISOLATING_FIELDS = ("ext_cache_key", "user_assertion_hash")

Term = Tuple[str, Hashable]
Selection = Tuple[Tuple[str, ...], Dict[str, Any]]
_MAX_REMEMBERED = 256  # answers select keeps
_EMPTY: Set[str] = set()
_MISSING = object()


def _normal(field: str, value: Any) -> Any:
    """Environments compare case-insensitively (MSAL lower-cases them); the rest exactly."""
    return value.lower() if field == "environment" and isinstance(value, str) else value


def _hashable(value: Any) -> bool:
    try:
        hash(value)
    except TypeError:
        return False
    return True


def _terms(entry: Mapping[str, Any], scopes: FrozenSet[str]) -> List[Term]:
    terms: List[Term] = [(field, _normal(field, entry[field])) for field in INDEXED_FIELDS
                         if field in entry and _hashable(entry[field])]
    if PROVIDER_FIELD not in entry:  # an entry of any provider (MSAL's): posted under None
        terms.append((PROVIDER_FIELD, None))
    terms.extend(("scope", scope) for scope in scopes)
    return terms


class _Either(AbstractSet[str]):
    """Two disjoint posting sets read as their union, without copying them."""

    __slots__ = ("one", "other")

    def __init__(self, one: AbstractSet[str], other: AbstractSet[str]) -> None:
        self.one, self.other = one, other

    def __len__(self) -> int:
        return len(self.one) + len(self.other)

    def __iter__(self) -> Iterator[str]:
        return itertools.chain(self.one, self.other)

    def __contains__(self, key: object) -> bool:
        return key in self.one or key in self.other


def matches(entry: Mapping[str, Any], fields: Mapping[str, Any],
            isolated_by: Optional[Mapping[str, Any]] = None) -> bool:
    """MSAL's match of the fields: ``fields`` is a sub-dict of ``entry`` (scopes are the index's),
    except that an entry without ``nbauth_provider`` matches any provider.

    With ``isolated_by`` (an access-token search's whole query), an entry carrying an isolating
    field matches only if that query names the field.
    """
    for field, value in fields.items():
        have = entry.get(field, _MISSING)
        if field == PROVIDER_FIELD and (have is _MISSING or have is None):
            continue
        if have != value and (have is _MISSING or _normal(field, have) != _normal(field, value)):
            return False
    if isolated_by is not None:
        for field in ISOLATING_FIELDS:
            if field in entry and field not in isolated_by:
                return False
    return True


class Section:
    """The entries of one credential type by key, indexed by field values and scopes.

    ``scopes`` holds each entry's scopes, lower-cased, parsed once when the entry is stored;
    ``times`` an access token's times, parsed once when first asked for. ``select`` remembers
    its answers until the section changes (the silent path asks the same question each time).
    ``changes`` counts the changes.
    """

    def __init__(self) -> None:
        self.entries: Dict[str, Entry] = {}
        self.scopes: Dict[str, FrozenSet[str]] = {}
        self._postings: Dict[Term, Set[str]] = {}
        self._times: Dict[str, Optional[TokenTimes]] = {}
        self._selected: Dict[Hashable, Selection] = {}
        self.changes = 0

    def __len__(self) -> int:
        return len(self.entries)

    def get(self, key: str) -> Optional[Entry]:
        return self.entries.get(key)

    def times(self, key: str) -> Optional[TokenTimes]:
        """The times of the access token under ``key`` (None when it has no readable expiry)."""
        if key not in self._times:
            self._times[key] = entry_times(self.entries[key])
        return self._times[key]

    def put(self, key: str, entry: Entry) -> None:
        """Store ``entry`` under ``key``, replacing (and un-indexing) what was there."""
        self.pop(key)
        self._changed()
        scopes = frozenset(scopes_of(entry))
        self.entries[key] = entry
        self.scopes[key] = scopes
        for term in _terms(entry, scopes):
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
            self._times.pop(key, None)
            self._changed()
            for term in _terms(entry, self.scopes.pop(key)):
                keys = self._postings[term]
                keys.discard(key)
                if not keys:
                    del self._postings[term]
        return entry

    def _changed(self) -> None:
        self.changes += 1
        self._selected.clear()

    def select(self, query: Optional[Mapping[str, Any]], scopes: Sequence[str]) -> Selection:
        """(keys of the entries in every posting set the query names, the rest of the query).

        The keys' entries hold every scope and indexed field value asked; the rest (fields
        without posting sets, unhashable values) is for ``matches``. Visits no more keys than
        the smallest posting set holds; an unqualified query (no indexed field, no scope)
        lists every key. The answer is shared: read it, never change it.
        """
        try:
            question: Hashable = (tuple(query.items()) if query else (), tuple(scopes))
            answer = self._selected.get(question)
        except TypeError:  # an unhashable value in the query
            return self._select(query, scopes)
        if answer is None:
            if len(self._selected) >= _MAX_REMEMBERED:
                self._selected.clear()
            answer = self._selected[question] = self._select(query, scopes)
        return answer

    def _posting(self, field: str, value: Any) -> AbstractSet[str]:
        """The keys of the entries with ``value`` in ``field``; for a provider, also of those with none."""
        found = self._postings.get((field, _normal(field, value)), _EMPTY)
        if field == PROVIDER_FIELD:
            return _Either(found, self._postings.get((field, None), _EMPTY))
        return found

    def _select(self, query: Optional[Mapping[str, Any]], scopes: Sequence[str]) -> Selection:
        postings: List[AbstractSet[str]] = []
        rest: Dict[str, Any] = {}
        for field, value in (query or {}).items():
            if field in INDEXED_FIELDS:
                try:
                    postings.append(self._posting(field, value))
                    continue
                except TypeError:  # an unhashable value: no posting set holds it
                    pass
            rest[field] = value
        for scope in scopes:
            postings.append(self._postings.get(("scope", scope), _EMPTY))
        if not postings:
            return tuple(self.entries), rest
        found = []
        for key in min(postings, key=len):
            for keys in postings:
                if key not in keys:
                    break
            else:
                found.append(key)
        return tuple(found), rest

