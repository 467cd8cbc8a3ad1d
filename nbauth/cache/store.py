"""``TokenCache``: MSAL's in-memory token cache API and semantics, with indexed lookups."""
from __future__ import annotations

import contextlib
import threading
import warnings
from typing import (Any, Callable, ContextManager, Dict, Hashable, Iterable, Iterator, List, Mapping, Optional, Set,
                    Tuple, TypeVar)

from ..after_fork import reset_in_child
from ..clock import Clock, system_clock
from ..exceptions import CacheWarning, ConfigurationError
from ..memo import memoized
from ..protocol.lifecycle import TokenTimes
from ..redact import RedactedDict
from .index import Section, matches
from .refresh_locks import AccountKey, AccountLocks, lock_name
from .schema import (
    KNOWN_SECTIONS,
    PROVIDER_FIELD,
    REFUSED_FIELD,
    AuthorityType,
    CredentialType,
    Entry,
    read_document,
    entries_from_event,
    entry_key,
    provider_key,
    with_refusal,
)


def _scope_list(target: Optional[Iterable[str]]) -> Tuple[str, ...]:
    """A search's scopes: lower-cased, without repeats, sorted."""
    if isinstance(target, str):
        raise ConfigurationError("target must be a list of scopes, not a string")
    return _lowered(tuple(target or ()))


@memoized
def _lowered(target: Tuple[str, ...]) -> Tuple[str, ...]:
    return tuple(sorted({scope.lower() for scope in target}))


T = TypeVar("T")
#: What a search gives for each match: given the entry and, for access tokens, its times.
View = Callable[[Entry, Optional[TokenTimes]], Any]


def _copy(entry: Entry, times: Optional[TokenTimes]) -> Entry:
    return RedactedDict(entry)


def _with_times(entry: Entry, times: Optional[TokenTimes]) -> Tuple[Entry, Optional[TokenTimes]]:
    return entry, times


def _expired(times: Optional[TokenTimes], now: int) -> bool:
    """Whether an access token expired (or has no readable expiry): MSAL removes those."""
    return times is None or times.expires_on < now


class TokenCache:
    """MSAL's ``TokenCache``: tokens filed by MSAL's schema, searched through an index.

    Thread-safe. ``search`` visits only the entries that share the rarest of the query's field
    values and scopes, so its cost does not grow with the number of unrelated tokens.
    """

    CredentialType = CredentialType
    AuthorityType = AuthorityType
    #: Where providers' discovery documents are kept between processes (None: not kept).
    discovery_store: Any = None

    def __init__(self, *, clock: Clock = system_clock) -> None:
        self._lock = threading.RLock()
        self._clock = clock
        self._sections: Dict[str, Section] = {name: Section() for name in KNOWN_SECTIONS}
        self._kept_sections: Dict[str, Any] = {}  # sections nbauth does not know or cannot read, as found
        self._kept_entries: Dict[str, Dict[str, Any]] = {name: {} for name in KNOWN_SECTIONS}  # unusable, as found
        self._reported: Set[str] = set()  # the parts named in a CacheWarning already
        self._remembered: Dict[Hashable, Tuple[int, Any]] = {}  # see derived
        self._account_locks = AccountLocks()
        reset_in_child(self, type(self)._after_fork)

    def _after_fork(self) -> None:
        """In a forked child: another thread of the parent may have held the lock mid-change."""
        self._lock = threading.RLock()

    def __repr__(self) -> str:
        with self._lock:
            counts = ", ".join(f"{name}: {len(section)}" for name, section in self._sections.items())
        return f"<{type(self).__name__} {counts}>"

    def _now(self, now: Optional[float] = None) -> int:
        return int(self._clock() if now is None else now)

    @contextlib.contextmanager
    def _editing(self) -> Iterator[bool]:
        """Held around every change; subclasses extend it (e.g. to save the change). Yields whether
        the change is kept for good (a subclass may keep it unsaved)."""
        with self._lock:
            yield True

    @contextlib.contextmanager
    def batch(self) -> Iterator[None]:
        """Make the changes inside the block as one (nbauth's addition): a ``PersistedTokenCache``
        saves them once, when the block ends."""
        with self._editing():
            yield

    def refresh_lock(self, account_key: AccountKey, timeout: float) -> ContextManager[None]:
        """Held while an account's refresh token is redeemed (nbauth's addition; see
        ``cache.refresh_locks``): a thread lock here, waited for up to ``timeout`` seconds."""
        return self._account_locks.hold(lock_name(account_key), timeout)

    def _put(self, credential_type: str, key: str, entry: Optional[Entry]) -> None:
        """The one place entries change: store ``entry`` under ``key``, or remove it if None."""
        self._assign(credential_type, key, entry)

    def _assign(self, credential_type: str, key: str, entry: Optional[Entry]) -> None:
        """Store or remove an entry in memory; it replaces one kept there unusable."""
        self._sections[credential_type].assign(key, entry)
        self._kept_entries[credential_type].pop(key, None)

    def add(self, event: Mapping[str, Any], now: Optional[float] = None) -> None:
        """Store the tokens of a token event (MSAL's event dict; see ``schema.entries_from_event``)."""
        with self._editing():
            for credential_type, entry in entries_from_event(event, self._now(now)):
                self.modify(credential_type, entry, entry)

    def modify(self, credential_type: str, old_entry: Mapping[str, Any],
               new_key_value_pairs: Optional[Mapping[str, Any]] = None) -> None:
        """Update ``old_entry`` with ``new_key_value_pairs``, or remove it when they are None."""
        with self._editing():
            entry = dict(old_entry, **new_key_value_pairs) if new_key_value_pairs else None
            self._put(credential_type, self._key(credential_type, old_entry), entry)

    def _key(self, credential_type: str, entry: Mapping[str, Any]) -> str:
        """MSAL's key of ``entry``; for an entry of a provider whose MSAL key another provider's
        entry holds (two providers on one host, same client id and subject), a key of its own,
        so that neither overwrites the other."""
        key = entry_key(credential_type, entry)
        provider = entry.get(PROVIDER_FIELD)
        if not provider:
            return key
        section, own = self._sections[credential_type], provider_key(key, provider)
        held = section.get(key)
        if section.get(own) is not None or (held is not None and held.get(PROVIDER_FIELD) not in (None, provider)):
            return own
        return key

    def _before_read(self) -> None:
        """Run before every read; subclasses extend it (e.g. to catch up with a file)."""

    def search(self, credential_type: str, target: Optional[Iterable[str]] = None,
               query: Optional[Mapping[str, Any]] = None, *, now: Optional[float] = None) -> Iterator[Entry]:
        """Copies of the entries that match ``query`` (a sub-dict) and hold every scope of ``target``.

        Expired access tokens met on the way are removed, as MSAL does. Returns a generator over
        a snapshot, so the caller may change the cache while iterating. The copies are dicts
        whose repr masks the ``secret``.
        """
        yield from self._find(credential_type, target, query, now, _copy)

    def access_tokens_with_times(self, target: Optional[Iterable[str]], query: Optional[Mapping[str, Any]],
                                  now: Optional[float] = None) -> List[Tuple[Entry, TokenTimes]]:
        """nbauth's silent path (``cache.contract``): ``search(ACCESS_TOKEN, ...)`` as (entry, its
        times parsed once).

        The entries are the cache's own, not copies: read them, never change them.
        """
        return self._find(CredentialType.ACCESS_TOKEN, target, query, now, _with_times)

    def _find(self, credential_type: str, target: Optional[Iterable[str]], query: Optional[Mapping[str, Any]],
              now: Optional[float], view: View) -> List[Any]:
        """``view`` of each matching entry; expired access tokens go."""
        self._before_read()
        scopes = _scope_list(target)
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
                times = section.times(key) if is_access_token else None
                if is_access_token and _expired(times, when):
                    expired.append(key)
                elif matches(section.entries[key], rest, isolated_by):
                    found.append(view(section.entries[key], times))
        if expired:  # removed after the lock is let go: an edit may wait for file I/O (see persistence)
            self._remove_expired(credential_type, expired, when)
        return found

    def _remove_expired(self, credential_type: str, keys: List[str], when: int) -> None:
        """Remove the access tokens under ``keys`` that are still expired at ``when`` (one may have
        been replaced by a fresh token since the search saw it)."""
        with self._editing():
            section = self._sections[credential_type]
            for key in keys:
                if section.get(key) is not None and _expired(section.times(key), when):
                    self._put(credential_type, key, None)

    def derived(self, key: Hashable, compute: Callable[[], T]) -> T:
        """``compute()``, a view of the cache, remembered under ``key`` until the cache changes
        (for views read far more often than the cache changes, such as the applications'
        account lists). The value is shared: read it, never change it."""
        self._before_read()
        with self._lock:
            changes, remembered = self._changes(), self._remembered.get(key)
            if remembered is not None and remembered[0] == changes:
                return remembered[1]
        value = compute()  # outside the lock: its searches may edit (see persistence)
        with self._lock:
            if self._changes() == changes:  # else the cache changed meanwhile: the next call computes again
                self._remembered[key] = (changes, value)
        return value

    def _changes(self) -> int:
        """How many changes the cache has seen (it only grows)."""
        return sum(section.changes for section in self._sections.values())

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

    def refuse_rt(self, rt_item: Mapping[str, Any], scopes: Iterable[str] = ()) -> None:
        """Mark a refresh token the provider refused, for ``scopes`` (empty: for every scope), so
        that no process sharing the cache sends it again (nbauth's addition); nothing changes
        if the entry's secret was replaced meanwhile (e.g. another process rotated it)."""
        self._check_type(rt_item, CredentialType.REFRESH_TOKEN)
        with self._editing():
            key = self._key(CredentialType.REFRESH_TOKEN, rt_item)
            held = self._sections[CredentialType.REFRESH_TOKEN].get(key)
            if held is not None and held.get("secret") == rt_item.get("secret"):
                self._put(CredentialType.REFRESH_TOKEN, key, dict(held, **{REFUSED_FIELD: with_refusal(held, scopes)}))

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

    def _take_entries_of(self, other: "TokenCache") -> None:
        """Make this cache's entries ``other``'s, each change through ``_put`` (so that a subclass,
        e.g. the persisted cache, sees and saves every one)."""
        with self._lock:
            for name in KNOWN_SECTIONS:
                wanted = other._sections[name].entries
                for key in [k for k in self._sections[name].entries if k not in wanted]:
                    self._put(name, key, None)
                for key, entry in wanted.items():
                    self._put(name, key, entry)
            self._kept_sections, self._kept_entries = other._kept_sections, other._kept_entries

    def _document(self) -> Dict[str, Any]:
        """The cache as MSAL's JSON document (a deep enough copy to serialize outside the lock)."""
        with self._lock:
            document = dict(self._kept_sections)
            for name, section in self._sections.items():
                if name not in self._kept_sections or section.entries:  # a section of another shape stays
                    document[name] = {**self._kept_entries[name],  # until nbauth files an entry in it
                                      **{key: dict(entry) for key, entry in section.entries.items()}}
            return document

    def _load_document(self, document: Any) -> None:
        """Make the state a parsed document's; ValueError (and nothing changed) if it is not a
        JSON object. Parts nbauth cannot use are kept as found, skipped, and named once in a
        ``CacheWarning`` (see ``schema.read_document``).

        Only the entries that differ from those in memory are checked and indexed again: a save
        by another process usually changes a few.
        """
        with self._lock:
            reading = read_document(document, {name: section.entries for name, section in self._sections.items()})
            for name, section in self._sections.items():
                for key in section.entries.keys() - reading.usable[name]:
                    section.pop(key)
                for key, entry in reading.changed[name].items():
                    section.put(key, dict(entry))
            self._kept_entries, self._kept_sections = reading.kept_entries, reading.kept_sections
            self._report(reading.problems)

    def _report(self, problems: List[str]) -> None:
        new = [problem for problem in problems if problem not in self._reported]
        if new:
            self._reported.update(new)
            warnings.warn(f"{self._label()} has parts nbauth cannot use; they are kept as they are and "
                          f"skipped: {'; '.join(new)}", CacheWarning, stacklevel=4)

    def _label(self) -> str:
        """The cache, as messages name it."""
        return "the token cache"
