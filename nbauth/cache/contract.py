"""What the token engine needs from a token cache, and how any MSAL-compatible cache provides it.

``TokenCacheLike`` is MSAL's public cache API, the part the engine uses: ``msal.TokenCache``,
``msal.SerializableTokenCache``, their subclasses (e.g. one overriding ``search``) and nbauth's
caches all have it. ``EngineCache`` adds the fast operations nbauth's caches implement
(``TokenCache``: indexed access-token lookups with parsed times, views remembered until the cache
changes, per-account refresh locks, batched saves). ``adapt`` gives the engine an ``EngineCache``
for any cache, once, when it is built: nbauth's own as they are, any other through
``ForeignCache``, which does the same through MSAL's ``search`` / ``add`` / ``modify`` (slower:
no index, no memo; refresh locks within the process only).
"""
from __future__ import annotations

import contextlib
from typing import (
    Any,
    Callable,
    ContextManager,
    Dict,
    Hashable,
    Iterable,
    Iterator,
    List,
    Mapping,
    Optional,
    Protocol,
    Tuple,
    TypeVar,
    runtime_checkable,
)

from ..protocol.lifecycle import TokenTimes, entry_times
from .refresh_locks import AccountKey, AccountLocks, lock_name
from .schema import PROVIDER_FIELD, REFUSED_FIELD, CredentialType, with_refusal

T = TypeVar("T")
#: An access-token entry with its times.
Timed = Tuple[dict, TokenTimes]


class TokenCacheLike(Protocol):
    """MSAL's ``TokenCache`` API as the engine uses it."""

    CredentialType: Any

    def add(self, event: Mapping[str, Any], now: Optional[float] = None) -> None: ...

    def search(self, credential_type: str, target: Optional[Iterable[str]] = None,
               query: Optional[Mapping[str, Any]] = None) -> Iterable[dict]: ...

    def modify(self, credential_type: str, old_entry: Mapping[str, Any],
               new_key_value_pairs: Optional[Mapping[str, Any]] = None) -> None: ...

    def update_rt(self, rt_item: Mapping[str, Any], new_rt: str) -> None: ...

    def remove_rt(self, rt_item: Mapping[str, Any]) -> None: ...

    def remove_at(self, at_item: Mapping[str, Any]) -> None: ...

    def remove_idt(self, idt_item: Mapping[str, Any]) -> None: ...

    def remove_account(self, account_item: Mapping[str, Any]) -> None: ...


@runtime_checkable
class EngineCache(TokenCacheLike, Protocol):
    """``TokenCacheLike`` with the fast operations the engine's hot paths use."""

    discovery_store: Any  # where discovery documents are kept between processes, or None

    def access_tokens_with_times(self, target: Optional[Iterable[str]], query: Optional[Mapping[str, Any]],
                                 now: Optional[float] = None) -> List[Timed]:
        """The access tokens ``search`` finds, each with its times; entries are read-only."""

    def derived(self, key: Hashable, compute: Callable[[], T]) -> T:
        """``compute()``, which may be remembered under ``key`` until the cache changes."""

    def refresh_lock(self, account_key: AccountKey, timeout: float) -> ContextManager[None]:
        """Held while the account's refresh token is redeemed."""

    def batch(self) -> ContextManager[None]:
        """Changes inside the block are one (saved once)."""

    def refuse_rt(self, rt_item: Mapping[str, Any], scopes: Iterable[str] = ()) -> None:
        """Mark a refresh token the provider refused for ``scopes`` (empty: every scope)."""


def adapt(cache: TokenCacheLike) -> EngineCache:
    """``cache`` as the engine uses it: nbauth's caches as they are, others through ``ForeignCache``."""
    return cache if isinstance(cache, EngineCache) else ForeignCache(cache)


class ForeignCache:
    """An ``EngineCache`` over a cache that has only MSAL's public API (e.g. ``msal``'s own).

    MSAL's ``search`` knows nothing of nbauth's provider field (MSAL's ``add`` does not write
    it), so queries go without it and entries naming another provider are left out here, as
    nbauth's index does.
    """

    discovery_store = None

    def __init__(self, cache: TokenCacheLike) -> None:
        self.cache = cache
        self.CredentialType = cache.CredentialType
        self._locks = AccountLocks()

    def __repr__(self) -> str:
        return f"<ForeignCache of {self.cache!r}>"

    # ---- MSAL's API, passed through --------------------------------------------------------------
    def add(self, event: Mapping[str, Any], now: Optional[float] = None) -> None:
        self.cache.add(event, now=now)

    def search(self, credential_type: str, target: Optional[Iterable[str]] = None,
               query: Optional[Mapping[str, Any]] = None) -> Iterator[dict]:
        query = dict(query or {})
        provider = query.pop(PROVIDER_FIELD, None)
        for entry in self.cache.search(credential_type, target=list(target) if target else None, query=query):
            if entry.get(PROVIDER_FIELD) in (None, provider):
                yield entry

    def modify(self, credential_type: str, old_entry: Mapping[str, Any],
               new_key_value_pairs: Optional[Mapping[str, Any]] = None) -> None:
        self.cache.modify(credential_type, old_entry, new_key_value_pairs)

    def update_rt(self, rt_item: Mapping[str, Any], new_rt: str) -> None:
        self.cache.update_rt(rt_item, new_rt)

    def remove_rt(self, rt_item: Mapping[str, Any]) -> None:
        self.cache.remove_rt(rt_item)

    def remove_at(self, at_item: Mapping[str, Any]) -> None:
        self.cache.remove_at(at_item)

    def remove_idt(self, idt_item: Mapping[str, Any]) -> None:
        self.cache.remove_idt(idt_item)

    def remove_account(self, account_item: Mapping[str, Any]) -> None:
        self.cache.remove_account(account_item)

    # ---- the fast operations, done the slow way --------------------------------------------------
    def access_tokens_with_times(self, target: Optional[Iterable[str]], query: Optional[Mapping[str, Any]],
                                 now: Optional[float] = None) -> List[Timed]:
        found = ((entry, entry_times(entry)) for entry in self.search(CredentialType.ACCESS_TOKEN, target, query))
        return [(entry, times) for entry, times in found if times is not None]

    def derived(self, key: Hashable, compute: Callable[[], T]) -> T:
        return compute()

    def refresh_lock(self, account_key: AccountKey, timeout: float) -> ContextManager[None]:
        return self._locks.hold(lock_name(account_key), timeout)

    def batch(self) -> ContextManager[None]:
        return contextlib.nullcontext()

    def refuse_rt(self, rt_item: Mapping[str, Any], scopes: Iterable[str] = ()) -> None:
        """Marks the entry unless its secret was replaced meanwhile (checked, then changed: MSAL's
        API has no way to do both at once)."""
        key_fields: Dict[str, Any] = {k: rt_item.get(k) for k in ("home_account_id", "environment", "client_id")}
        for held in self.cache.search(CredentialType.REFRESH_TOKEN, query=key_fields):
            if held.get("secret") == rt_item.get("secret"):
                self.cache.modify(CredentialType.REFRESH_TOKEN, held, {REFUSED_FIELD: with_refusal(held, scopes)})
                return
