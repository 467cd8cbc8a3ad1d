"""MSAL's authorization-code methods for apps that receive the redirect themselves (web apps).

``initiate_auth_code_flow`` returns the flow dict a web app keeps in its session (with
``auth_uri`` for the browser); ``acquire_token_by_auth_code_flow`` takes that dict and the
redirect's parameters, checks ``state`` (and ``iss``, RFC 9207), redeems the code with the PKCE
verifier and checks the ID token's ``nonce``. ``get_authorization_request_url`` and
``acquire_token_by_authorization_code`` are MSAL's older pair, where the caller keeps the state.
"""
from __future__ import annotations

import hashlib
import threading
import warnings
from collections import OrderedDict
from typing import Any, List, Mapping, Optional
from urllib.parse import urlencode

from ..exceptions import ConfigurationError, FlowError
from ..protocol import scopes as scope_rules
from ..protocol.authcode import AuthorizationRequest, code_from_redirect, new_authorization_request, state_matches
from ..protocol.oauth2 import AUTHORIZATION_CODE, Grant, authorization_code_grant
from ..protocol.pkce import new_pkce
from ..redact import RedactedDict
from ..tokens.anchor import by_client_info
from ..tokens.result import TokenResult
from .base import ClientApplication, errors_as_results
from .keywords import check_keywords

_RESPONSE_MODES = ("query", "form_post")
_FLOW_TEXTS = ("state", "nonce", "code_verifier", "redirect_uri", "auth_uri")


def _check_redirect_uri(redirect_uri: Optional[str]) -> str:
    if not isinstance(redirect_uri, str) or not redirect_uri:
        raise ConfigurationError("redirect_uri is required: the app's registered redirect URI, where the "
                                 "provider sends the browser back")
    return redirect_uri


def _extra_url_params(extra: Mapping[str, Any]) -> dict:
    """MSAL's pass-through authorization parameters, checked: strings only, PKCE S256 only."""
    if any(not isinstance(value, str) for value in extra.values()):
        raise ConfigurationError(f"extra authorization parameters must be strings: {sorted(extra)}")
    if extra.get("code_challenge_method", "S256") != "S256" or ("code_challenge" in extra) != (
            "code_challenge_method" in extra):
        raise ConfigurationError("PKCE takes code_challenge with code_challenge_method='S256'")
    clash = sorted(set(extra) & {"client_id", "scope", "claims"})
    if clash:
        raise ConfigurationError(f"nbauth sets {clash} itself (pass scopes and claims_challenge)")
    return dict(extra)


def _request_of(flow: Mapping[str, Any]) -> AuthorizationRequest:
    """The sign-in a flow dict describes; raises ConfigurationError when it is not one."""
    if (not isinstance(flow, Mapping) or any(not isinstance(flow.get(key), str) or not flow[key] for key in _FLOW_TEXTS)
            or not isinstance(flow.get("scope"), (list, tuple)) or not flow["scope"]):
        raise ConfigurationError("auth_code_flow must be the dict initiate_auth_code_flow() returned, unchanged")
    scopes = scope_rules.normalize(flow["scope"], "auth_code_flow's scope")
    max_age = flow.get("max_age")
    if max_age is not None and (isinstance(max_age, bool) or not isinstance(max_age, int)):
        raise ConfigurationError("auth_code_flow must be the dict initiate_auth_code_flow() returned, unchanged")
    return AuthorizationRequest(redirect_uri=flow["redirect_uri"], scopes=tuple(scopes), url=flow["auth_uri"],
                                state=flow["state"], nonce=flow["nonce"], pkce=new_pkce(flow["code_verifier"]),
                                max_age=max_age)


class AnsweredFlows:
    """The flows whose redirect was accepted, so that no flow dict is redeemed twice.

    Process-wide (web apps often make an application per request), keyed by a hash of the
    flow's PKCE verifier, and bounded: the oldest are forgotten past ``limit`` flows.
    """

    def __init__(self, limit: int = 10_000):
        self._limit = limit
        self._lock = threading.Lock()
        self._answered: "OrderedDict[bytes, None]" = OrderedDict()

    def claim(self, request: AuthorizationRequest) -> None:
        """Mark the flow answered; FlowError if it already was."""
        key = hashlib.sha256(request.pkce.verifier.encode("ascii")).digest()
        with self._lock:
            if key in self._answered:
                raise FlowError("this auth_code_flow was already used: each sign-in's response is taken once; "
                                "start a new one with initiate_auth_code_flow()")
            self._answered[key] = None
            if len(self._answered) > self._limit:
                self._answered.popitem(last=False)


#: The process-wide record of answered flows.
answered_flows = AnsweredFlows()


class AuthCodeFlows(ClientApplication):
    """A ``ClientApplication`` with MSAL's authorization-code methods for web apps."""

    def initiate_auth_code_flow(self, scopes: List[str], redirect_uri: Optional[str] = None,
                                state: Optional[str] = None, prompt: Optional[str] = None,
                                login_hint: Optional[str] = None, domain_hint: Optional[str] = None,
                                claims_challenge: Optional[str] = None, max_age: Optional[int] = None,
                                response_mode: Optional[str] = None) -> RedactedDict:
        """Start a sign-in: the flow dict, whose ``auth_uri`` the browser should open.

        Keep the whole dict (e.g. in the web session) for :meth:`acquire_token_by_auth_code_flow`.
        It holds the ``state`` (yours, or a fresh one), a ``nonce`` and a PKCE ``code_verifier``.
        ``response_mode`` may be ``query`` (default) or ``form_post``.
        """
        if response_mode is not None and response_mode not in _RESPONSE_MODES:
            raise ConfigurationError(f"response_mode must be one of {list(_RESPONSE_MODES)}, not {response_mode!r}")
        if state is not None and (not isinstance(state, str) or not state):
            raise ConfigurationError("state must be a non-empty string (or None for a fresh one)")
        requested = self.service.requested_scopes(scopes)
        endpoint = self._authorization_endpoint(client_info=True)
        request = new_authorization_request(
            endpoint, self.client_id, _check_redirect_uri(redirect_uri), requested, prompt=prompt,
            login_hint=login_hint, domain_hint=domain_hint, max_age=max_age,
            claims=self.service.claims(claims_challenge), state=state)
        auth_uri = request.url + ("&" + urlencode({"response_mode": response_mode}) if response_mode else "")
        return RedactedDict(state=request.state, nonce=request.nonce, code_verifier=request.pkce.verifier,
                            redirect_uri=request.redirect_uri, scope=requested, auth_uri=auth_uri,
                            claims_challenge=claims_challenge, max_age=max_age)

    @errors_as_results
    def acquire_token_by_auth_code_flow(self, auth_code_flow: Mapping[str, Any], auth_response: Mapping[str, str],
                                        scopes: Optional[List[str]] = None, *,
                                        data: Optional[Mapping[str, str]] = None, **kwargs: Any) -> RedactedDict:
        """Finish a sign-in: check the redirect's parameters against the flow, redeem the code.

        Raises FlowError when ``state`` (or the provider's ``iss``) does not match the flow:
        the response belongs to another sign-in, or was forged; and when the flow already had
        its response (a flow is used once, whatever the outcome). The provider's refusal
        (``?error=...``) and a rejected code come back as MSAL's error dict. ``data=`` adds
        body fields to the code's redemption, as in MSAL.
        """
        check_keywords("acquire_token_by_auth_code_flow", kwargs)
        return self.redeem_auth_code_flow(auth_code_flow, auth_response, scopes, data=data)

    def redeem_auth_code_flow(self, auth_code_flow: Mapping[str, Any], auth_response: Mapping[str, str],
                              scopes: Optional[List[str]] = None, *,
                              data: Optional[Mapping[str, str]] = None) -> TokenResult:
        """:meth:`acquire_token_by_auth_code_flow` for nbauth's own callers (the notebook's browser
        sign-in): the engine's ``TokenResult``, and the provider's refusal as ``OAuthError``."""
        request = _request_of(auth_code_flow)
        if not isinstance(auth_response, Mapping):
            raise ConfigurationError("auth_response must be a dict of the redirect's query (or form) parameters")
        requested = list(request.scopes)
        if scopes is not None:
            requested = self.service.requested_scopes(scopes)
            if not scope_rules.is_subset(requested, request.scopes):
                raise FlowError(f"scopes must be a subset of the flow's {list(request.scopes)}")
        metadata = self.service.metadata()
        if state_matches(auth_response, request.state):  # this flow's answer: it is taken only once
            answered_flows.claim(request)
        code = code_from_redirect(auth_response, request, issuer=metadata.issuer,
                                  issuer_required=metadata.authorization_response_iss_supported)
        grant = authorization_code_grant(code, request.redirect_uri, request.pkce.verifier, requested)
        return self._redeem(grant, requested, data, nonce=request.nonce, max_age=request.max_age,
                            claims_challenge=auth_code_flow.get("claims_challenge"), headers=by_client_info(auth_response))

    def get_authorization_request_url(self, scopes: List[str], login_hint: Optional[str] = None,
                                      state: Optional[str] = None, redirect_uri: Optional[str] = None,
                                      response_type: str = "code", prompt: Optional[str] = None,
                                      nonce: Optional[str] = None, domain_hint: Optional[str] = None,
                                      claims_challenge: Optional[str] = None, **kwargs: Any) -> str:
        """MSAL's older sign-in URL; the caller keeps and checks ``state`` on the redirect.

        Other keyword arguments are added to the URL, as MSAL does (e.g. ``code_challenge``
        and ``code_challenge_method="S256"`` for PKCE). Deprecated, as in MSAL:
        :meth:`initiate_auth_code_flow` does all of this itself.
        """
        warnings.warn("Change your get_authorization_request_url() to initiate_auth_code_flow()",
                      DeprecationWarning, stacklevel=2)
        if response_type != "code":
            raise ConfigurationError("nbauth supports only response_type='code' (no implicit grant)")
        params = {"client_id": self.client_id, "response_type": "code", "redirect_uri": redirect_uri,
                  "scope": " ".join(self.service.requested_scopes(scopes)), "state": state, "nonce": nonce,
                  "prompt": prompt, "login_hint": login_hint, "domain_hint": domain_hint,
                  "claims": self.service.claims(claims_challenge)}
        params.update(_extra_url_params(kwargs))
        endpoint = self._authorization_endpoint()
        query = urlencode({k: v for k, v in params.items() if v is not None})
        return f"{endpoint}{'&' if '?' in endpoint else '?'}{query}"

    @errors_as_results
    def acquire_token_by_authorization_code(self, code: str, scopes: List[str], redirect_uri: Optional[str] = None,
                                            nonce: Optional[str] = None, claims_challenge: Optional[str] = None,
                                            *, data: Optional[Mapping[str, str]] = None, **kwargs: Any) -> RedactedDict:
        """Redeem a code from :meth:`get_authorization_request_url`'s sign-in (MSAL's older pair).

        ``nonce``, when the URL carried one, must be in the ID token. ``data={"code_verifier":
        ...}`` (MSAL's way) goes with a URL that carried a PKCE challenge.
        """
        warnings.warn("Change your acquire_token_by_authorization_code() to acquire_token_by_auth_code_flow()",
                      DeprecationWarning, stacklevel=3)
        check_keywords("acquire_token_by_authorization_code", kwargs)
        if not isinstance(code, str) or not code:
            raise ConfigurationError("code must be the non-empty authorization code from the redirect")
        requested = self.service.requested_scopes(scopes)
        unknown = sorted(set(data or {}) - {"code_verifier"})
        if unknown:
            raise ConfigurationError(f"data may only hold code_verifier, not {unknown}")
        code_verifier = (data or {}).get("code_verifier")
        if code_verifier is not None:
            grant = authorization_code_grant(code, _check_redirect_uri(redirect_uri), code_verifier, requested)
        else:
            fields = {"code": code, "redirect_uri": redirect_uri, "scope": " ".join(requested)}
            grant = Grant(AUTHORIZATION_CODE, {k: v for k, v in fields.items() if v}, repeatable=False)
        return self.service.redeem(grant, requested, nonce=nonce, claims_challenge=claims_challenge)

    def _authorization_endpoint(self, client_info: bool = False) -> str:
        """The provider's authorization endpoint; with ``client_info``, Entra's asks (as msal's sign-ins
        do) for the ``client_info`` whose ids route the code's redemption (``X-AnchorMailbox``)."""
        endpoint = self.service.metadata().authorization_endpoint
        if not endpoint:
            raise ConfigurationError(f"the provider at {self.authority.url} has no authorization_endpoint")
        if client_info and self.authority.is_entra:
            return f"{endpoint}{'&' if '?' in endpoint else '?'}client_info=1"
        return endpoint
