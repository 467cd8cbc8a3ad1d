"""Bearer tokens for aiohttp, so fsspec's HTTP filesystem (and dask's ``read_csv`` over it) can
read token-protected data on workers: ``BearerMiddleware(me)`` in ``storage_options``.

::

    auth = BearerMiddleware(me, ["api:read"])
    dd.read_csv(urls, storage_options={"client_kwargs": {"middlewares": (auth,)}})

It pickles as the sign-in's recipe and tokenizes deterministically (``ClusterSignIn``), so dask
ships it to workers, where each request carries the worker's token (aiohttp 3.12+ middlewares).
"""
from __future__ import annotations

import asyncio
from typing import Any, Awaitable, Callable, Mapping, Optional, Sequence

from .handle import ClusterSignIn


class BearerMiddleware:
    """An aiohttp client middleware adding ``Authorization: Bearer <token>`` from a sign-in."""

    def __init__(self, provider: Any, scopes: Optional[Sequence[str]] = None, *,
                 account: Optional[Mapping[str, Any]] = None, mode: Optional[str] = None) -> None:
        self.sign_in = ClusterSignIn(provider, account=account, scopes=scopes, mode=mode)

    async def __call__(self, request: Any, handler: Callable[[Any], Awaitable[Any]]) -> Any:
        # A token due for refresh may need the network (or a published token a wait): off the loop.
        token = await asyncio.to_thread(self.sign_in, list(self.sign_in.scopes))
        request.headers["Authorization"] = f"{token.token_type} {token.access_token}"
        return await handler(request)

    def __dask_tokenize__(self) -> tuple:
        return ("nbauth.BearerMiddleware", self.sign_in.recipe.fields())

    def __repr__(self) -> str:
        return f"<nbauth.BearerMiddleware {self.sign_in!r}>"
