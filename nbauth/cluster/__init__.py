"""Tokens on Dask, Spark and Ray workers: sign-ins that cross process boundaries as recipes.

* ``recipe``: what crosses (client, authority, account, scopes, cache location, mode), never a
  secret, and the clear error for what cannot cross;
* ``handle``: :class:`ClusterSignIn`, the token source workers rebuild from a recipe (what a
  pickled ``SignIn``, ``NbauthCredential`` or ``BearerAuth`` becomes);
* ``workers``: how a worker process gets tokens: the user's shared cache, or what the driver publishes;
* ``board`` and ``publish``: access tokens the driver publishes, and the driver's side of it;
* ``dask`` / ``ray``: publishing through Dask (a worker plugin) and Ray (an actor), imported
  only when used;
* ``bearer_middleware``: bearer tokens for aiohttp, so fsspec's HTTP filesystem (dask's
  ``read_csv``) reads token-protected data on workers.
"""
from .handle import ClusterSignIn
from .recipe import AUTO, PUBLISHED, SHARED_CACHE, CannotCross, Recipe

__all__ = ["AUTO", "PUBLISHED", "SHARED_CACHE", "CannotCross", "ClusterSignIn", "Recipe"]
