"""A credential for Azure SDK clients (and fsspec/adlfs), duck-typed to azure-core's protocols.

``NbauthCredential`` has ``get_token`` (azure-core's ``TokenCredential``) and ``get_token_info``
(``SupportsTokenInfo``, azure-core 1.31+), so ``BlobServiceClient(url, credential=...)`` and
azure-core's ``BearerTokenCredentialPolicy`` take it. azure-core is not needed to use it: the
token types here have azure-core's shapes (``AccessToken(token, expires_on)``; ``AccessTokenInfo``
with ``token_type`` and ``refresh_on``), and their reprs hide the token.
"""
from __future__ import annotations

from typing import Any, Mapping, NamedTuple, Optional, Sequence, Tuple

from ..exceptions import ConfigurationError, NbauthError, OAuthError
from ..redact import mask
from .source import Token, tenant_of, token_source


class AccessToken(NamedTuple):
    """azure-core's ``AccessToken``: the token and its expiry (seconds since the epoch)."""

    token: str
    expires_on: int

    def __repr__(self) -> str:
        return f"AccessToken(token={mask(self.token)}, expires_on={self.expires_on})"


class AccessTokenInfo:
    """azure-core's ``AccessTokenInfo``: the token, its expiry, type and refresh time."""

    __slots__ = ("token", "expires_on", "token_type", "refresh_on")

    def __init__(self, token: str, expires_on: int, *, token_type: str = "Bearer",
                 refresh_on: Optional[int] = None):
        self.token = token
        self.expires_on = expires_on
        self.token_type = token_type
        self.refresh_on = refresh_on

    def __repr__(self) -> str:
        return (f"AccessTokenInfo(token={mask(self.token)}, expires_on={self.expires_on}, "
                f"token_type={self.token_type!r}, refresh_on={self.refresh_on})")


class NbauthCredential:
    """Azure SDK credential backed by nbauth tokens.

    ``provider`` is what :func:`nbauth.integrations.source.token_source` takes: ``nbauth.login``'s
    handle (``NbauthCredential(nbauth.login(...))``), an application with ``account=``, or a
    confidential application. A ``claims`` challenge gets a new token carrying those claims.
    The credential is bound to its application's tenant: a ``tenant_id`` other than that one
    is refused. Sign-in failures raise azure-core's ``ClientAuthenticationError`` when
    azure-core is installed (as Azure SDK code expects), else the nbauth error; the provider's
    ``claims``, ``error_codes`` and ``correlation_id`` are on either (and the nbauth
    error is the azure one's ``__cause__``).
    """

    def __init__(self, provider: Any, *, account: Optional[dict] = None, timeout: Optional[float] = 300.0):
        self._source = token_source(provider, account=account, timeout=timeout)
        self._provider, self._account = provider, account  # what a pickled copy is made from
        self.tenant_id: Optional[str] = tenant_of(provider)

    def get_token(self, *scopes: str, claims: Optional[str] = None, tenant_id: Optional[str] = None,
                  enable_cae: bool = False, **kwargs: Any) -> AccessToken:
        """A token for ``scopes`` (e.g. ``"https://storage.azure.com/.default"``)."""
        token = self.token(scopes, claims, tenant_id)
        return AccessToken(token.access_token, token.expires_on)

    def get_token_info(self, *scopes: str, options: Optional[Mapping[str, Any]] = None) -> AccessTokenInfo:
        """``get_token`` with azure-core's ``TokenRequestOptions`` (``claims``, ``tenant_id``)."""
        options = options or {}
        token = self.token(scopes, options.get("claims"), options.get("tenant_id"))
        return AccessTokenInfo(token.access_token, token.expires_on, token_type=token.token_type,
                               refresh_on=token.refresh_on)

    def token(self, scopes: Sequence[str], claims: Optional[str] = None, tenant_id: Optional[str] = None) -> Token:
        """The token ``get_token`` and ``get_token_info`` give (nbauth's ``Token``)."""
        self._check_tenant(tenant_id)
        try:
            return self._source(list(scopes), claims_challenge=claims or None)
        except ConfigurationError:
            raise
        except NbauthError as exc:
            error = _azure_error(exc)
            if error is None:
                raise
            raise error from exc

    def token_at_once(self, scopes: Sequence[str], tenant_id: Optional[str] = None) -> Optional[Token]:
        """The token for ``scopes`` if the cache can give it without waiting on the network (a
        fresh one, or one due for refresh while one refresh runs in the background), else None.
        Sources outside nbauth's engine (MSAL's applications, callables) always give None."""
        self._check_tenant(tenant_id)
        at_once = getattr(self._source, "at_once", None)
        return at_once(list(scopes)) if at_once is not None else None

    def _check_tenant(self, tenant_id: Optional[str]) -> None:
        if tenant_id and (self.tenant_id or "").lower() != tenant_id.lower():
            where = f"at tenant {self.tenant_id!r}" if self.tenant_id else "at an authority without tenants"
            raise ConfigurationError(f"this credential signs in {where}, not at tenant {tenant_id!r}: make one "
                                     "from an application whose authority names that tenant")

    def close(self) -> None:
        """Nothing to release (the application and its cache stay usable)."""

    def __enter__(self) -> "NbauthCredential":
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self.close()

    def __reduce__(self) -> Tuple[Any, ...]:
        """Pickled as the sign-in's recipe (``nbauth.cluster``), never a token or secret."""
        return NbauthCredential, (self._recipe_handle(),), {"tenant_id": self.tenant_id}

    def __copy__(self) -> "NbauthCredential":
        """A shallow copy shares the token source (``__reduce__`` is for other processes)."""
        clone = object.__new__(type(self))
        clone.__dict__.update(self.__dict__)
        return clone

    def __dask_tokenize__(self) -> tuple:
        return ("nbauth.NbauthCredential", self._recipe_handle().recipe.fields(), self.tenant_id)

    def _recipe_handle(self) -> Any:
        from ..cluster import ClusterSignIn

        return ClusterSignIn(self._provider, account=self._account)

    def __repr__(self) -> str:
        return f"<NbauthCredential tenant={self.tenant_id!r}>"


#: The provider's fields an ``OAuthError`` carries, copied onto azure-core's error.
_PROVIDER_FIELDS = ("claims", "error_codes", "correlation_id")


def _azure_error(exc: NbauthError) -> Optional[Exception]:
    """azure-core's ``ClientAuthenticationError`` for ``exc``, if azure-core is installed, with
    the provider's fields when ``exc`` is its ``OAuthError``."""
    try:
        from azure.core.exceptions import ClientAuthenticationError
    except ImportError:
        return None
    error = ClientAuthenticationError(message=str(exc))
    if isinstance(exc, OAuthError):
        for name in _PROVIDER_FIELDS:
            setattr(error, name, getattr(exc, name))
    return error
