"""``ClientApplication``: what MSAL's public and confidential applications share.

Accounts, silent acquisition (cache first, then a refresh token, one refresh however many ask:
``single_flight``), renewal ahead of need (``keep_fresh``, run by ``refresher``), and the one
internal path every grant takes: send it, verify the ID token, file the response in the cache,
and shape MSAL's result dict. Inside, failures are exceptions; ``errors_as_results`` turns the
OAuth and ID-token ones into MSAL's ``{"error": ...}`` dicts at the public methods, in one place.
"""
from __future__ import annotations

import functools
import logging
from typing import TYPE_CHECKING, Any, Callable, Dict, Hashable, Iterable, List, Optional, Sequence, Set, TypeVar

from ..cache.schema import PROVIDER_FIELD, environment_and_realm, home_account, is_refused
from ..clock import Clock, system_clock
from ..exceptions import ConfigurationError, IdTokenError, OAuthError, ProtocolError, TransportError
from ..protocol import scopes as scope_rules
from ..protocol.client_auth import ClientAuth, PublicClientAuth
from ..protocol.idtoken_claims import check_id_token_claims, check_same_account
from ..protocol.lifecycle import RenewalWindow, TokenState
from ..protocol.oauth2 import Grant, merge_claims, refresh_token_grant
from ..provider import token_endpoint
from ..provider.authority import Authority, ProviderMetadata, discovery, entra_aliases, parse_authority
from ..redact import RedactedDict, conceal_tokens
from ..tokens.accounts import accounts_in, provider_query, refused_scopes, remove_account_entries
from ..tokens.cached import Cached, Timed, best_access_token, latest_renewal, newest_first
from ..tokens.single_flight import RefreshLocks, SingleFlight
from ..transport import Transport
from ..transport.session import DEFAULT_TIMEOUT
from .options import check_exclude_scopes, refuse_unsupported

if TYPE_CHECKING:
    from ..tokens.refresher import RefreshStatus, Renewal

logger = logging.getLogger("nbauth")

TOKEN_SOURCE_IDP = "identity_provider"
#: What may go wrong when refreshing, yet leaves a still-valid cached token usable.
_REFRESH_FAILURES = (OAuthError, IdTokenError, TransportError, ProtocolError)

F = TypeVar("F", bound=Callable[..., Any])
#: (environment, realm) of a URL, memoised: the cache-hit path asks on every call.
_environment_and_realm = functools.lru_cache(maxsize=256)(environment_and_realm)


def errors_as_results(method: F) -> F:
    """MSAL's edge: the provider's errors and rejected ID tokens become ``{"error": ...}``
    dicts; misuse and network failures stay exceptions, as they do in MSAL."""
    @functools.wraps(method)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return method(*args, **kwargs)
        except OAuthError as exc:
            return RedactedDict(exc.to_result())
        except IdTokenError as exc:
            return RedactedDict(error="invalid_id_token", error_description=str(exc))
    return wrapper  # type: ignore[return-value]


class ClientApplication:
    """The base of ``PublicClientApplication`` and ``ConfidentialClientApplication``.

    Takes MSAL's constructor options and does no I/O: the provider's configuration is
    discovered on first use (once per process per authority). ``clock`` is the time source
    (seconds since the epoch) for token lifetimes, injectable for tests.
    """

    def __init__(self, client_id: str, client_credential: Any = None, authority: Optional[str] = None,
                 validate_authority: bool = True, token_cache: Any = None, http_client: Any = None,
                 verify: Any = True, proxies: Any = None, timeout: Any = None, client_claims: Any = None,
                 app_name: Optional[str] = None, app_version: Optional[str] = None,
                 client_capabilities: Optional[Sequence[str]] = None, azure_region: Any = None,
                 exclude_scopes: Optional[List[str]] = None, http_cache: Any = None,
                 instance_discovery: Optional[bool] = None, allow_broker: Any = None,
                 enable_pii_log: Any = None, oidc_authority: Optional[str] = None, *,
                 clock: Clock = system_clock):
        if not isinstance(client_id, str) or not client_id:
            raise ConfigurationError("client_id must be a non-empty string")
        refuse_unsupported({"verify": verify, "proxies": proxies, "azure_region": azure_region,
                             "allow_broker": allow_broker})
        self.client_id = client_id
        self.client_credential = client_credential
        self.client_claims = client_claims
        self.authority: Authority = parse_authority(authority, oidc_authority=oidc_authority)
        self.validate_authority = validate_authority
        self._instance_discovery = instance_discovery
        self._clock = clock
        if token_cache is None:
            from ..cache import TokenCache

            token_cache = TokenCache(clock=clock)
        self.token_cache = token_cache
        self.http_client = http_client
        self._transport = Transport(http_client, timeout=timeout or DEFAULT_TIMEOUT, clock=clock)
        self._client_capabilities = list(client_capabilities or [])
        self._exclude_scopes = check_exclude_scopes(exclude_scopes)
        self._client_auth: ClientAuth = self._make_client_auth(client_credential)
        self._flights = SingleFlight()
        self._refresh_locks = RefreshLocks(token_cache)
        self._places: Dict[str, Dict[str, Optional[str]]] = {}  # authority URL: where the cache files its tokens

    #: How long a refresh waits for another thread or process refreshing the same account.
    refresh_lock_timeout: float = 30.0

    def __repr__(self) -> str:
        return f"{type(self).__name__}(client_id={self.client_id!r}, authority={self.authority.url!r})"

    def _make_client_auth(self, client_credential: Any) -> ClientAuth:
        """How this application authenticates at the token endpoint (overridden by subclasses)."""
        return PublicClientAuth(self.client_id)

    # ---- where to talk to ------------------------------------------------------------------
    def _authority_for(self, authority: Optional[str]) -> Authority:
        if authority is None:
            return self.authority
        if self.authority.kind == "oidc":
            return parse_authority(oidc_authority=authority)
        return parse_authority(authority)

    def _metadata(self, authority: Optional[Authority] = None) -> ProviderMetadata:
        return discovery.get(authority or self.authority, self._transport,
                             getattr(self.token_cache, "discovery_store", None))

    @staticmethod
    def _environment(authority: Authority) -> str:
        """The cache's environment for an authority: its host, as MSAL files it."""
        return _environment_and_realm(authority.url)[0] or authority.instance

    def _environments(self, authority: Authority) -> List[str]:
        """The authority's environment, then its Entra aliases (unless instance discovery is off)."""
        home = self._environment(authority)
        if not authority.is_entra or self._instance_discovery is False:
            return [home]
        return [home] + sorted(entra_aliases(home) - {home})

    def _request_extras(self, claims_challenge: Optional[str] = None) -> Dict[str, Any]:
        """Form fields every user grant carries: claims, and Entra's client_info request."""
        return {"claims": merge_claims(self._client_capabilities, claims_challenge),
                "client_info": "1" if self.authority.is_entra else None}

    def _requested_scopes(self, scopes: Iterable[str]) -> List[str]:
        return scope_rules.decorate(scopes, self._exclude_scopes)

    # ---- the one path every grant takes -----------------------------------------------------
    def _redeem(self, grant: Grant, scopes: Sequence[str], *, nonce: Optional[str] = None,
                max_age: Optional[int] = None, claims_challenge: Optional[str] = None, authority: Optional[Authority] = None,
                refreshing: Optional[dict] = None, cache_data: Optional[Dict[str, str]] = None) -> RedactedDict:
        """Send ``grant``, verify its ID token, cache the response, return MSAL's result.

        ``refreshing`` is the cache's refresh-token entry being redeemed: its rotated successor
        is written over it, and no account is created (a concurrent remove_account wins).
        ``cache_data`` goes into the cache event's ``data`` (e.g. OBO's ``user_assertion_hash``).
        Raises OAuthError / IdTokenError / ProtocolError / TransportError; nothing is cached
        from a response that fails, except a rotated refresh token whose ID token could not be
        checked because the provider's keys could not be had (the token it replaces is spent).
        """
        authority = authority or self.authority
        metadata = self._metadata(authority)
        # Lifetimes count from the request, not the answer: the token's life began before its
        # answer arrived, so counting from receipt would serve it past its real expiry.
        sent_at = self._clock()
        response = token_endpoint.redeem(self._transport, metadata.token_endpoint, grant, self._client_auth,
                                         extra=self._request_extras(claims_challenge))
        try:
            claims = self._verified_id_token_claims(response, metadata, nonce, max_age, self._clock())
        except (TransportError, ProtocolError):  # e.g. the provider went down right after answering
            self._keep_successor(refreshing, response.get("refresh_token"))
            raise
        if refreshing is not None and claims is not None:  # OpenID Connect Core 12.2
            check_same_account(claims, home_account_id=refreshing.get("home_account_id"),
                               token_home_account_id=home_account(response, claims)[1],
                               issuer=refreshing.get(PROVIDER_FIELD))
        granted = scope_rules.granted(response.get("scope"), scopes)
        self._store(grant, response, claims, granted, metadata, authority, refreshing, sent_at, cache_data)
        return self._result(response, claims, granted, sent_at)

    def _verified_id_token_claims(self, response: dict, metadata: ProviderMetadata, nonce: Optional[str],
                                  max_age: Optional[int], now: float) -> Optional[dict]:
        if "id_token" not in response:
            return None
        if not metadata.jwks_uri:
            raise IdTokenError("the provider publishes no jwks_uri, so its ID tokens cannot be verified")
        from ..provider.jwks import verify_signature  # PyJWT and cryptography load only when a token arrives

        claims = verify_signature(response["id_token"], metadata.jwks_uri, self._transport)
        check_id_token_claims(claims, issuer=metadata.issuer, client_id=self.client_id, now=now, nonce=nonce,
                              max_age=max_age)
        return claims

    def _store(self, grant: Grant, response: dict, claims: Optional[dict], granted: List[str],
               metadata: ProviderMetadata, authority: Authority, refreshing: Optional[dict], now: float,
               cache_data: Optional[Dict[str, str]] = None) -> None:
        event = {
            "client_id": self.client_id, "scope": granted, "token_endpoint": metadata.token_endpoint,
            "environment": self._environment(authority), "grant_type": grant.grant_type, "params": {},
            **provider_query(authority),
            "response": dict(response, id_token_claims=claims) if claims else dict(response),
            "data": {**{k: v for k, v in grant.params.items() if k == "username"}, **(cache_data or {})},
        }
        if refreshing is None:
            self.token_cache.add(event, now=now)
            return
        rotated = event["response"].pop("refresh_token", None)
        with self.token_cache.batch():  # one save of a persisted cache for both
            self.token_cache.add(dict(event, skip_account_creation=True), now=now)
            self._keep_successor(refreshing, rotated)

    def _keep_successor(self, refreshing: Optional[dict], rotated: Optional[str]) -> None:
        """Write a rotated refresh token over the cache entry it replaces."""
        if refreshing is not None and rotated and rotated != refreshing.get("secret"):
            self.token_cache.update_rt(refreshing, rotated)

    @staticmethod
    def _result(response: dict, claims: Optional[dict], granted: List[str], now: float) -> RedactedDict:
        result = RedactedDict(response)
        conceal_tokens(result)
        if "refresh_in" in result:
            result["refresh_on"] = int(now + result.pop("refresh_in"))
        result["scope"] = " ".join(granted)
        if claims is not None:
            result["id_token_claims"] = claims
        result["token_source"] = TOKEN_SOURCE_IDP
        return result

    # ---- accounts ---------------------------------------------------------------------------
    def get_accounts(self, username: Optional[str] = None) -> List[dict]:
        """The accounts signed in before (in the cache), optionally only ``username``'s."""
        environments, provider = tuple(self._environments(self.authority)), provider_query(self.authority)
        accounts = self.token_cache._derived(("accounts", environments, tuple(provider.items())),
                                             lambda: accounts_in(self.token_cache, environments, provider))
        if username:
            accounts = [a for a in accounts if (a.get("username") or "").lower() == username.lower()]
        return list(map(dict, accounts))

    def remove_account(self, account: dict) -> None:
        """Sign ``account`` out of this application and forget it: its refresh tokens, access
        tokens, ID tokens and account entries of this application's provider go from the cache."""
        remove_account_entries(self.token_cache, self.client_id, account, provider_query(self.authority))

    # ---- silent acquisition -----------------------------------------------------------------
    def acquire_token_silent(self, scopes: List[str], account: Optional[dict], authority: Optional[str] = None,
                             force_refresh: bool = False, claims_challenge: Optional[str] = None,
                             **kwargs: Any) -> Optional[dict]:
        """A token from the cache or by a cached refresh token, or None (errors included)."""
        result = self.acquire_token_silent_with_error(scopes, account, authority, force_refresh, claims_challenge,
                                                      **kwargs)
        return result if result and "error" not in result else None

    @errors_as_results
    def acquire_token_silent_with_error(self, scopes: List[str], account: Optional[dict],
                                        authority: Optional[str] = None, force_refresh: bool = False,
                                        claims_challenge: Optional[str] = None, **kwargs: Any) -> Optional[dict]:
        """A token without user interaction: a cached access token for ``scopes`` if it is
        fresh; else one redeemed with the account's refresh token (a token due for refresh but
        still valid is returned if that fails). None when the cache has nothing for the account.

        Concurrent callers for the same account, scopes and authority share one refresh, and
        processes sharing a ``PersistedTokenCache`` redeem each refresh token once (one that
        waited uses the token another wrote).
        """
        if not account:
            return None
        requested = self._requested_scopes(scopes)
        target = self._authority_for(authority)
        if force_refresh or claims_challenge:
            return self._refresh(requested, target, account, claims_challenge, recheck=None)
        cached = self._account_token(requested, target, account)
        if cached is not None and cached[0] is TokenState.FRESH:
            return cached[1]
        try:
            return self._refresh(requested, target, account, None, recheck=False) or _token_of(cached)
        except _REFRESH_FAILURES as exc:
            fallback = self._account_token(requested, target, account)
            if fallback is None:
                raise
            logger.info("refresh failed (%s); serving the cached token, still valid", type(exc).__name__)
            return fallback[1]

    def _refresh(self, requested: List[str], authority: Authority, account: dict, claims_challenge: Optional[str],
                 recheck: Optional[bool]) -> Optional[RedactedDict]:
        """Redeem the account's refresh token once for all concurrent callers, under the
        account's refresh lock. Unless ``recheck`` is None (forced), a token the cache can serve
        once the lock is held (``recheck``: serve only one not yet due for renewal) is used instead.
        """
        def refresh() -> Optional[RedactedDict]:
            key = (self.client_id, self._environment(authority), account.get("home_account_id"))
            with self._refresh_locks.hold(key, self.refresh_lock_timeout):
                if recheck is not None:  # another thread or process may have refreshed meanwhile
                    cached = self._account_token(requested, authority, account, ahead=recheck)
                    if cached is not None and cached[0] is TokenState.FRESH:
                        return cached[1]
                return self._refresh_with_cached_rt(requested, account, authority, claims_challenge)
        flight = ("user", account.get("home_account_id"), authority.url, tuple(requested), claims_challenge,
                  recheck is None)
        return self._shared(flight, refresh)

    def _shared(self, key: Hashable, fetch: Callable[[], Optional[RedactedDict]]) -> Optional[RedactedDict]:
        """``fetch()`` once for every concurrent caller with ``key``; each gets its own copy."""
        result = self._flights.run(key, fetch)
        return RedactedDict(result) if result is not None else None

    def _account_token(self, requested: List[str], authority: Authority, account: dict,
                       ahead: bool = False) -> Optional[Cached]:
        return self._cached_access_token(scope_rules.reportable(requested), authority, ahead=ahead,
                                         home_account_id=account.get("home_account_id"))

    def _cached_access_token(self, scopes: List[str], authority: Authority, ahead: bool = False,
                             **owner: Optional[str]) -> Optional[Cached]:
        """The best usable cached access token (``cached_tokens.best_access_token``) of ``owner``:
        ``home_account_id`` (None for an app's own token) or ``user_assertion_hash`` (on-behalf-of)."""
        now = self._clock()
        return best_access_token(self._access_tokens(scopes, authority, now, **owner), now, ahead=ahead)

    def _access_tokens(self, scopes: List[str], authority: Authority, now: float,
                       **owner: Optional[str]) -> Iterable[Timed]:
        place = self._places.get(authority.url) or self._places.setdefault(authority.url, {  # memoized
            "environment": self._environment(authority),
            "realm": _environment_and_realm(self._metadata(authority).token_endpoint)[1], **provider_query(authority)})
        return self.token_cache._access_tokens_with_times(scopes, {"client_id": self.client_id, **place, **owner}, now)

    def _refresh_with_cached_rt(self, scopes: List[str], account: dict, authority: Authority,
                                claims_challenge: Optional[str]) -> Optional[RedactedDict]:
        """Redeem the account's refresh tokens, newest first; None when it has none.

        The cache is read again after each failure: an older refresh token may still work, and
        another process (not one of ours, which wait for the refresh lock) may have rotated it.
        A refresh token the provider refused (here or in a process sharing the cache) is marked
        in the cache and not sent again for these scopes: the answer is ``invalid_grant``.
        """
        query = {"environment": self._environment(authority), "client_id": self.client_id,
                 "home_account_id": account.get("home_account_id"), **provider_query(authority)}
        tried: Set[str] = set()
        failure: Optional[OAuthError] = None
        while True:
            entries = newest_first(self.token_cache.search(self.token_cache.CredentialType.REFRESH_TOKEN,
                                                           query=query))
            untried = [e for e in entries if e["secret"] not in tried]
            entry = next((e for e in untried if not is_refused(e, scopes)), None)
            if entry is None:
                if untried and failure is None:
                    failure = OAuthError("invalid_grant", "the provider refused this account's refresh token "
                                         "before; sign in again")
                break
            tried.add(entry["secret"])
            try:
                return self._redeem(refresh_token_grant(entry["secret"], scopes), scopes, authority=authority,
                                    claims_challenge=claims_challenge, refreshing=entry)
            except OAuthError as exc:  # e.g. revoked
                failure, refused = exc, refused_scopes(exc, scopes)
                if refused is not None:
                    self.token_cache.refuse_rt(entry, refused)
        if failure is not None:
            raise failure
        return None

    # ---- background renewal -------------------------------------------------------------------
    def keep_fresh(self, account: dict, scopes: List[str],
                   listener: Optional[Callable[["RefreshStatus"], None]] = None) -> "Renewal":
        """Renew ``account``'s token for ``scopes`` in the background before it is needed
        (nbauth's addition to MSAL's API), so ``acquire_token_silent`` keeps answering from the
        cache. ``listener`` hears each outcome (from the refresher's thread); ``cancel()`` on the
        returned ``Renewal`` stops it. See ``nbauth.tokens.refresher``.
        """
        from ..tokens.refresher import background_refresher

        return background_refresher().keep_fresh(self, account, scopes, listener)

    def _renew_if_due(self, scopes: List[str], account: dict) -> Optional[RenewalWindow]:
        """The background refresher's call: refresh the account's token for ``scopes`` if its
        renewal window opened (shared and locked as silent acquisition is); returns the window of
        the token now cached, or None when the cache has none (signed out). Failures raise."""
        requested = self._requested_scopes(scopes)
        cached = self._account_token(requested, self.authority, account, ahead=True)
        if cached is None or cached[0] is not TokenState.FRESH:
            if self._refresh(requested, self.authority, account, None, recheck=True) is None:
                return None
        now = self._clock()
        return latest_renewal(self._access_tokens(scope_rules.reportable(requested), self.authority, now,
                                                  home_account_id=account.get("home_account_id")), now)

    @errors_as_results
    def acquire_token_by_refresh_token(self, refresh_token: str, scopes: List[str], **kwargs: Any) -> dict:
        """Redeem a refresh token obtained elsewhere (e.g. migrated from another library);
        the tokens it yields, a rotated refresh token included, go into the cache."""
        if not isinstance(refresh_token, str) or not refresh_token:
            raise ConfigurationError("refresh_token must be a non-empty string")
        requested = self._requested_scopes(scopes)
        return self._redeem(refresh_token_grant(refresh_token, requested), requested)



def _token_of(cached: Optional[Cached]) -> Optional[RedactedDict]:
    return cached[1] if cached is not None else None
