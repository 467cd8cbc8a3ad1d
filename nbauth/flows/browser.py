"""Browser sign-in from a notebook page: the kernel's half (the widget's half is ``ui.browser``).

The widget proposes a redirect URI on its own page's origin (``<origin><base_url>nbauth/callback``,
or under JupyterHub the one ``<origin><hub_prefix>user-redirect/nbauth/callback`` for every user);
``BrowserFlow.start`` checks it, asks the provider whether it accepts it (``probe``), starts an
authorization-code flow with PKCE through ``initiate_auth_code_flow`` and gives back only the
``auth_uri``; the verifier never leaves the kernel. The redirect's query parameters come back from
the page (``nbauth.serverext``'s callback page, or the popup's address); ``answer`` takes those of
the pending sign-in (matched by ``state`` in constant time), once, and redeems them with
``acquire_token_by_auth_code_flow``, which checks ``state`` and ``iss``, redeems the code with the
verifier and the exact redirect URI sent, and verifies the ID token's nonce.
"""
from __future__ import annotations

import os
import threading
from typing import Any, Callable, Mapping, Optional, Sequence
from urllib.parse import urljoin, urlsplit

from ..exceptions import AuthorityError, ConfigurationError, FlowError
from ..protocol.authcode import state_matches
from ..protocol.urls import web_url
from ..tokens.result import TokenResult
from ..transport.base import HttpResponse

#: The callback page's path under a Jupyter server's base URL (``nbauth.serverext.callback.PATH``).
CALLBACK_PATH = "nbauth/callback"
#: Where to register the redirect URI, said wherever nbauth names one.
WHERE_TO_REGISTER = ("register it as a redirect URI of this application: in Microsoft Entra under "
                     "Authentication, platform \"Mobile and desktop applications\" (not \"Single-page "
                     "application\", whose codes the kernel cannot redeem); elsewhere as a redirect URI of "
                     "the public (native) client")
_PROBE_HOPS = 5
METHODS = ("auto", "browser", "device")
#: Sets the notebook sign-in's method where ``login``'s is ``"auto"`` (as ``NBAUTH_UI`` sets the ui).
METHOD_VARIABLE = "NBAUTH_SIGN_IN"


class RedirectNotRegistered(ConfigurationError):
    """The provider refused the redirect URI; ``redirect_uri`` is the one to register."""

    def __init__(self, redirect_uri: str):
        super().__init__(f"the provider does not accept the redirect URI {redirect_uri}; {WHERE_TO_REGISTER}")
        self.redirect_uri = redirect_uri


def redirect_uri_for(page_url: str, base_url: str = "/", hub_prefix: Optional[str] = None) -> str:
    """The redirect URI for a Jupyter page at ``page_url``: on its origin, under the hub's
    ``user-redirect`` when ``hub_prefix`` is given (one URI for every user), else under ``base_url``."""
    page = web_url(page_url, "the Jupyter URL")
    prefix = f"{_slashed(hub_prefix)}user-redirect/" if hub_prefix else _slashed(base_url)
    return checked_redirect_uri(f"{page.scheme}://{page.netloc}{prefix}{CALLBACK_PATH}")


def _slashed(path: str) -> str:
    return "/" + path.strip("/") + "/" if path.strip("/") else "/"


def checked_redirect_uri(text: Any) -> str:
    """``text`` when it is a callback URI nbauth serves: https (or http on loopback), ending in
    ``/nbauth/callback``, without query or fragment; else a ConfigurationError naming the problem."""
    try:
        url = web_url(text, "the redirect URI")
    except AuthorityError as exc:
        raise ConfigurationError(str(exc)) from None
    if not url.is_safe:
        raise ConfigurationError(f"the redirect URI must use https (http only on localhost): {url.url}")
    parts = urlsplit(url.url)
    if parts.query or parts.fragment or not parts.path.endswith("/" + CALLBACK_PATH):
        raise ConfigurationError(f"the redirect URI must end in /{CALLBACK_PATH}, without query: {url.url}")
    return url.url


def refused(response: HttpResponse, redirect_uri: str) -> Optional[bool]:
    """Whether a ``prompt=none`` authorization request's answer shows the redirect URI refused:
    False when it redirects there, True for an error page (a provider must not redirect to a URI it
    does not accept, RFC 6749 4.1.2.1; Entra says AADSTS50011), None when it cannot tell."""
    location = response.header("Location") or ""
    if 300 <= response.status_code < 400:
        return False if urljoin(response.url, location).startswith(redirect_uri) else None
    if 400 <= response.status_code < 500 or "AADSTS50011" in response.text:
        return True
    return None


class BrowserFlow:
    """One browser sign-in at a time for ``app`` (a ``PublicClientApplication``).

    ``get`` fetches a URL without following redirects (the app's transport), for ``probe``.
    """

    def __init__(self, app: Any, scopes: Sequence[str], get: Callable[[str], HttpResponse]):
        self.app = app
        self.scopes = list(scopes)
        self._get = get
        self._lock = threading.Lock()
        self._flow: Optional[Mapping[str, Any]] = None

    @property
    def pending(self) -> bool:
        return self._flow is not None

    def start(self, redirect_uri: Any) -> str:
        """The authorization URL for a new sign-in redirecting to ``redirect_uri`` (checked and
        probed first: RedirectNotRegistered when the provider refuses it). Replaces any pending one."""
        redirect_uri = checked_redirect_uri(redirect_uri)
        self.probe(redirect_uri)
        flow = self.app.initiate_auth_code_flow(self.scopes, redirect_uri=redirect_uri)
        with self._lock:
            self._flow = flow
        return flow["auth_uri"]

    def probe(self, redirect_uri: str) -> None:
        """Ask the provider (``prompt=none``, nothing redeemed) whether it redirects to ``redirect_uri``."""
        url = self.app.initiate_auth_code_flow(self.scopes, redirect_uri=redirect_uri, prompt="none")["auth_uri"]
        origin = urlsplit(url)[:2]
        for _ in range(_PROBE_HOPS):
            response = self._get(url)
            verdict = refused(response, redirect_uri)
            if verdict is not None:
                if verdict:
                    raise RedirectNotRegistered(redirect_uri)
                return
            following = urljoin(url, response.header("Location") or "")
            if response.status_code // 100 != 3 or urlsplit(following)[:2] != origin:
                return  # a page, or a hop off the provider: the popup will show what it is
            url = following

    def answer(self, params: Mapping[str, Any]) -> Optional[TokenResult]:
        """The token for the pending sign-in's redirect ``params`` (the provider's refusal raises
        ``OAuthError``); None when they are not its (another sign-in's, or already taken): each
        sign-in's answer is redeemed once."""
        if not isinstance(params, Mapping) or any(not isinstance(v, str) for v in params.values()):
            raise FlowError("the sign-in response's parameters must be strings")
        with self._lock:
            flow = self._flow
            if flow is None or not state_matches(params, flow["state"]):
                return None
            self._flow = None
        return self.app.redeem_auth_code_flow(flow, dict(params))

    def forget(self) -> None:
        """Drop the pending sign-in (a later answer to it is ignored)."""
        with self._lock:
            self._flow = None


def browser_method(method: str, presentation: str) -> str:
    """``login``'s ``method`` (or ``NBAUTH_SIGN_IN`` for ``"auto"``) settled as far as it can be without
    the network: ``"device"``, ``"browser"`` or ``"auto"`` (``browser_flow_for`` decides once the
    provider is known). ``presentation`` is ``ui.choose``'s kind: only the widget can open a sign-in
    window on the page's origin (a terminal keeps the device code and ``acquire_token_interactive``)."""
    if method == "auto":
        method = os.environ.get(METHOD_VARIABLE, "").strip().lower() or "auto"
    if method not in METHODS:
        raise ConfigurationError(f"method (or {METHOD_VARIABLE}) must be one of {', '.join(METHODS)}, not {method!r}")
    if method == "browser" and presentation != "widget":
        raise ConfigurationError("method='browser' needs the notebook widget (a Jupyter front end); in a "
                                 "terminal use method='device' or app.acquire_token_interactive()")
    return method if presentation == "widget" else "device"


def browser_flow_for(app: Any, scopes: Sequence[str], method: str) -> Optional[BrowserFlow]:
    """The browser flow a notebook sign-in offers for ``browser_method``'s answer (None: device code
    only); ``"auto"`` offers it when the provider has an authorization endpoint (discovery: network)."""
    if method == "device" or (method == "auto" and not app.service.metadata().authorization_endpoint):
        return None
    return BrowserFlow(app, scopes, app.service.transport.get)
