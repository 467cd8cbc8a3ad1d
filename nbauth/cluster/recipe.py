"""What a sign-in becomes when it crosses a process boundary: a ``Recipe``, never a secret.

A recipe names the sign-in (client id, authority, account id, scopes), where its tokens live
(the persisted cache's path, if any) and how workers get tokens (``mode``). A worker rebuilds
the rest lazily (``nbauth.cluster.workers``). Refresh tokens, access tokens and client
credentials are not in it: pickling one of nbauth's objects sends only these fields. What cannot
cross (a confidential application's secret, a sign-in still pending, a token function) raises
:class:`CannotCross`, naming what to send instead.
"""
from __future__ import annotations

import dataclasses
import hashlib
from typing import TYPE_CHECKING, Any, Mapping, Optional, Sequence, Tuple

from ..exceptions import ConfigurationError

if TYPE_CHECKING:
    from ..tokens.service import TokenService

#: Workers use the shared cache when they can see it, else the tokens the driver publishes.
AUTO = "auto"
#: Workers read (and, when due, refresh under the account's lock) the user's persisted cache.
SHARED_CACHE = "shared_cache"
#: Workers take the access tokens the driver's refresher publishes (no refresh token leaves it).
PUBLISHED = "published"
MODES = (AUTO, SHARED_CACHE, PUBLISHED)

_WHAT_CROSSES = ("send workers a SignIn handle (nbauth.login), an nbauth application with account=, "
                 "or nbauth.cluster.ClusterSignIn")


class CannotCross(ConfigurationError, TypeError):
    """This object cannot be sent to another process; the message names what to send instead."""


@dataclasses.dataclass(frozen=True)
class Recipe:
    """What identifies a sign-in, and how a worker gets its tokens (see the module's docstring)."""

    client_id: str
    authority: str
    oidc: bool  # ``oidc_authority=`` (any OpenID provider), else MSAL's ``authority=``
    home_account_id: str
    scopes: Tuple[str, ...] = ()
    cache_path: Optional[str] = None  # the PersistedTokenCache file; None: the cache is in memory
    mode: str = AUTO
    client_capabilities: Tuple[str, ...] = ()
    exclude_scopes: Tuple[str, ...] = ()
    instance_discovery: Optional[bool] = None

    def __post_init__(self) -> None:
        if self.mode not in MODES:
            raise ConfigurationError(f"mode must be one of {', '.join(MODES)}; not {self.mode!r}")
        if self.mode == SHARED_CACHE and self.cache_path is None:
            raise CannotCross("mode='shared_cache' needs the sign-in's tokens in a file workers can read: use "
                              "nbauth.PersistedTokenCache (login's default), or mode='published' with the "
                              "driver publishing tokens (nbauth.cluster.dask.publish)")

    @property
    def channel(self) -> str:
        """The name the driver publishes this sign-in's access tokens under (no secret in it)."""
        identity = "\n".join([self.client_id, self.authority, self.home_account_id, *sorted(self.scopes)])
        return "nbauth-" + hashlib.sha256(identity.encode()).hexdigest()[:24]

    def replace(self, **changes: Any) -> "Recipe":
        return dataclasses.replace(self, **{k: v for k, v in changes.items() if v is not None})

    def fields(self) -> tuple:
        """The recipe as plain values (Dask's ``tokenize`` of the objects that carry it)."""
        return dataclasses.astuple(self)


def signed_in(provider: Any, account: Optional[Mapping[str, Any]] = None,
              scopes: Optional[Sequence[str]] = None) -> Tuple[Any, "TokenService", Mapping[str, Any], Tuple[str, ...]]:
    """(application, its token engine, account, scopes) of a ``SignIn`` handle or of an nbauth
    application with ``account``; raises CannotCross for anything else."""
    from ..notebook import SignIn
    from ..tokens.service import TokenService

    if isinstance(provider, SignIn):
        if provider.account is None:
            raise CannotCross(f"this sign-in is not signed in ({provider.status.value}), so workers could not use "
                              "it: call .token() first (it waits for the sign-in), then send it")
        app, account, scopes = provider.app, provider.account, scopes or provider.scopes
    elif isinstance(getattr(provider, "service", None), TokenService):
        app = provider
        _refuse_confidential(app)
        if account is None:
            raise CannotCross("an application crosses to workers with the account whose tokens they use: "
                              "pass account= (one of app.get_accounts())")
    else:
        raise CannotCross(f"a {type(provider).__name__} cannot be sent to another process (a token function, "
                          f"or MSAL's own application, holds what cannot be pickled): {_WHAT_CROSSES}")
    return app, app.service, account, tuple(scopes or ())


def _refuse_confidential(app: Any) -> None:
    from ..protocol.client_auth import PublicClientAuth

    if not isinstance(app.service.client_auth, PublicClientAuth):
        raise CannotCross("a confidential application's credential (secret, certificate key or assertion) never "
                          "leaves its process: create the application in the worker from your secret store, or "
                          + _WHAT_CROSSES + " for a user's tokens")


def recipe_of(provider: Any, *, account: Optional[Mapping[str, Any]] = None,
              scopes: Optional[Sequence[str]] = None, mode: Optional[str] = None) -> Recipe:
    """The recipe of a ``SignIn`` handle, an nbauth application with ``account``, or a
    ``ClusterSignIn`` (``scopes`` and ``mode`` override its own)."""
    from ..cache.persistence import PersistedTokenCache
    from .handle import ClusterSignIn

    if isinstance(provider, ClusterSignIn):
        return provider.recipe.replace(scopes=tuple(scopes) if scopes else None, mode=mode)
    app, service, account, scopes = signed_in(provider, account, scopes)
    cache = app.token_cache
    return Recipe(client_id=service.client_id, authority=service.authority.url,
                  oidc=service.authority.kind == "oidc", home_account_id=str(account["home_account_id"]),
                  scopes=scopes, cache_path=str(cache.path) if isinstance(cache, PersistedTokenCache) else None,
                  mode=mode or AUTO, client_capabilities=tuple(service.client_capabilities),
                  exclude_scopes=tuple(service.exclude_scopes), instance_discovery=service.instance_discovery)
