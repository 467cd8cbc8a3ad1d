"""How a worker process gets tokens for a recipe: ``worker_source(recipe)``, one per process.

* shared cache: an application on the user's ``PersistedTokenCache`` file (same machine, or a
  home shared over NFS), serving what the driver's refresher keeps fresh; when a token is due,
  the account's refresh lock (a POSIX ``fcntl`` record lock, which NFS honours, unlike ``flock``)
  lets one process refresh and the others use its result, and a refresh token the provider
  refused is marked in the cache so no process sends it again;
* published: the access tokens the driver publishes (``board``, or a ``fetch`` such as Ray's
  actor); a worker never holds a refresh token then.

``auto`` takes the shared cache when the file is there and holds the account, else published
(decided once per worker process, on its first token).
"""
from __future__ import annotations

import os
import sys
import threading
from typing import Any, Dict, List, Optional, Sequence

from ..exceptions import ConfigurationError
from ..integrations.source import Token, TokenSource, token_source
from .board import board
from .recipe import PUBLISHED, SHARED_CACHE, Recipe

#: How long a task waits for a published token (the first, or the next after one expired).
PUBLISHED_WAIT = 300.0
#: Where published tokens come from besides this process's board (e.g. Ray's actor).
_feeds: List[Any] = []
_sources: Dict[Recipe, TokenSource] = {}
_lock = threading.RLock()  # _build may add a feed (Ray) while holding it


def worker_source(recipe: Recipe) -> TokenSource:
    """This process's token source for ``recipe`` (built on first use)."""
    source = _sources.get(recipe)
    if source is None:
        with _lock:
            source = _sources.get(recipe) or _sources.setdefault(recipe, _build(recipe))
    return source


def add_feed(feed: Any) -> None:
    """Let published tokens also come from ``feed``: ``feed.latest(channel, timeout)`` gives the
    latest usable ``Published`` (waiting up to ``timeout`` for one), or None."""
    with _lock:
        if feed not in _feeds:
            _feeds.append(feed)


def _build(recipe: Recipe) -> TokenSource:
    if recipe.mode != PUBLISHED:
        app = _shared_app(recipe)
        account = _account(app, recipe) if app is not None else None
        if account is not None:
            return _with_default_scopes(token_source(app, account=account), recipe.scopes)
        if recipe.mode == SHARED_CACHE:
            where = recipe.cache_path if app is not None else f"{recipe.cache_path} (not found here)"
            raise ConfigurationError(f"the token cache {where} holds no sign-in of this account: sign in on the "
                                     "driver with the same cache, or use mode='published'")
    return _published(recipe)


def _shared_app(recipe: Recipe) -> Any:
    """The application on the recipe's cache file, or None when this process cannot see it."""
    if recipe.cache_path is None or not os.path.exists(recipe.cache_path):
        return None
    from ..apps.public import PublicClientApplication
    from ..cache.persistence import PersistedTokenCache

    where = {"oidc_authority" if recipe.oidc else "authority": recipe.authority}
    return PublicClientApplication(recipe.client_id, token_cache=PersistedTokenCache(recipe.cache_path),
                                   client_capabilities=list(recipe.client_capabilities),
                                   exclude_scopes=list(recipe.exclude_scopes),
                                   instance_discovery=recipe.instance_discovery, **where)


def _account(app: Any, recipe: Recipe) -> Optional[dict]:
    return next((a for a in app.get_accounts() if a.get("home_account_id") == recipe.home_account_id), None)


def _with_default_scopes(source: TokenSource, default: Sequence[str]) -> TokenSource:
    def scoped(scopes: Sequence[str], *, claims_challenge: Optional[str] = None,
               force_refresh: bool = False) -> Token:
        return source(list(scopes or default), claims_challenge=claims_challenge, force_refresh=force_refresh)
    return scoped


def _join_ray() -> None:
    """In a Ray worker, published tokens come from the cluster's token actor too."""
    ray = sys.modules.get("ray")
    if ray is not None and ray.is_initialized():
        from .ray import FEED

        add_feed(FEED)


def _published(recipe: Recipe) -> TokenSource:
    """Tokens the driver publishes for the recipe's scopes; a task waits up to
    ``PUBLISHED_WAIT`` seconds for the first, or for the next once the last expired."""
    channel, here = recipe.channel, board()
    _join_ray()

    def source(scopes: Sequence[str], *, claims_challenge: Optional[str] = None,
               force_refresh: bool = False) -> Token:
        if scopes and not set(scopes) <= set(recipe.scopes):
            raise ConfigurationError(f"the driver publishes tokens for {list(recipe.scopes)}, not {list(scopes)}: "
                                     "publish a sign-in with these scopes")
        if _feeds and not here.has_usable(channel):
            for feed in list(_feeds):
                latest = feed.latest(channel, PUBLISHED_WAIT)
                if latest is not None:
                    here.post(channel, latest)
        return here.take(channel, PUBLISHED_WAIT)
    return source
