"""Redeeming an account's cached refresh token: once for all concurrent callers, under the
account's refresh lock, newest token first, never sending one the provider refused; in the
caller's thread (``run``) or, for a token due for refresh but still valid, in the background
(``start``; ``behind`` runs any such renewal, e.g. of an app's own token).
"""
from __future__ import annotations

import logging
from concurrent.futures import Future
from typing import TYPE_CHECKING, Any, Callable, Dict, Hashable, List, Mapping, Optional, Set, Tuple

from ..cache.schema import is_refused
from ..exceptions import OAuthError
from ..protocol.lifecycle import TokenState
from ..protocol.oauth2 import refresh_token_grant
from ..provider.authority import Authority
from .accounts import provider_query, refused_scopes
from .anchor import by_home_account_id
from .cached import newest_first
from .result import TokenResult

if TYPE_CHECKING:
    from .service import TokenService

logger = logging.getLogger("nbauth")
#: Seconds after a failed background refresh before a token due for refresh starts another.
RETRY_AFTER = 10.0


class Refresh:
    """A service's refreshes (see ``TokenService.silent``)."""

    def __init__(self, service: "TokenService") -> None:
        self.service = service
        self._failed_at: Dict[Hashable, float] = {}  # flight key: when its last background refresh failed

    def run(self, requested: List[str], authority: Authority, account: Mapping[str, Any],
            claims_challenge: Optional[str], recheck: Optional[bool],
            data: Optional[Mapping[str, str]] = None) -> Optional[TokenResult]:
        """Redeem the account's refresh token once for all concurrent callers, under the
        account's refresh lock. Unless ``recheck`` is None (forced), a token the cache can serve
        once the lock is held (``recheck``: serve only one not yet due for renewal) is used instead.
        ``data``: MSAL's extra body fields (see ``TokenService.redeem``).
        """
        key, refresh = self._flight(requested, authority, account, claims_challenge, recheck, data)
        return self.service.shared(key, refresh)

    def start(self, requested: List[str], authority: Authority, account: Mapping[str, Any],
              data: Optional[Mapping[str, str]] = None) -> None:
        """Renew a token due for refresh in a background thread, unless a refresh of it is in
        flight or one failed less than ``RETRY_AFTER`` seconds ago (the due token stays usable)."""
        self.behind(*self._flight(requested, authority, account, None, True, data))

    def behind(self, key: Hashable, work: Callable[[], Any]) -> None:
        """``work()`` in the flight ``key``, in a background thread, unless that flight is in the
        air or failed less than ``RETRY_AFTER`` seconds ago (stale-while-revalidate: the caller
        serves the token it has, still valid). User tokens and the app's own share this."""
        failed_at = self._failed_at.get(key)
        if failed_at is not None and self.service.clock() - failed_at < RETRY_AFTER:
            return
        self.service.in_background(key, work).add_done_callback(lambda flight: self._landed(key, flight))

    def _landed(self, key: Hashable, flight: "Future[Any]") -> None:
        error = flight.exception()
        if error is None:
            self._failed_at.pop(key, None)
            return
        self._failed_at[key] = self.service.clock()
        logger.info("background refresh failed (%s); the cached token, still valid, is served meanwhile",
                    type(error).__name__)

    def _flight(self, requested: List[str], authority: Authority, account: Mapping[str, Any],
                claims_challenge: Optional[str], recheck: Optional[bool],
                data: Optional[Mapping[str, str]]) -> Tuple[Hashable, Callable[[], Optional[TokenResult]]]:
        """The flight's key (every refresh of one token, forced ones apart) and its work."""
        service = self.service

        def refresh() -> Optional[TokenResult]:
            key = (service.client_id, service.environment(authority), account.get("home_account_id"))
            with service.cache.refresh_lock(key, service.refresh_lock_timeout):
                if recheck is not None:  # another thread or process may have refreshed meanwhile
                    cached = service.account_token(requested, authority, account, ahead=recheck, data=data)
                    if cached is not None and cached[0] is TokenState.FRESH:
                        return cached[1]
                return self.with_cached_refresh_token(requested, account, authority, claims_challenge, data)
        return ("user", account.get("home_account_id"), authority.url, tuple(requested), claims_challenge,
                recheck is None, tuple(sorted((data or {}).items()))), refresh

    def with_cached_refresh_token(self, scopes: List[str], account: Mapping[str, Any], authority: Authority,
                                  claims_challenge: Optional[str],
                                  data: Optional[Mapping[str, str]] = None) -> Optional[TokenResult]:
        """Redeem the account's refresh tokens, newest first; None when it has none.

        The cache is read again after each failure: an older refresh token may still work, and
        another process (not one of ours, which wait for the refresh lock) may have rotated it.
        A refresh token the provider refused (here or in a process sharing the cache) is marked
        in the cache and not sent again for these scopes: the answer is ``invalid_grant``.
        """
        service, cache = self.service, self.service.cache
        query = {"client_id": service.client_id, "home_account_id": account.get("home_account_id"),
                 **provider_query(authority)}
        environments = service.environments(authority)  # Entra's aliases too, as msal
        tried: Set[str] = set()
        failure: Optional[OAuthError] = None
        while True:
            entries = newest_first(entry for environment in environments for entry in cache.search(
                cache.CredentialType.REFRESH_TOKEN, query=dict(query, environment=environment)))
            untried = [e for e in entries if e["secret"] not in tried]
            entry = next((e for e in untried if not is_refused(e, scopes)), None)
            if entry is None:
                if untried and failure is None:
                    failure = OAuthError("invalid_grant", "the provider refused this account's refresh token "
                                         "before; sign in again")
                break
            tried.add(entry["secret"])
            try:
                return service.redeem(refresh_token_grant(entry["secret"], scopes), scopes, authority=authority,
                                      claims_challenge=claims_challenge, refreshing=entry, account=account,
                                      data=data, headers=by_home_account_id(account.get("home_account_id")))
            except OAuthError as exc:  # e.g. revoked
                failure, refused = exc, refused_scopes(exc, scopes)
                if refused is not None:
                    cache.refuse_rt(entry, refused)
        if failure is not None:
            raise failure
        return None
