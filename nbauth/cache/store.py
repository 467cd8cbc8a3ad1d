"""``TokenCache``: MSAL's in-memory token cache API and semantics, with indexed lookups."""
from __future__ import annotations

import contextlib
import threading
import warnings
from typing import Any, Callable, Dict, Iterable, Iterator, List, Mapping, NamedTuple, Optional, Sequence, Tuple

from .._clock import Clock, system_clock
from .._memo import memoized
from .._redact import RedactedDict
from ..exceptions import ConfigurationError
from ..protocol.lifecycle import TokenTimes
from .index import Section, matches
from .schema import (KNOWN_SECTIONS, AuthorityType, CredentialType, Entry, check_document,
                     access_token_key, entries_from_event, entry_key)


class Asked(NamedTuple):
    """A search's target: its scopes lower-cased, without repeats, sorted; and the ``target``
    text an access token granted exactly those scopes is filed under (MSAL's, in its key)."""

    scopes: Tuple[str, ...]
    target: str


def _asked(target: Optional[Iterable[str]]) -> Asked:
    if isinstance(target, str):
        raise ConfigurationError("target must be a list of scopes, not a string")
    return _parsed_target(tuple(target or ()))


@memoized
def _parsed_target(target: Tuple[str, ...]) -> Asked:
    return Asked(tuple(sorted({scope.lower() for scope in target})), " ".join(sorted(target)))


#: What a search gives for each match: given the entry and, for access tokens, its times.
View = Callable[[Entry, Optional[TokenTimes]], Any]


def _copy(entry: Entry, times: Optional[TokenTimes]) -> Entry:
    return RedactedDict(entry)


def _with_times(entry: Entry, times: Optional[TokenTimes]) -> Tuple[Entry, Optional[TokenTimes]]:
    return entry, times


def _expired(times: Optional[TokenTimes], now: int) -> bool:
    """Whether an access token expired (or has no readable expiry): MSAL removes those."""
    return times is None or times.expires_on < now


#: Keys of the access tokens asked for lately (the silent path asks for the same few again and again).
_access_token_key = memoized(access_token_key)


def _exact_key(credential_type: str, asked: Asked, query: Optional[Mapping[str, Any]]) -> Optional[str]:
    """The key of the access token that ``query`` and ``asked`` name, when they name one: as MSAL,
    the query has the account, environment, client and realm (and maybe ``ext_cache_key``)."""
    if credential_type != CredentialType.ACCESS_TOKEN or not asked.target or query is None:
        return None
    try:
        return _access_token_key(query["home_account_id"], query["environment"], query["client_id"], query["realm"],
                                asked.target, query.get("ext_cache_key"))
    except (KeyError, TypeError):  # a field missing, or a value that is not text
        return None


class TokenCache:
    """MSAL's ``TokenCache``: tokens filed by MSAL's schema, searched through an index.

    Thread-safe. ``search`` visits only the entries that share the rarest of the query's field
    values and scopes, so its cost does not grow with the number of unrelated tokens.
    """

    CredentialType = CredentialType
    AuthorityType = AuthorityType

    def __init__(self, *, clock: Clock = system_clock) -> None:
        self._lock = threading.RLock()
        self._clock = clock
        self._sections: Dict[str, Section] = {name: Section() for name in KNOWN_SECTIONS}
        self._extra_sections: Dict[str, Any] = {}  # sections of other MSAL versions, kept as found

    def __repr__(self) -> str:
        with self._lock:
            counts = ", ".join(f"{name}: {len(section)}" for name, section in self._sections.items())
        return f"<{type(self).__name__} {counts}>"

    def _now(self, now: Optional[float] = None) -> int:
        return int(self._clock() if now is None else now)

    @contextlib.contextmanager
    def _editing(self) -> Iterator[None]:
        """Held around every change; subclasses extend it (e.g. to save the change)."""
        with self._lock:
            yield

    def _put(self, credential_type: str, key: str, entry: Optional[Entry]) -> None:
        """The one place entries change: store ``entry`` under ``key``, or remove it if None."""
        self._sections[credential_type].assign(key, entry)

    def add(self, event: Mapping[str, Any], now: Optional[float] = None) -> None:
        """Store the tokens of a token event (MSAL's event dict; see ``schema.entries_from_event``)."""
        with self._editing():
            for credential_type, entry in entries_from_event(event, self._now(now)):
                self.modify(credential_type, entry, entry)

    def modify(self, credential_type: str, old_entry: Mapping[str, Any],
               new_key_value_pairs: Optional[Mapping[str, Any]] = None) -> None:
        """Update ``old_entry`` with ``new_key_value_pairs``, or remove it when they are None."""
        key = entry_key(credential_type, old_entry)
        with self._editing():
            entry = dict(old_entry, **new_key_value_pairs) if new_key_value_pairs else None
            self._put(credential_type, key, entry)

    def _before_read(self) -> None:
        """Run before every read; subclasses extend it (e.g. to catch up with a file)."""

    def search(self, credential_type: str, target: Optional[Iterable[str]] = None,
               query: Optional[Mapping[str, Any]] = None, *, now: Optional[float] = None) -> Iterator[Entry]:
        """Copies of the entries that match ``query`` (a sub-dict) and hold every scope of ``target``.

        As in MSAL, an access token filed under the exact key the query and target name comes
        first, found without a search; the others come from a snapshot taken when the iteration
        goes past it, so the caller may change the cache while iterating. Expired access tokens
        met on the way are removed, as MSAL does. The copies are dicts whose repr masks the
        ``secret``.
        """
        yield from self._find(credential_type, target, query, now, _copy)

    def _access_tokens_with_times(self, target: Optional[Iterable[str]], query: Optional[Mapping[str, Any]],
                                  now: Optional[float] = None) -> Iterator[Tuple[Entry, TokenTimes]]:
        """nbauth's silent path: ``search(ACCESS_TOKEN, ...)`` as (entry, its times parsed once).

        The entries are the cache's own, not copies: read them, never change them.
        """
        return self._find(CredentialType.ACCESS_TOKEN, target, query, now, _with_times)

    def _find(self, credential_type: str, target: Optional[Iterable[str]], query: Optional[Mapping[str, Any]],
              now: Optional[float], view: View) -> Iterator[Any]:
        """``view`` of each match, the exact key's first (``search`` says how)."""
        self._before_read()
        asked = _asked(target)
        exact = self._exact_access_token(credential_type, asked, query, now, view)
        if exact is not None:
            yield exact[1]
        yield from self._matching(credential_type, asked.scopes, query, now, view, exact[0] if exact else None)

    def _exact_access_token(self, credential_type: str, asked: Asked, query: Optional[Mapping[str, Any]],
                            now: Optional[float], view: View) -> Optional[Tuple[str, Any]]:
        """(key, ``view``) of the unexpired access token filed under the key that ``query`` and
        ``asked`` name (MSAL's O(1) hit), if it matches them."""
        key = _exact_key(credential_type, asked, query)
        if key is None:
            return None
        with self._lock:
            section = self._sections[credential_type]
            entry = section.get(key)
            if entry is None or not section.scopes[key].issuperset(asked.scopes) \
                    or not matches(entry, query, isolated_by=query):
                return None
            times = section.times(key)
            return None if _expired(times, self._now(now)) else (key, view(entry, times))

    def _matching(self, credential_type: str, scopes: Sequence[str], query: Optional[Mapping[str, Any]],
                  now: Optional[float], view: View, skip: Optional[str] = None) -> List[Any]:
        """``view`` of each matching entry but the one under ``skip``; expired access tokens go."""
        is_access_token = credential_type == CredentialType.ACCESS_TOKEN
        with self._lock:
            section = self._sections.get(credential_type)
            if section is None:
                return []
            when = self._now(now)
            found, expired = [], []
            keys, rest = section.select(query, scopes)
            isolated_by = (query or {}) if is_access_token else None
            for key in keys:
                if key == skip:
                    continue
                times = section.times(key) if is_access_token else None
                if is_access_token and _expired(times, when):
                    expired.append(key)
                elif matches(section.entries[key], rest, isolated_by):
                    found.append(view(section.entries[key], times))
            if expired:
                with self._editing():
                    for key in expired:
                        self._put(credential_type, key, None)
            return found

    def find(self, credential_type: str, target: Optional[Iterable[str]] = None,
             query: Optional[Mapping[str, Any]] = None, *, now: Optional[float] = None) -> List[Entry]:
        """Deprecated (as in MSAL): ``list(search(...))``."""
        warnings.warn("Use list(search(...)) instead to explicitly get a list.", DeprecationWarning,
                      stacklevel=2)
        return list(self.search(credential_type, target=target, query=query, now=now))

    def remove_rt(self, rt_item: Mapping[str, Any]) -> None:
        self._check_type(rt_item, CredentialType.REFRESH_TOKEN)
        self.modify(CredentialType.REFRESH_TOKEN, rt_item)

    def update_rt(self, rt_item: Mapping[str, Any], new_rt: str) -> None:
        """Replace a refresh token's secret (after the provider rotated it)."""
        self._check_type(rt_item, CredentialType.REFRESH_TOKEN)
        self.modify(CredentialType.REFRESH_TOKEN, rt_item,
                    {"secret": new_rt, "last_modification_time": str(self._now())})

    def remove_at(self, at_item: Mapping[str, Any]) -> None:
        self._check_type(at_item, CredentialType.ACCESS_TOKEN)
        self.modify(CredentialType.ACCESS_TOKEN, at_item)

    def remove_idt(self, idt_item: Mapping[str, Any]) -> None:
        self._check_type(idt_item, CredentialType.ID_TOKEN)
        self.modify(CredentialType.ID_TOKEN, idt_item)

    def remove_account(self, account_item: Mapping[str, Any]) -> None:
        if "authority_type" not in account_item:
            raise ConfigurationError("remove_account needs an Account entry (it has no authority_type)")
        self.modify(CredentialType.ACCOUNT, account_item)

    @staticmethod
    def _check_type(item: Mapping[str, Any], expected: str) -> None:
        if item.get("credential_type") != expected:
            raise ConfigurationError(
                f"expected a {expected} entry, got credential_type {item.get('credential_type')!r}")

    def _get_app_metadata(self, environment: str, client_id: str, default: Any = None) -> Any:
        """MSAL's private accessor, so that ``msal`` applications can use this cache too."""
        entry = self._sections[CredentialType.APP_METADATA].get(entry_key(
            CredentialType.APP_METADATA, {"environment": environment, "client_id": client_id}))
        return dict(entry) if entry is not None else default

    def _document(self) -> Dict[str, Any]:
        """The cache as MSAL's JSON document (a deep enough copy to serialize outside the lock)."""
        with self._lock:
            document = {name: {key: dict(entry) for key, entry in section.entries.items()}
                        for name, section in self._sections.items()}
            document.update(self._extra_sections)
            return document

    def _load_document(self, document: Any) -> None:
        """Replace the whole state with a parsed document; ValueError if it is not MSAL's shape."""
        check_document(document)
        sections = {name: Section() for name in KNOWN_SECTIONS}
        for name, section in sections.items():
            for key, entry in document.get(name, {}).items():
                section.put(key, dict(entry))
        with self._lock:
            self._sections = sections
            self._extra_sections = {k: v for k, v in document.items() if k not in KNOWN_SECTIONS}
