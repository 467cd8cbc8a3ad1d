"""The one seam every integration takes tokens through: a ``TokenSource``.

A token source is a callable ``source(scopes, *, claims_challenge=None, force_refresh=False)``
returning a :class:`Token`. :func:`token_source` makes one from what a notebook or script already
has: the ``SignIn`` handle of ``nbauth.login``, an application and an account (nbauth's or MSAL's
own, which share the method names), or a confidential application for its own token. The handle's
and nbauth applications' tokens come from their token engine (``TokenService``), whose errors keep
every field the provider sent, and which can say without waiting whether the cache has one
(``at_once``); MSAL's own applications and plain callables are asked through their public methods. Either way their cache, refresh and locking apply unchanged.
"""
from __future__ import annotations

from typing import Any, Callable, List, NamedTuple, Optional, Protocol, Sequence, Tuple

from ..clock import Clock, system_clock
from ..exceptions import ConfigurationError, OAuthError
from ..redact import mask
from ..tokens.result import TokenResult
from ..tokens.service import TokenService


class Token(NamedTuple):
    """An access token and when it expires / should be refreshed (seconds since the epoch)."""

    access_token: str
    expires_on: int
    token_type: str = "Bearer"
    refresh_on: Optional[int] = None

    def __repr__(self) -> str:
        return (f"Token(access_token={mask(self.access_token)}, expires_on={self.expires_on}, "
                f"token_type={self.token_type!r}, refresh_on={self.refresh_on})")


class TokenSource(Protocol):
    """Gives a token for ``scopes``; ``force_refresh`` skips a cached token, and a
    ``claims_challenge`` (JSON text) asks for a token carrying those claims."""

    def __call__(self, scopes: Sequence[str], *, claims_challenge: Optional[str] = None,
                 force_refresh: bool = False) -> Token: ...


def _no_token() -> OAuthError:
    return OAuthError("interaction_required", "no token in the cache for this account and these scopes; "
                                              "sign in first (nbauth.login, or nbauth login in a terminal)")


def token_of(result: Optional[TokenResult]) -> Token:
    """The token of the engine's result; raises OAuthError (interaction_required) for None."""
    if result is None:
        raise _no_token()
    return Token(result.access_token, result.expires_on, result.token_type, result.refresh_on)


def token_from_result(result: Optional[dict], now: float) -> Token:
    """The token in MSAL's result dict; raises OAuthError for an error result or None."""
    if not result:
        raise _no_token()
    if "access_token" not in result:
        raise OAuthError(result.get("error") or "unknown_error", result.get("error_description") or "",
                         error_codes=result.get("error_codes"), correlation_id=result.get("correlation_id"),
                         claims=result.get("claims"))
    refresh_on = result.get("refresh_on")
    if refresh_on is None and result.get("refresh_in") is not None:
        refresh_on = now + int(result["refresh_in"])
    return Token(result["access_token"], int(now + int(result.get("expires_in") or 0)),
                 result.get("token_type") or "Bearer", int(refresh_on) if refresh_on is not None else None)


def token_source(provider: Any, *, account: Optional[dict] = None, timeout: Optional[float] = 300.0,
                 clock: Clock = system_clock) -> TokenSource:
    """A ``TokenSource`` from ``provider``:

    * a ``SignIn`` handle (``nbauth.login``): waits up to ``timeout`` seconds for a pending
      sign-in, then gives the signed-in account's tokens (scopes default to the handle's);
    * an application with ``account``: ``acquire_token_silent_with_error`` for that account;
    * a confidential application without ``account``: ``acquire_token_for_client`` (the app's
      own token; ``force_refresh`` first forgets its cached app tokens, as MSAL advises);
    * a callable already shaped like a ``TokenSource``: returned as it is.
    """
    from ..notebook import SignIn

    if isinstance(provider, SignIn):
        return _sign_in_source(provider, timeout, clock)
    service = getattr(provider, "service", None)
    if account is not None and isinstance(service, TokenService):
        return EngineSource(service, lambda: account)
    if account is not None and hasattr(provider, "acquire_token_silent_with_error"):
        return _account_source(provider, account, clock)
    if account is None and hasattr(provider, "token_for_client") and isinstance(service, TokenService):
        return ClientSource(provider)
    if account is None and hasattr(provider, "acquire_token_for_client"):
        return _app_source(provider, clock)
    if hasattr(provider, "acquire_token_silent_with_error"):
        raise ConfigurationError("an application gives user tokens only for an account: pass account= "
                                 "(one of app.get_accounts())")
    if callable(provider):
        return provider
    raise ConfigurationError("a token source is a SignIn handle, an application (with account= for a user), "
                             f"or a callable (scopes, claims_challenge=, force_refresh=); not {type(provider).__name__}")


def tenant_of(provider: Any) -> Optional[str]:
    """The Entra tenant the provider's application signs in at (None for other providers)."""
    authority = getattr(getattr(provider, "app", provider), "authority", None)
    if not getattr(authority, "is_entra", True):
        return None
    return getattr(authority, "tenant", None)


def _sign_in_source(handle: Any, timeout: Optional[float], clock: Clock) -> "EngineSource":
    from ..ui import Status

    return EngineSource(handle.service, lambda: handle.account, default_scopes=handle.scopes,
                        signed_in=lambda: handle.status is Status.SIGNED_IN,
                        wait_for_sign_in=lambda scopes: handle.token(timeout, scopes=scopes))


class EngineSource:
    """A ``TokenSource`` giving ``account()``'s tokens from the token engine (scopes required
    unless defaulted). A sign-in handle's source first waits for a pending sign-in
    (``wait_for_sign_in``, which raises why it failed) unless ``signed_in()``.
    ``at_once`` gives a token only when the cache can without waiting (an event loop's fast path).
    """

    def __init__(self, service: TokenService, account: Callable[[], Optional[dict]], *,
                 default_scopes: Optional[Sequence[str]] = None, signed_in: Callable[[], bool] = lambda: True,
                 wait_for_sign_in: Optional[Callable[[Sequence[str]], Any]] = None) -> None:
        self.service = service
        self._account, self._default_scopes = account, default_scopes
        self._signed_in, self._wait_for_sign_in = signed_in, wait_for_sign_in

    def __call__(self, scopes: Sequence[str], *, claims_challenge: Optional[str] = None,
                 force_refresh: bool = False) -> Token:
        wanted = self._wanted(scopes)
        if self._wait_for_sign_in is not None and not self._signed_in():
            self._wait_for_sign_in(wanted)
        return token_of(self.service.silent(wanted, self._account(), force_refresh=force_refresh,
                                            claims_challenge=claims_challenge))

    def at_once(self, scopes: Sequence[str]) -> Optional[Token]:
        """The token for ``scopes`` if the cache can give it now (``TokenService.silent_at_once``:
        fresh, or due for refresh while one refresh runs in the background), else None."""
        if not self._signed_in():
            return None
        result = self.service.silent_at_once(self._wanted(scopes), self._account())
        return token_of(result) if result is not None else None

    def _wanted(self, scopes: Sequence[str]) -> list:
        if self._default_scopes is not None:
            return list(scopes or self._default_scopes or [])
        return _required(scopes)


class ClientSource:
    """A ``TokenSource`` giving nbauth's confidential application its own tokens from the token
    engine (``force_refresh`` first forgets its cached app tokens, as MSAL advises); ``at_once``
    as ``EngineSource``'s."""

    def __init__(self, app: Any) -> None:
        self.app = app

    def __call__(self, scopes: Sequence[str], *, claims_challenge: Optional[str] = None,
                 force_refresh: bool = False) -> Token:
        if force_refresh:
            self.app.remove_tokens_for_client()
        return token_of(self.app.token_for_client(_required(scopes), claims_challenge))

    def at_once(self, scopes: Sequence[str]) -> Optional[Token]:
        result = self.app.token_for_client(_required(scopes), at_once=True)
        return token_of(result) if result is not None else None


def _account_source(app: Any, account: dict, clock: Clock) -> TokenSource:
    def source(scopes: Sequence[str], *, claims_challenge: Optional[str] = None,
               force_refresh: bool = False) -> Token:
        result = app.acquire_token_silent_with_error(_required(scopes), account=account,
                                                     force_refresh=force_refresh, claims_challenge=claims_challenge)
        return token_from_result(result, clock())
    return source


def _app_source(app: Any, clock: Clock) -> TokenSource:
    def source(scopes: Sequence[str], *, claims_challenge: Optional[str] = None,
               force_refresh: bool = False) -> Token:
        if force_refresh:
            app.remove_tokens_for_client()
        result = app.acquire_token_for_client(_required(scopes), claims_challenge=claims_challenge)
        return token_from_result(result, clock())
    return source


def _required(scopes: Sequence[str]) -> list:
    if not scopes:
        raise ConfigurationError("scopes are needed: name the API's scopes (e.g. ['api://app/.default'])")
    return list(scopes)


class CrossesAsRecipe:
    """For auth objects made from ``token_source(provider, account=...)`` and ``scopes``: pickled
    (to Dask, Spark or Ray workers) as the sign-in's recipe (``nbauth.cluster``), never a token or
    a secret; a shallow copy in this process shares the token source."""

    scopes: List[str]

    def remember_recipe(self, provider: Any, account: Optional[dict]) -> None:
        """Keep what a pickled copy is made from (call it in ``__init__``)."""
        self._provider, self._account = provider, account

    def __reduce__(self) -> Tuple[Any, ...]:
        return type(self), (self._recipe_handle(), self.scopes)

    def __copy__(self) -> Any:
        clone = object.__new__(type(self))
        clone.__dict__.update(self.__dict__)
        return clone

    def __dask_tokenize__(self) -> tuple:
        return (f"nbauth.{type(self).__name__}", self._recipe_handle().recipe.fields(), tuple(self.scopes))

    def _recipe_handle(self) -> Any:
        from ..cluster import ClusterSignIn

        return ClusterSignIn(self._provider, account=self._account, scopes=self.scopes or None)
