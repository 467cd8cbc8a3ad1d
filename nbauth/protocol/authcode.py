"""The authorization code grant's front channel: the sign-in URL and the redirect back.

The URL carries ``state`` (CSRF), ``nonce`` (ID-token replay) and a PKCE S256 challenge
(RFC 7636); the redirect is accepted only with the same ``state``, and with the provider's
``iss`` (RFC 9207) when it sends one or advertises that it does.
"""
from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from typing import Any, Mapping, Optional, Sequence
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from ..exceptions import ConfigurationError, FlowError, OAuthError
from . import constant_time
from .pkce import Pkce, new_pkce


@dataclass(frozen=True)
class AuthorizationRequest:
    """One sign-in attempt: the URL to open and what its redirect must match."""

    redirect_uri: str
    scopes: Sequence[str]
    url: str = field(repr=False)  # it carries state and nonce
    state: str = field(repr=False)
    nonce: str = field(repr=False)
    pkce: Pkce = field(repr=False)
    max_age: Optional[int] = None  # asked for: the ID token's auth_time must then be this recent


def _with_query(url: str, params: Mapping[str, str]) -> str:
    parts = urlsplit(url)
    query = parse_qsl(parts.query, keep_blank_values=True) + list(params.items())
    return urlunsplit((parts.scheme, parts.netloc, parts.path, urlencode(query), ""))


def _optional_params(prompt: Optional[str], login_hint: Optional[str], domain_hint: Optional[str],
                     max_age: Optional[int], claims: Optional[str]) -> dict:
    if max_age is not None and (isinstance(max_age, bool) or not isinstance(max_age, int) or max_age < 0):
        raise ConfigurationError(f"max_age must be a non-negative number of seconds, not {max_age!r}")
    optional = {"prompt": prompt, "login_hint": login_hint, "domain_hint": domain_hint,
                "max_age": None if max_age is None else str(max_age), "claims": claims}
    return {k: v for k, v in optional.items() if v is not None}


def new_authorization_request(
    authorization_endpoint: str, client_id: str, redirect_uri: str, scopes: Sequence[str], *,
    prompt: Optional[str] = None, login_hint: Optional[str] = None, domain_hint: Optional[str] = None,
    max_age: Optional[int] = None, claims: Optional[str] = None,
    state: Optional[str] = None, nonce: Optional[str] = None, pkce: Optional[Pkce] = None,
) -> AuthorizationRequest:
    """A sign-in URL (response_type=code) with fresh state, nonce and PKCE unless given."""
    state = state or secrets.token_urlsafe(24)
    nonce = nonce or secrets.token_urlsafe(24)
    pkce = pkce or new_pkce()
    params = {
        "client_id": client_id, "response_type": "code", "redirect_uri": redirect_uri,
        "scope": " ".join(scopes), "state": state, "nonce": nonce,
        "code_challenge": pkce.challenge, "code_challenge_method": pkce.method,
        **_optional_params(prompt, login_hint, domain_hint, max_age, claims),
    }
    return AuthorizationRequest(url=_with_query(authorization_endpoint, params), redirect_uri=redirect_uri,
                                scopes=tuple(scopes), state=state, nonce=nonce, pkce=pkce, max_age=max_age)


def state_matches(params: Mapping[str, str], expected_state: str) -> bool:
    """True when the redirect's ``state`` is this sign-in's (compared in constant time)."""
    return constant_time.equals(params.get("state"), expected_state)


def code_from_redirect(params: Mapping[str, str], request: AuthorizationRequest, *, issuer: str,
                       issuer_required: bool = False) -> str:
    """The authorization code from the redirect's query parameters, after checking them.

    Raises FlowError when ``state`` or ``iss`` does not match (the response is not this
    sign-in's), OAuthError for the provider's error response, FlowError when there is no code.
    """
    if not state_matches(params, request.state):
        raise FlowError("the sign-in response's state does not match this sign-in; it was ignored")
    iss = _text(params, "iss")
    if iss is None and issuer_required:
        raise FlowError("the sign-in response has no iss, which the provider says it always sends (RFC 9207)")
    if iss is not None and iss != issuer:
        raise FlowError(f"the sign-in response comes from issuer {iss!r}, not {issuer!r} (RFC 9207)")
    error = _text(params, "error")
    if error:
        raise OAuthError(error, _text(params, "error_description") or "")
    code = _text(params, "code")
    if not code:
        raise FlowError("the sign-in response has neither a code nor an error")
    return code


def _text(params: Mapping[str, Any], name: str) -> Optional[str]:
    """A redirect parameter, which is text when present (a web framework may hand over anything)."""
    value = params.get(name)
    if value is not None and not isinstance(value, str):
        raise FlowError(f"the sign-in response's {name} is not a string")
    return value
