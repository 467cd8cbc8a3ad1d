"""Bearer tokens for httpx: :class:`HttpxBearerAuth`, for ``httpx.Client`` and ``httpx.AsyncClient``.

::

    me = nbauth.login(CLIENT_ID, oidc_authority=ISSUER, scopes=["api:read"])
    httpx.get("https://api.example/data", auth=nbauth.HttpxBearerAuth(me))
    async with httpx.AsyncClient(auth=nbauth.HttpxBearerAuth(me)) as client: ...

Each request carries ``Authorization: Bearer <token>`` from the token source. A ``401`` whose
``WWW-Authenticate`` says the token expired or was revoked (``error="invalid_token"``) or asks
for claims (``insufficient_claims``) gets one new token and the request is sent once more;
whatever that answers goes back to the caller. A request whose body is a stream cannot be sent
again: its challenge raises ``httpx.HTTPStatusError`` saying so. A 401 after a redirect goes
back as it is. In an ``AsyncClient`` the event loop never waits on the provider: a cached
token is served inline, anything else is asked for in a background thread (``aio.OffLoop``).
httpx is not a dependency of nbauth: this module is imported only when used.
"""
from __future__ import annotations

from typing import Any, AsyncGenerator, Generator, NamedTuple, Optional, Sequence, Union

import httpx

from .aio import OffLoop
from .challenge import retry_for
from .source import CrossesAsRecipe, Token, TokenSource, token_source


class _Ask(NamedTuple):
    """A step of the flow asking for a token (first plain, then for a retry)."""

    claims_challenge: Optional[str] = None
    force_refresh: bool = False


_Step = Union[_Ask, httpx.Request]


class HttpxBearerAuth(CrossesAsRecipe, httpx.Auth):
    """An ``httpx.Auth`` sending the token source's bearer token and retrying a 401 challenge once.

    ``provider`` is anything :func:`nbauth.integrations.source.token_source` takes (a ``SignIn``
    handle, an application with ``account=``, a confidential application, or a token source
    callable); ``scopes`` default to the handle's. If no new token can be had for the retry,
    the token source's error is raised (e.g. ``OAuthError`` ``interaction_required``).
    """

    def __init__(self, provider: Any, scopes: Optional[Sequence[str]] = None, *, account: Optional[dict] = None):
        self.source: TokenSource = token_source(provider, account=account)
        self.scopes = list(scopes or [])
        self._off_loop = OffLoop()
        self.remember_recipe(provider, account)

    def sync_auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        steps = self._steps(request)
        step = next(steps)
        while True:
            answer = self._token(step) if isinstance(step, _Ask) else (yield step)
            try:
                step = steps.send(answer)
            except StopIteration:
                return

    async def async_auth_flow(self, request: httpx.Request) -> AsyncGenerator[httpx.Request, httpx.Response]:
        steps = self._steps(request)
        step = next(steps)
        while True:
            answer = await self._async_token(step) if isinstance(step, _Ask) else (yield step)
            try:
                step = steps.send(answer)
            except StopIteration:
                return

    def _steps(self, request: httpx.Request) -> Generator[_Step, Any, None]:
        """The flow, the same for both clients: yields an ``_Ask`` to be sent a ``Token``, and a
        request to be sent its response."""
        request.headers["Authorization"] = _bearer((yield _Ask()))
        response = yield request
        retry = retry_for(response.headers.get("WWW-Authenticate")) if response.status_code == 401 else None
        if retry is None or response.history:
            return
        if not isinstance(request.stream, httpx.ByteStream):
            raise httpx.HTTPStatusError(
                f"401 Unauthorized from {request.url}: the API asked for a new token ({retry.reason}), but the "
                "request's body is a stream, which cannot be sent again; pass the body as bytes (content=...) "
                "to have nbauth retry it", request=request, response=response)
        token = yield _Ask(retry.claims_challenge, force_refresh=True)
        request.headers["Authorization"] = _bearer(token)
        if response.cookies:
            httpx.Cookies(response.cookies).set_cookie_header(request)
        yield request

    def _token(self, ask: _Ask) -> Token:
        return self.source(self.scopes, claims_challenge=ask.claims_challenge, force_refresh=ask.force_refresh)

    async def _async_token(self, ask: _Ask) -> Token:
        at_once = getattr(self.source, "at_once", None)
        plain = ask == _Ask() and at_once is not None
        return await self._off_loop.token(ask, lambda: at_once(self.scopes) if plain else None,
                                          lambda: self._token(ask))

    def __repr__(self) -> str:
        return f"<HttpxBearerAuth scopes={self.scopes!r}>"


def _bearer(token: Token) -> str:
    return f"Bearer {token.access_token}"
