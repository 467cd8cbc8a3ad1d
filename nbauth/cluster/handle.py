"""``ClusterSignIn``: a sign-in workers can use, pickled as its recipe and rebuilt lazily.

It is what a pickled ``SignIn`` handle becomes in a worker, and what ``NbauthCredential`` and
``BearerAuth`` carry there: a ``TokenSource`` (so ``NbauthCredential(...)``, ``BearerAuth(...)``
and ``authorized_session(...)`` take it) with the handle's ``token()``. Made on the driver it
also picks the mode: ``ClusterSignIn(me, mode="published")``.
"""
from __future__ import annotations

from typing import Any, Mapping, Optional, Sequence, Tuple

from ..integrations.source import Token
from .recipe import Recipe, recipe_of


class ClusterSignIn:
    """A sign-in's tokens in any process of a cluster (see the module's docstring).

    ``provider`` is a ``SignIn`` handle (``nbauth.login``), an nbauth application with
    ``account``, or another ``ClusterSignIn``; ``mode`` is ``"auto"`` (the shared cache where
    the worker can see it, else the tokens the driver publishes), ``"shared_cache"`` or
    ``"published"``. Nothing happens until the first token is asked for.
    """

    def __init__(self, provider: Any, *, account: Optional[Mapping[str, Any]] = None,
                 scopes: Optional[Sequence[str]] = None, mode: Optional[str] = None) -> None:
        self.recipe: Recipe = recipe_of(provider, account=account, scopes=scopes, mode=mode)

    @classmethod
    def from_recipe(cls, recipe: Recipe) -> "ClusterSignIn":
        handle = cls.__new__(cls)
        handle.recipe = recipe
        return handle

    @property
    def scopes(self) -> Tuple[str, ...]:
        return self.recipe.scopes

    def token(self, timeout: Optional[float] = None, *, scopes: Optional[Sequence[str]] = None) -> str:
        """An access token (``SignIn.token``'s shape; the wait for published tokens is
        ``nbauth.cluster.workers.PUBLISHED_WAIT``)."""
        return self(list(scopes or ())).access_token

    def __call__(self, scopes: Sequence[str], *, claims_challenge: Optional[str] = None,
                 force_refresh: bool = False) -> Token:
        from .workers import worker_source

        return worker_source(self.recipe)(scopes, claims_challenge=claims_challenge, force_refresh=force_refresh)

    def __reduce__(self) -> Tuple[Any, ...]:
        return ClusterSignIn.from_recipe, (self.recipe,)

    def __dask_tokenize__(self) -> tuple:
        return ("nbauth.ClusterSignIn", self.recipe.fields())

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ClusterSignIn) and other.recipe == self.recipe

    def __hash__(self) -> int:
        return hash(self.recipe)

    def __repr__(self) -> str:
        return f"<nbauth.ClusterSignIn {self.recipe.mode} at {self.recipe.authority} for {list(self.scopes)}>"
