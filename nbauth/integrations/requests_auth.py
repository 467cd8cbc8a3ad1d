"""Bearer tokens for ``requests``: :class:`BearerAuth` and :func:`authorized_session`.

::

    me = nbauth.login(CLIENT_ID, oidc_authority=ISSUER, scopes=["api:read"])
    api = authorized_session(me)
    api.get("https://api.example/data").raise_for_status()

Each request carries ``Authorization: Bearer <token>`` from the token source (a cache hit
while the token is fresh). A ``401`` whose ``WWW-Authenticate`` says the token expired or was
revoked (``error="invalid_token"``) or asks for claims (Entra's ``insufficient_claims``) gets
one new token (refreshed, or carrying the claims) and the request is sent once more; whatever
that answers, a second 401 included, goes back to the caller. A request whose body is a stream
(a file object or a generator) cannot be replayed, so its 401 goes back as it is; so does a
401 after a redirect (a token is never sent where the caller did not send one).
"""
from __future__ import annotations

from typing import Any, Optional, Sequence

import requests
from requests.cookies import extract_cookies_to_jar

from .challenge import retry_for
from .source import CrossesAsRecipe, TokenSource, token_source

#: Marks the prepared request this auth signed. Copies (the retry, or a redirect whose
#: Authorization header requests dropped for another host) lack it, so they are never retried.
_SIGNED = "_nbauth_signed"


class BearerAuth(CrossesAsRecipe, requests.auth.AuthBase):
    """A ``requests`` auth that sends the token source's bearer token and retries a 401 once.

    ``provider`` is anything :func:`nbauth.integrations.source.token_source` takes (a ``SignIn``
    handle, an application with ``account=``, a confidential application, or a token source
    callable). ``scopes`` default to the handle's. If no new token can be had for the retry,
    the token source's error is raised (e.g. ``OAuthError`` ``interaction_required``, whose
    ``claims`` an interactive sign-in can take).
    """

    def __init__(self, provider: Any, scopes: Optional[Sequence[str]] = None, *,
                 account: Optional[dict] = None):
        self.source: TokenSource = token_source(provider, account=account)
        self.scopes = list(scopes or [])
        self.remember_recipe(provider, account)

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        if not isinstance(request, requests.PreparedRequest):  # e.g. httpx, which calls any callable auth
            raise TypeError(f"BearerAuth is for requests, not {type(request).__module__.split('.')[0]}: "
                            "use nbauth.HttpxBearerAuth with httpx")
        request.headers["Authorization"] = _bearer(self.source(self.scopes))
        setattr(request, _SIGNED, True)
        request.register_hook("response", self._retry_once)
        return request

    def _retry_once(self, response: requests.Response, **send_options: Any) -> requests.Response:
        """The response hook: send the request once more with a new token, when that may help."""
        request = response.request
        if response.status_code != 401 or not getattr(request, _SIGNED, False):
            return response
        retry = retry_for(response.headers.get("WWW-Authenticate"))
        if retry is None or not replayable(request) or response.connection is None:
            return response
        token = self.source(self.scopes, claims_challenge=retry.claims_challenge, force_refresh=True)
        response.content  # read to the end, so the connection can be reused
        response.close()
        again = request.copy()
        # as requests' own auth handlers replay a request (HTTPDigestAuth): its cookie jar is private
        extract_cookies_to_jar(again._cookies, request, response.raw)
        again.prepare_cookies(again._cookies)
        again.headers["Authorization"] = _bearer(token)
        answer = response.connection.send(again, **send_options)
        answer.history.append(response)
        answer.request = again
        return answer

    def __repr__(self) -> str:
        return f"<BearerAuth scopes={self.scopes!r}>"


def _bearer(token: Any) -> str:
    return f"Bearer {token.access_token}"


def replayable(request: requests.PreparedRequest) -> bool:
    """True when the request's body can be sent again (none, bytes or text; not a stream)."""
    return request.body is None or isinstance(request.body, (bytes, str))


def authorized_session(provider: Any, scopes: Optional[Sequence[str]] = None, *, account: Optional[dict] = None,
                       session: Optional[requests.Session] = None) -> requests.Session:
    """A ``requests.Session`` (``session`` if given) whose requests carry bearer tokens from
    ``provider`` (see :class:`BearerAuth`)."""
    session = session if session is not None else requests.Session()
    session.auth = BearerAuth(provider, scopes, account=account)
    return session
