"""``ClientApplication``: what MSAL's public and confidential applications share.

A thin layer over the token engine (``nbauth.tokens.service.TokenService``, the public
``service`` attribute): MSAL's arguments in, MSAL's result dicts out. Inside, failures are
exceptions and results are ``TokenResult``s; ``errors_as_results`` turns both into MSAL's dicts
at the public methods, in one place.
"""
from __future__ import annotations

import functools
from typing import TYPE_CHECKING, Any, Callable, List, Mapping, Optional, Sequence, TypeVar
from urllib.parse import quote

from ..cache.contract import adapt
from ..clock import Clock, Wait, sleep_with, system_clock, system_wait
from ..exceptions import ConfigurationError, IdTokenError, OAuthError
from ..protocol.client_auth import ClientAuth, PublicClientAuth
from ..protocol.oauth2 import Grant, password_grant, refresh_token_grant, parse_json_object
from ..provider.authority import Authority, parse_authority
from ..provider.http_cache import http_cache_store
from ..redact import RedactedDict
from ..tokens.anchor import by_username
from ..tokens.result import TokenResult
from ..tokens.service import TokenService
from ..transport import Transport
from ..transport.session import DEFAULT_TIMEOUT
from .keywords import check_keywords, extra_fields
from .options import app_headers, check_exclude_scopes, check_instance_discovery, refuse_unsupported

if TYPE_CHECKING:
    from ..tokens.refresher import RefreshStatus, Renewal

F = TypeVar("F", bound=Callable[..., Any])


def errors_as_results(method: F) -> F:
    """MSAL's edge: a ``TokenResult`` becomes MSAL's result dict, and the provider's errors and
    rejected ID tokens become ``{"error": ...}`` dicts; misuse and network failures stay
    exceptions, as they do in MSAL."""
    @functools.wraps(method)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            result = method(*args, **kwargs)
        except OAuthError as exc:
            return RedactedDict(exc.to_result())
        except IdTokenError as exc:
            return RedactedDict(error="invalid_id_token", error_description=str(exc))
        return result.to_msal() if isinstance(result, TokenResult) else result
    return wrapper  # type: ignore[return-value]


class ClientApplication:
    """The base of ``PublicClientApplication`` and ``ConfidentialClientApplication``.

    Takes MSAL's constructor options and does no I/O: the provider's configuration is
    discovered on first use (once per process per authority). nbauth adds ``clock`` (the time
    source, seconds since the epoch) and ``wait`` (how device-code polling and HTTP retries wait),
    injectable for tests, and ``service``, the token engine underneath (for nbauth's own callers and
    tools).
    """

    def __init__(self, client_id: str, client_credential: Any = None, authority: Optional[str] = None,
                 validate_authority: bool = True, token_cache: Any = None, http_client: Any = None,
                 verify: Any = True, proxies: Any = None, timeout: Any = None, client_claims: Any = None,
                 app_name: Optional[str] = None, app_version: Optional[str] = None,
                 client_capabilities: Optional[Sequence[str]] = None, azure_region: Any = None,
                 exclude_scopes: Optional[List[str]] = None, http_cache: Any = None,
                 instance_discovery: Optional[bool] = None, allow_broker: Any = None,
                 enable_pii_log: Any = None, oidc_authority: Optional[str] = None, *,
                 clock: Clock = system_clock, wait: Wait = system_wait):
        if not isinstance(client_id, str) or not client_id:
            raise ConfigurationError("client_id must be a non-empty string")
        refuse_unsupported({"verify": verify, "proxies": proxies, "azure_region": azure_region,
                             "allow_broker": allow_broker, "enable_pii_log": enable_pii_log})
        self.client_id = client_id
        self.client_credential = client_credential
        self.client_claims = client_claims
        # As in msal, validate_authority=False vouches for the authority's host as instance_discovery=False
        # does: no alias groups, and a host nbauth does not know as Microsoft's still speaks Entra's protocol.
        instance_discovery = False if validate_authority is False else check_instance_discovery(instance_discovery)
        self.authority: Authority = parse_authority(authority, oidc_authority=oidc_authority,
                                                    vouched=instance_discovery is False)
        self.validate_authority = validate_authority
        self.app_name, self.app_version = app_name, app_version
        if token_cache is None:
            from ..cache import TokenCache

            token_cache = TokenCache(clock=clock)
        self._token_cache = token_cache
        self.http_client = http_client
        self.service = TokenService(
            client_id, self.authority, client_auth=self._make_client_auth(client_credential, clock), cache=token_cache,
            transport=Transport(http_client, timeout=timeout or DEFAULT_TIMEOUT, clock=clock, sleep=sleep_with(wait),
                                post_headers=app_headers(app_name, app_version)),
            clock=clock, wait=wait, client_capabilities=list(client_capabilities or []),
            exclude_scopes=check_exclude_scopes(exclude_scopes), instance_discovery=instance_discovery,
            metadata_store=http_cache_store(http_cache))

    @property
    def token_cache(self) -> Any:
        """The token cache (MSAL's attribute; assigning another moves the application to it)."""
        return self._token_cache

    @token_cache.setter
    def token_cache(self, cache: Any) -> None:
        self._token_cache = cache
        self.service.cache = adapt(cache)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(client_id={self.client_id!r}, authority={self.authority.url!r})"

    def is_pop_supported(self) -> bool:
        """Whether proof-of-possession tokens can be had: never in nbauth (as MSAL without a broker)."""
        return False

    def _redeem(self, grant: Grant, requested: List[str], data: Optional[Mapping[str, str]], **options: Any) -> TokenResult:
        """Redeem ``grant`` with MSAL's ``data=`` extra body fields, which also key the cached
        access token (``ext_cache_key``), as in MSAL."""
        return self.service.redeem(grant, requested, data=extra_fields(data), **options)

    def _make_client_auth(self, client_credential: Any, clock: Clock) -> ClientAuth:
        """How this application authenticates at the token endpoint (overridden by subclasses)."""
        return PublicClientAuth(self.client_id)

    # ---- accounts ---------------------------------------------------------------------------
    def get_accounts(self, username: Optional[str] = None) -> List[dict]:
        """The accounts signed in before (in the cache), optionally only ``username``'s."""
        return self.service.accounts(username)

    def remove_account(self, account: dict) -> None:
        """Sign ``account`` out of this application and forget it: its refresh tokens, access
        tokens, ID tokens and account entries of this application's provider go from the cache."""
        self.service.remove(account)

    # ---- silent acquisition -----------------------------------------------------------------
    def acquire_token_silent(self, scopes: List[str], account: Optional[dict], authority: Optional[str] = None,
                             force_refresh: bool = False, claims_challenge: Optional[str] = None,
                             **kwargs: Any) -> Optional[dict]:
        """A token from the cache or by a cached refresh token, or None (errors included)."""
        result = self.acquire_token_silent_with_error(scopes, account, authority, force_refresh, claims_challenge,
                                                      **kwargs)  # data= among them
        return result if result and "error" not in result else None

    @errors_as_results
    def acquire_token_silent_with_error(self, scopes: List[str], account: Optional[dict],
                                        authority: Optional[str] = None, force_refresh: bool = False,
                                        claims_challenge: Optional[str] = None, *,
                                        data: Optional[Mapping[str, str]] = None, **kwargs: Any) -> Optional[dict]:
        """A token without user interaction: a cached access token for ``scopes`` if it is
        fresh; else one redeemed with the account's refresh token (a token due for refresh but
        still valid is returned if that fails). None when the cache has nothing for the account.

        Concurrent callers for the same account, scopes and authority share one refresh, and
        processes sharing a ``PersistedTokenCache`` redeem each refresh token once (one that
        waited uses the token another wrote). ``data=`` adds body fields to the refresh, and
        only a token asked with the same fields is served from the cache, as in MSAL.
        """
        check_keywords("acquire_token_silent", kwargs)
        return self.service.silent(scopes, account, authority=authority, force_refresh=force_refresh,
                                   claims_challenge=claims_challenge, data=extra_fields(data))

    # ---- background renewal -------------------------------------------------------------------
    def keep_fresh(self, account: dict, scopes: List[str],
                   listener: Optional[Callable[["RefreshStatus"], None]] = None) -> "Renewal":
        """Renew ``account``'s token for ``scopes`` in the background before it is needed
        (nbauth's addition to MSAL's API), so ``acquire_token_silent`` keeps answering from the
        cache. ``listener`` hears each outcome (from the refresher's thread); ``cancel()`` on the
        returned ``Renewal`` stops it. See ``nbauth.tokens.refresher``.
        """
        from ..tokens.refresher import background_refresher

        return background_refresher().keep_fresh(self.service, account, scopes, listener)

    @errors_as_results
    def acquire_token_by_refresh_token(self, refresh_token: str, scopes: List[str], *,
                                       data: Optional[Mapping[str, str]] = None, **kwargs: Any) -> dict:
        """Redeem a refresh token obtained elsewhere (e.g. migrated from another library);
        the tokens it yields, a rotated refresh token included, go into the cache."""
        check_keywords("acquire_token_by_refresh_token", kwargs)
        if not isinstance(refresh_token, str) or not refresh_token:
            raise ConfigurationError("refresh_token must be a non-empty string")
        requested = self.service.requested_scopes(scopes)
        return self._redeem(refresh_token_grant(refresh_token, requested), requested, data)

    # ---- username and password ----------------------------------------------------------------
    @errors_as_results
    def acquire_token_by_username_password(self, username: str, password: str, scopes: List[str],
                                           claims_challenge: Optional[str] = None, *,
                                           data: Optional[Mapping[str, str]] = None, **kwargs: Any) -> RedactedDict:
        """The resource-owner password grant (only for providers and accounts that allow it);
        a confidential application authenticates itself too, as in MSAL."""
        check_keywords("acquire_token_by_username_password", kwargs)
        if not isinstance(username, str) or not username or not isinstance(password, str):
            raise ConfigurationError("username and password must be strings")
        requested = self.service.requested_scopes(scopes)
        if self.authority.kind == "entra":
            self._refuse_federated_account(username)
        return self._redeem(password_grant(username, password, requested), requested, data,
                            claims_challenge=claims_challenge, headers=by_username(username))

    def _refuse_federated_account(self, username: str) -> None:
        """Entra's user-realm lookup: a federated account signs in at its own identity provider
        (WS-Trust), which nbauth does not speak, so refuse it with a clear message."""
        response = self.service.transport.get(f"https://{self.authority.instance}/common/userrealm/"
                                              f"{quote(username, safe='@')}?api-version=1.0",
                                              headers={"Accept": "application/json"})
        realm = parse_json_object(response, "user realm endpoint") if response.status_code != 404 else {}
        if realm.get("account_type") == "Federated":
            raise ConfigurationError(f"{username}'s organisation signs in through its own federated identity "
                                     "provider; use the device code or interactive sign-in instead")

