"""``TokenService``: the token engine under the MSAL classes, the notebook handle, the refresher,
the integrations and the CLI.

It owns where to talk to (the authority, its discovered metadata), how (the transport, the
client's authentication), the cache (through ``cache.contract``), the clock and the sharing of
refreshes (``single_flight``, the cache's per-account refresh locks). Its operations raise typed
exceptions (``OAuthError`` keeps every field the provider sent) and return ``TokenResult``s; the
applications turn those into MSAL's dicts at their edge.
"""
from __future__ import annotations

import dataclasses
import functools
import logging
import math
import threading
from concurrent.futures import Future
from typing import Any, Callable, Dict, Hashable, List, Mapping, Optional, Sequence, Tuple, TypeVar

from ..cache.contract import EngineCache, TokenCacheLike, adapt
from ..cache.schema import PROVIDER_FIELD, environment_and_realm, ext_cache_key, home_account
from ..clock import Clock, Wait, system_clock, system_wait
from ..exceptions import ConfigurationError, NbauthError, ProtocolError, TransportError
from ..flows.device import poll_until_done
from ..protocol import scopes as scope_rules
from ..protocol.client_auth import ClientAuth
from ..protocol.device import DeviceFlow, parse_device_authorization
from ..protocol.idtoken_claims import check_same_account
from ..protocol.lifecycle import RenewalWindow, TokenState, TokenTimes
from ..protocol.oauth2 import Grant, device_code_grant, merge_claims, parse_json_object
from ..protocol.status import provider_unanswered
from ..provider import revocation, token_endpoint
from ..provider.authority import (Authority, MetadataStore, ProviderMetadata, discovery, entra_aliases,
                                  parse_authority)
from ..transport import HttpResponse, Transport
from .accounts import accounts_in, provider_query, remove_account_entries
from .cached import Cached, Timed, best_timed, held_timed, latest_renewal
from .filing import file_event, keep_successor, token_event, verified_claims
from .refresh import Refresh
from .result import TokenResult
from .single_flight import SingleFlight

logger = logging.getLogger("nbauth")

T = TypeVar("T")
#: The cache-hit memo's key (``TokenCache.derived``): the best token for an owner, scopes and authority.
_BEST = "nbauth best access token"
#: (environment, realm) of a URL, memoised: the cache-hit path asks on every call.
_environment_and_realm = functools.lru_cache(maxsize=256)(environment_and_realm)


def with_fields(grant: Grant, data: Mapping[str, str]) -> Grant:
    """``grant`` with MSAL's ``data=`` extra body fields, which may not replace the grant's own."""
    clash = sorted(set(data) & set(grant.params))
    if clash:
        raise ConfigurationError(f"data cannot set {clash}: nbauth sends them itself")
    return dataclasses.replace(grant, params={**data, **grant.params}) if data else grant


class TokenService:
    """One client's tokens at one authority (see the module's docstring).

    ``cache`` is any MSAL-compatible token cache; ``clock`` the time source for lifetimes and
    ``wait`` how device-code polling waits (both injectable for tests). No I/O happens here:
    the provider's configuration is discovered on first use (once per process per authority).
    """

    #: How long a refresh waits for another thread or process refreshing the same account.
    refresh_lock_timeout: float = 30.0

    def __init__(self, client_id: str, authority: Authority, *, client_auth: ClientAuth, cache: TokenCacheLike,
                 transport: Transport, clock: Clock = system_clock, wait: Wait = system_wait,
                 client_capabilities: Sequence[str] = (), exclude_scopes: Sequence[str] = (),
                 instance_discovery: Optional[bool] = None, metadata_store: Optional[MetadataStore] = None) -> None:
        self.client_id = client_id
        self.authority = authority
        self.client_auth = client_auth
        self.cache: EngineCache = adapt(cache)
        self.transport = transport
        self.clock = clock
        self.wait = wait
        self.client_capabilities = list(client_capabilities)
        self.exclude_scopes = list(exclude_scopes)
        self.instance_discovery = instance_discovery
        #: Where discovery documents outlive the process: the given store (MSAL's http_cache), else the cache's.
        self.metadata_store = metadata_store or self.cache.discovery_store
        self._flights = SingleFlight()
        self._refresh = Refresh(self)
        self._places: Dict[str, Dict[str, Optional[str]]] = {}  # authority URL: where the cache files its tokens

    def __repr__(self) -> str:
        return f"TokenService(client_id={self.client_id!r}, authority={self.authority.url!r})"

    # ---- where to talk to ------------------------------------------------------------------------
    def authority_for(self, authority: Optional[str]) -> Authority:
        """The authority a call names (an URL of the same kind), else this service's."""
        if authority is None:
            return self.authority
        if self.authority.kind == "oidc":
            return parse_authority(oidc_authority=authority)
        return parse_authority(authority, vouched=self.instance_discovery is False)

    def metadata(self, authority: Optional[Authority] = None) -> ProviderMetadata:
        """The provider's discovered configuration (once per process per authority)."""
        return discovery.get(authority or self.authority, self.transport, self.metadata_store)

    def knows_provider(self) -> bool:
        """Whether the provider's configuration is at hand without the network (see ``Discovery.known``:
        in this process, or stored beside the cache); then the place of its tokens is known too, so
        ``silent_at_once`` can serve."""
        if self.placed(self.authority):
            return True
        if discovery.known(self.authority, self.metadata_store) is None:
            return False
        self.place(self.authority)  # from the known configuration: no request
        return True

    @staticmethod
    def environment(authority: Authority) -> str:
        """The cache's environment for an authority: its host, as MSAL files it."""
        return _environment_and_realm(authority.url)[0] or authority.instance

    def environments(self, authority: Authority) -> List[str]:
        """The authority's environment, then its Entra aliases (unless instance discovery is off)."""
        home = self.environment(authority)
        if not authority.is_entra or self.instance_discovery is False:
            return [home]
        return [home] + sorted(entra_aliases(home) - {home})

    def place(self, authority: Authority) -> Dict[str, Optional[str]]:
        """The cache fields the authority's access tokens are filed under (memoised)."""
        place = self._places.get(authority.url)
        if place is None:
            place = self._places.setdefault(authority.url, {
                "environment": self.environment(authority),
                "realm": _environment_and_realm(self.metadata(authority).token_endpoint)[1],
                **provider_query(authority)})
        return place

    def placed(self, authority: Authority) -> bool:
        """Whether ``place(authority)`` is known without I/O (an event loop's fast path asks)."""
        return authority.url in self._places

    def requested_scopes(self, scopes: Sequence[str]) -> List[str]:
        """The scopes to ask for: checked, with OpenID's reserved ones added (unless excluded)."""
        return scope_rules.decorate(scopes, self.exclude_scopes)

    def claims(self, claims_challenge: Optional[str] = None) -> Optional[str]:
        """The ``claims`` request parameter: the client's capabilities and a challenge's claims."""
        return merge_claims(self.client_capabilities, claims_challenge)

    def post_authenticated(self, url: str, data: dict, metadata: Optional[ProviderMetadata] = None) -> HttpResponse:
        """POST ``data`` to one of the provider's endpoints with the client's authentication."""
        metadata = metadata or self.metadata()
        return token_endpoint.send_authenticated(self.transport, url, data, self.client_auth,
                                                 token_endpoint=metadata.token_endpoint, repeatable=True)

    # ---- the one path every grant takes ------------------------------------------------------------
    def redeem(self, grant: Grant, scopes: Sequence[str], *, nonce: Optional[str] = None,
               max_age: Optional[int] = None, claims_challenge: Optional[str] = None,
               authority: Optional[Authority] = None, refreshing: Optional[Mapping[str, Any]] = None,
               data: Optional[Mapping[str, str]] = None, cache_data: Optional[Dict[str, str]] = None,
               account: Optional[Mapping[str, Any]] = None,
               headers: Optional[Mapping[str, str]] = None) -> TokenResult:
        """Send ``grant``, verify its ID token, file the response in the cache, return the result.

        ``refreshing`` is the cache's refresh-token entry being redeemed for ``account``: its
        rotated successor is written over it, and no account is created. ``data`` (MSAL's
        ``data=``) adds body fields, which also key the access token (``ext_cache_key``);
        ``cache_data`` goes into the cache event's ``data`` only; ``headers`` go with the request. Raises OAuthError / IdTokenError / ProtocolError /
        TransportError; nothing is cached from a response that fails, except a rotated refresh
        token whose ID token could not be checked because the provider's keys could not be had
        (the token it replaces is spent).
        """
        authority = authority or self.authority
        metadata = self.metadata(authority)
        self.place(authority)  # from now on known without I/O (``placed``: the event loop's fast path)
        # Lifetimes count from the request, not the answer: the token's life began before its
        # answer arrived, so counting from receipt would serve it past its real expiry.
        sent_at = self.clock()
        grant = with_fields(grant, data or {})
        response = token_endpoint.redeem(self.transport, metadata.token_endpoint, grant, self.client_auth,
                                         extra={"claims": self.claims(claims_challenge),
                                                "client_info": "1" if self.authority.is_entra else None},
                                         headers=headers)
        try:
            claims = verified_claims(response, metadata, self.transport, client_id=self.client_id, nonce=nonce,
                                     max_age=max_age, now=self.clock())
        except (TransportError, ProtocolError):  # e.g. the provider went down right after answering
            keep_successor(self.cache, refreshing, response.get("refresh_token"))
            raise
        home_account_id = home_account(response, claims or {})[1]
        if refreshing is not None and claims is not None:  # OpenID Connect Core 12.2
            check_same_account(claims, home_account_id=refreshing.get("home_account_id"),
                               token_home_account_id=home_account_id, issuer=refreshing.get(PROVIDER_FIELD))
        granted = scope_rules.granted(response.get("scope"), scopes)
        event = token_event(self.client_id, grant, response, claims, granted, token_endpoint=metadata.token_endpoint,
                            environment=self.environment(authority), provider=provider_query(authority),
                            cache_data={**(data or {}), **(cache_data or {})} or None)
        file_event(self.cache, event, refreshing, sent_at)
        if account is None and home_account_id is not None:
            account = self._account(home_account_id)
        return TokenResult.from_response(response, claims, tuple(granted), account, sent_at)

    def _account(self, home_account_id: str) -> Optional[dict]:
        return next((a for a in self.accounts() if a.get("home_account_id") == home_account_id), None)

    # ---- accounts --------------------------------------------------------------------------------
    def accounts(self, username: Optional[str] = None) -> List[dict]:
        """The accounts signed in before (in the cache), optionally only ``username``'s (copies)."""
        environments, provider = tuple(self.environments(self.authority)), provider_query(self.authority)
        accounts = self.cache.derived(("accounts", environments, tuple(provider.items())),
                                      lambda: accounts_in(self.cache, environments, provider))
        if username:
            accounts = [a for a in accounts if (a.get("username") or "").lower() == username.lower()]
        return list(map(dict, accounts))

    def remove(self, account: Mapping[str, Any]) -> None:
        """Forget ``account``: its refresh tokens of this client, and its access tokens, ID tokens
        and account entries of this provider, leave the cache."""
        remove_account_entries(self.cache, self.client_id, account, provider_query(self.authority))

    def revoke(self, account: Mapping[str, Any]) -> int:
        """Revoke the account's cached refresh tokens at the provider (RFC 7009), best effort:
        failures are logged, not raised; returns how many the provider accepted."""
        query = {"environment": account.get("environment"), "home_account_id": account.get("home_account_id"),
                 "client_id": self.client_id, **provider_query(self.authority)}
        secrets = [entry["secret"] for entry in self.cache.search(self.cache.CredentialType.REFRESH_TOKEN, query=query)]
        if not secrets:
            return 0
        try:
            metadata = self.metadata()
        except NbauthError as exc:
            logger.warning("could not revoke the refresh token: %s", exc)
            return 0
        return revocation.revoke_refresh_tokens(self.transport, metadata, self.client_auth, secrets)

    # ---- silent acquisition ------------------------------------------------------------------------
    def silent(self, scopes: Sequence[str], account: Optional[Mapping[str, Any]], *, authority: Optional[str] = None,
               force_refresh: bool = False, claims_challenge: Optional[str] = None,
               data: Optional[Mapping[str, str]] = None) -> Optional[TokenResult]:
        """A token without user interaction: a cached access token for ``scopes`` at once (see
        ``silent_at_once``), else one redeemed with the account's refresh token in this call.
        None when the cache has nothing for the account. ``data``: as in ``redeem`` (the cached
        token must have been asked with the same fields).

        Concurrent callers for the same account, scopes and authority share one refresh, and
        processes sharing a ``PersistedTokenCache`` redeem each refresh token once.
        """
        if not account:
            return None
        requested = self.requested_scopes(scopes)
        target = self.authority_for(authority)
        if force_refresh or claims_challenge:
            return self._refresh.run(requested, target, account, claims_challenge, recheck=None, data=data)
        served = self._at_once(requested, target, account, data)
        if served is not None:
            return served
        return self._or_held(lambda: self._refresh.run(requested, target, account, None, recheck=False, data=data),
                             requested, target, account=account, **self._owner(account, data))

    def silent_at_once(self, scopes: Sequence[str], account: Optional[Mapping[str, Any]], *,
                       authority: Optional[str] = None) -> Optional[TokenResult]:
        """The account's cached token for ``scopes`` when one can be served without waiting: a
        fresh one, or one due for refresh (its ``refresh_on``, or nine tenths through its
        lifetime) but still valid, while one refresh runs in the background. None when only the
        provider can give a token (``silent`` asks it), or the authority is not yet discovered."""
        target = self.authority_for(authority)
        if not account or not self.placed(target):
            return None
        return self._at_once(self.requested_scopes(scopes), target, account)

    def _at_once(self, requested: Sequence[str], authority: Authority, account: Mapping[str, Any],
                 data: Optional[Mapping[str, str]] = None) -> Optional[TokenResult]:
        cached = self.account_token(requested, authority, account, ahead=True, data=data)
        if cached is None:
            return None
        if cached[0] is TokenState.REFRESH_DUE:
            self._refresh.start(list(requested), authority, account, data)
        return cached[1]

    def account_token(self, requested: Sequence[str], authority: Authority, account: Mapping[str, Any],
                      ahead: bool = False, data: Optional[Mapping[str, str]] = None) -> Optional[Cached]:
        """The account's best usable cached access token for ``requested`` scopes (asked with
        the body fields ``data``, if any)."""
        return self.cached_access_token(scope_rules.reportable(requested), authority, ahead=ahead, account=account,
                                        **self._owner(account, data))

    @staticmethod
    def _owner(account: Mapping[str, Any], data: Optional[Mapping[str, str]]) -> Dict[str, Optional[str]]:
        """The cache fields of an account's tokens asked with the body fields ``data``."""
        ext = ext_cache_key(data)
        return {"home_account_id": account.get("home_account_id"), **({"ext_cache_key": ext} if ext else {})}

    def _or_held(self, fetch: Callable[[], Optional[TokenResult]], scopes: Sequence[str], authority: Authority, *,
                 account: Optional[Mapping[str, Any]] = None, **owner: Optional[str]) -> Optional[TokenResult]:
        """``fetch()``; when the provider does not answer it (the network, a 5xx or 429), ``owner``'s
        cached token for ``scopes`` that has not reached its expiry, though within its margin, as
        azure-identity serves one: better than no token while the provider is away. Else the error."""
        try:
            return fetch()
        except NbauthError as exc:
            if not provider_unanswered(exc):
                raise
            now = self.clock()
            held = self._search(scope_rules.reportable(scopes), authority, owner, now, lambda tokens: held_timed(tokens, now))
            if held is None:
                raise
            entry, times = held
            logger.info("the provider did not answer (%s); a cached token valid %d s more is served",
                        type(exc).__name__, times.expires_on - now)
            return TokenResult.from_cache(entry, times, account, now)

    def cached_access_token(self, scopes: Sequence[str], authority: Authority, *, ahead: bool = False,
                            account: Optional[Mapping[str, Any]] = None, **owner: Optional[str]) -> Optional[Cached]:
        """The best usable cached access token of ``owner``: ``home_account_id`` (None for an
        app's own token) or ``user_assertion_hash`` (on-behalf-of); see ``cached.best_access_token``.
        Where the authority files none, tokens filed under its Entra aliases (by msal, azure-cli)
        are looked at too, as msal does. The choice is remembered by the cache until it changes
        (``derived``) and served from there while the chosen token stays fresh: a hit searches once."""
        now = self.clock()
        key = (_BEST, self.client_id, authority.url, tuple(scopes), ahead, tuple(owner.items()))
        best = self.cache.derived(key, lambda: self._best_timed(scopes, authority, owner, now, ahead))
        if best is None or now >= best[3]:  # not fresh (any more): choose again now
            best = self._best_timed(scopes, authority, owner, now, ahead)
        return None if best is None else (best[0], TokenResult.from_cache(best[1], best[2], account, now))

    def _best_timed(self, scopes: Sequence[str], authority: Authority, owner: Mapping[str, Optional[str]],
                    now: float, ahead: bool) -> Optional[Tuple[TokenState, dict, TokenTimes, float]]:
        """``cached_access_token``'s search, in the authority's environment, then its aliases: the
        state, entry and times of the token chosen, and until when it is fresh (-inf if it is not)."""
        found = self._search(scopes, authority, owner, now, lambda tokens: best_timed(tokens, now, ahead=ahead))
        if found is None:
            return None
        state, entry, times = found
        return state, entry, times, times.fresh_until(ahead=ahead) if state is TokenState.FRESH else -math.inf

    def _search(self, scopes: Sequence[str], authority: Authority, owner: Mapping[str, Optional[str]], now: float,
                choose: Callable[[List[Timed]], Optional[T]]) -> Optional[T]:
        """``choose`` among ``owner``'s access tokens for ``scopes`` in the authority's environment,
        then its Entra aliases (as msal looks): the first choice made."""
        query = {"client_id": self.client_id, **self.place(authority), **owner}
        for environment in self.environments(authority):
            found = choose(self.cache.access_tokens_with_times(scopes, dict(query, environment=environment), now))
            if found is not None:
                return found
        return None

    def renew_if_due(self, scopes: Sequence[str], account: Mapping[str, Any]) -> Optional[RenewalWindow]:
        """The background refresher's call: refresh the account's token for ``scopes`` if its
        renewal window opened (shared and locked as silent acquisition is); returns the window of
        the token now cached, or None when the cache has none (signed out). Failures raise."""
        requested = self.requested_scopes(scopes)
        cached = self.account_token(requested, self.authority, account, ahead=True)
        if cached is None or cached[0] is not TokenState.FRESH:
            if self._refresh.run(requested, self.authority, account, None, recheck=True) is None:
                return None
        now = self.clock()
        query = {"client_id": self.client_id, **self.place(self.authority),
                 "home_account_id": account.get("home_account_id")}
        return latest_renewal(self.cache.access_tokens_with_times(scope_rules.reportable(requested), query, now), now)

    # ---- the application's own tokens, and on-behalf-of ----------------------------------------------
    def app_token(self, grant: Grant, scopes: Sequence[str], *, claims_challenge: Optional[str] = None,
                  owner: Mapping[str, Optional[str]], data: Optional[Mapping[str, str]] = None,
                  cache_data: Optional[Dict[str, str]] = None, at_once: bool = False) -> Optional[TokenResult]:
        """A cached token of ``owner`` (``home_account_id=None``: the app's own;
        ``user_assertion_hash``: on-behalf-of) for ``scopes`` at once: a fresh one, or one due for
        refresh (its ``refresh_on``, or nine tenths through its lifetime) but still valid while
        ``grant`` is redeemed in the background; else ``grant`` redeemed in this call. Either way
        once for all concurrent callers. A ``claims_challenge`` skips the cache; ``data`` and
        ``cache_data``: as in ``redeem``. ``at_once``: None instead of waiting on the network
        (no cached token, or the authority not yet discovered)."""
        reportable = scope_rules.reportable(scopes)

        def cached() -> Optional[Cached]:
            return None if claims_challenge else self.cached_access_token(reportable, self.authority, ahead=True,
                                                                          **owner)

        def fresh_or_redeemed() -> TokenResult:  # a flight that just ended may have cached one
            again = cached()
            if again is not None and again[0] is TokenState.FRESH:
                return again[1]
            return self.redeem(grant, scopes, claims_challenge=claims_challenge, data=data, cache_data=cache_data)

        key = ("app", *sorted(owner.items()), tuple(reportable), claims_challenge)
        if at_once and not self.placed(self.authority):
            return None
        found = cached()
        if found is None:
            if at_once:
                return None
            if claims_challenge:  # the resource refused the cached token: never served again
                return self.shared(key, fresh_or_redeemed)
            return self._or_held(lambda: self.shared(key, fresh_or_redeemed), reportable, self.authority, **owner)
        if found[0] is TokenState.REFRESH_DUE:
            self._refresh.behind(key, fresh_or_redeemed)
        return found[1]

    def remove_app_tokens(self) -> None:
        """Forget every access token cached for the application itself."""
        for environment in self.environments(self.authority):
            query = {"client_id": self.client_id, "environment": environment, "home_account_id": None}
            for entry in list(self.cache.search(self.cache.CredentialType.ACCESS_TOKEN, query=query)):
                self.cache.remove_at(entry)

    # ---- device code (RFC 8628) ----------------------------------------------------------------
    def start_device_flow(self, scopes: Sequence[str], claims_challenge: Optional[str] = None,
                          data: Optional[Mapping[str, str]] = None) -> DeviceFlow:
        """Ask the provider for a device code (section 3.1), with the extra body fields ``data``;
        raises what goes wrong."""
        requested = self.requested_scopes(scopes)
        metadata = self.metadata()
        if not metadata.device_authorization_endpoint:
            raise ConfigurationError(f"the provider at {self.authority.url} offers no device code sign-in "
                                     "(no device_authorization_endpoint)")
        body = {**(data or {}), "scope": " ".join(requested)}
        claims = self.claims(claims_challenge)
        if claims:
            body["claims"] = claims
        response = self.post_authenticated(metadata.device_authorization_endpoint, body, metadata)
        return parse_device_authorization(parse_json_object(response, "device authorization endpoint"),
                                          self.clock(), requested)

    def redeem_device_flow(self, flow: DeviceFlow, cancelled: threading.Event, *,
                           stop: Optional[Callable[[], bool]] = None,
                           on_poll: Optional[Callable[[DeviceFlow], None]] = None,
                           clock: Optional[Clock] = None, wait: Optional[Wait] = None,
                           data: Optional[Mapping[str, str]] = None, ride_out: bool = False) -> TokenResult:
        """Poll until the person signs in (the result), or raise ``OAuthError`` when the flow
        ends otherwise (denied, expired, or cancelled: ``cancelled`` set, or ``stop()`` true).
        ``ride_out`` polls on through network failures, 5xx and 429 until the code expires (see
        ``flows.device``). Time and waits are the service's unless given; ``data``: as in ``redeem``."""
        grant = device_code_grant(flow.device_code)
        return poll_until_done(flow, lambda: self.redeem(grant, list(flow.scopes), claims_challenge=flow.claims_challenge,
                                                         data=data),
                               clock=clock or self.clock, wait=wait or self.wait, cancelled=cancelled, stop=stop,
                               on_poll=on_poll, ride_out=ride_out)

    def shared(self, key: Hashable, fetch: Callable[[], T]) -> T:
        """``fetch()`` once for every concurrent caller with ``key`` (``single_flight``)."""
        return self._flights.run(key, fetch)

    def in_background(self, key: Hashable, fetch: Callable[[], T]) -> "Future[T]":
        """The flight with ``key``, started in a background thread unless one is in flight:
        shared with ``shared``'s callers (``single_flight``)."""
        return self._flights.begin(key, fetch)

    def wait_for_background(self, timeout: float) -> None:
        """Wait up to ``timeout`` seconds for the refreshes running in the background to land."""
        self._flights.join_background(timeout)

