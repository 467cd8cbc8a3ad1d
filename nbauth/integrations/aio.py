"""An async credential for Azure SDK ``aio`` clients and adlfs: :class:`AsyncNbauthCredential`.

It has azure-core's ``AsyncTokenCredential`` and ``AsyncSupportsTokenInfo`` shapes (``get_token``,
``get_token_info``, ``close``, ``async with``). The event loop never waits on the network: a
token the cache can give (fresh, or due for refresh while one refresh runs in a background
thread) is answered inline in microseconds, where nbauth's engine is underneath (``source.py``'s
``at_once``: a sign-in handle, an application with an account, a confidential application's own
token); otherwise (and always for msal's own applications and plain callables) the provider is
asked in a background thread and the coroutine awaits it. Every coroutine asking for the same token at once awaits
the same request, and that request shares the token engine's refresh with every thread asking
too (``tokens.single_flight``), so 100 coroutines and 8 threads send one refresh.
"""
from __future__ import annotations

import asyncio
from typing import Any, Callable, Hashable, Mapping, Optional, Sequence

from ..tokens.single_flight import ABANDONED, SingleFlight
from .azure import AccessToken, AccessTokenInfo, NbauthCredential
from .source import Token


class OffLoop:
    """Tokens for coroutines: ``at_once()`` inline when it gives one (a cache hit), else ``fetch()``
    in a background thread, shared by every coroutine asking with the same key meanwhile."""

    def __init__(self) -> None:
        self._flights = SingleFlight()

    async def token(self, key: Hashable, at_once: Callable[[], Optional[Token]], fetch: Callable[[], Token]) -> Token:
        token = at_once()
        if token is not None:
            return token
        while True:
            outcome = await asyncio.wrap_future(self._flights.begin(key, fetch))
            if outcome is not ABANDONED:
                return outcome


class AsyncNbauthCredential:
    """Azure SDK async credential backed by nbauth tokens (e.g. ``BlobServiceClient`` from
    ``azure.storage.blob.aio``, or adlfs's ``credential=``).

    It takes what :class:`~nbauth.integrations.azure.NbauthCredential` takes (``nbauth.login``'s
    handle, an application with ``account=``, a confidential application), with its tenant
    binding and errors (azure-core's ``ClientAuthenticationError`` when azure-core is installed).
    """

    def __init__(self, provider: Any, *, account: Optional[dict] = None, timeout: Optional[float] = 300.0):
        self._credential = NbauthCredential(provider, account=account, timeout=timeout)
        self._off_loop = OffLoop()
        self.tenant_id = self._credential.tenant_id

    async def get_token(self, *scopes: str, claims: Optional[str] = None, tenant_id: Optional[str] = None,
                        enable_cae: bool = False, **kwargs: Any) -> AccessToken:
        """A token for ``scopes`` (e.g. ``"https://storage.azure.com/.default"``)."""
        token = await self._token(scopes, claims, tenant_id)
        return AccessToken(token.access_token, token.expires_on)

    async def get_token_info(self, *scopes: str, options: Optional[Mapping[str, Any]] = None) -> AccessTokenInfo:
        """``get_token`` with azure-core's ``TokenRequestOptions`` (``claims``, ``tenant_id``)."""
        options = options or {}
        token = await self._token(scopes, options.get("claims"), options.get("tenant_id"))
        return AccessTokenInfo(token.access_token, token.expires_on, token_type=token.token_type,
                               refresh_on=token.refresh_on)

    async def _token(self, scopes: Sequence[str], claims: Optional[str], tenant_id: Optional[str]) -> Token:
        credential = self._credential
        return await self._off_loop.token((tuple(scopes), claims or None, tenant_id),
                                          lambda: None if claims else credential.token_at_once(scopes, tenant_id),
                                          lambda: credential.token(scopes, claims, tenant_id))

    async def close(self) -> None:
        """Nothing to release (the application and its cache stay usable)."""

    async def __aenter__(self) -> "AsyncNbauthCredential":
        return self

    async def __aexit__(self, *exc_info: Any) -> None:
        await self.close()

    def __reduce__(self) -> tuple:
        """Pickled as its ``NbauthCredential``'s recipe (``nbauth.cluster``), never a token or secret."""
        return _wrapping, (self._credential,)

    def __dask_tokenize__(self) -> tuple:
        return ("nbauth.AsyncNbauthCredential", self._credential.__dask_tokenize__())

    def __repr__(self) -> str:
        return f"<AsyncNbauthCredential tenant={self.tenant_id!r}>"


def _wrapping(credential: NbauthCredential) -> AsyncNbauthCredential:
    """An ``AsyncNbauthCredential`` around ``credential`` (how a pickled one is rebuilt)."""
    wrapper = AsyncNbauthCredential.__new__(AsyncNbauthCredential)
    wrapper._credential, wrapper._off_loop, wrapper.tenant_id = credential, OffLoop(), credential.tenant_id
    return wrapper
