"""Token requests and responses (RFC 6749): grant bodies in, checked response dicts out."""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping, Optional, Protocol, Sequence
from urllib.parse import urlsplit

from .. import strict_json
from ..exceptions import ConfigurationError, OAuthError, ProtocolError
from ..redact import conceal_tokens

AUTHORIZATION_CODE = "authorization_code"
REFRESH_TOKEN = "refresh_token"
DEVICE_CODE = "urn:ietf:params:oauth:grant-type:device_code"
PASSWORD = "password"
CLIENT_CREDENTIALS = "client_credentials"
JWT_BEARER = "urn:ietf:params:oauth:grant-type:jwt-bearer"

#: Where an error response's correlation id may be, besides the body (Entra's headers).
_CORRELATION_HEADERS = ("x-ms-correlation-id", "client-request-id")
_NUMERIC_FIELDS = ("expires_in", "ext_expires_in", "refresh_in", "expires_on")  # expires_on: Entra v1
#: The longest believable number of seconds (a lifetime, or an epoch time), about 3,000 years.
MAX_SECONDS = 10 ** 11
_STRING_FIELDS = ("refresh_token", "id_token", "scope")


class Response(Protocol):
    """What the parsers read from an HTTP answer (``nbauth.transport.HttpResponse`` fits)."""

    status_code: int
    text: str

    def header(self, name: str) -> Optional[str]: ...


@dataclass(frozen=True)
class Grant:
    """One token request: its grant type and form fields, and whether it may be sent twice.

    ``repeatable`` is False for grants the server consumes on use (an authorization code, a
    rotating refresh token), so the transport never retries them after they may have arrived.
    The repr names the fields but never shows their values.
    """

    grant_type: str
    params: Mapping[str, str] = field(default_factory=dict)
    repeatable: bool = True

    def __repr__(self) -> str:
        return f"Grant({self.grant_type!r}, fields={sorted(self.params)}, repeatable={self.repeatable})"

    def form(self, extra: Optional[Mapping[str, Any]] = None) -> dict:
        """The form body: grant type, the grant's fields, then ``extra`` (None values dropped)."""
        body = {"grant_type": self.grant_type, **self.params}
        body.update({k: v for k, v in (extra or {}).items() if v is not None})
        return body


def _scope_param(scopes: Optional[Iterable[str]]) -> dict:
    return {"scope": " ".join(scopes)} if scopes else {}


def authorization_code_grant(code: str, redirect_uri: str, code_verifier: str,
                             scopes: Optional[Sequence[str]] = None) -> Grant:
    params = {"code": code, "redirect_uri": redirect_uri, "code_verifier": code_verifier}
    return Grant(AUTHORIZATION_CODE, {**params, **_scope_param(scopes)}, repeatable=False)


def refresh_token_grant(refresh_token: str, scopes: Optional[Sequence[str]] = None) -> Grant:
    return Grant(REFRESH_TOKEN, {"refresh_token": refresh_token, **_scope_param(scopes)}, repeatable=False)


def device_code_grant(device_code: str) -> Grant:
    return Grant(DEVICE_CODE, {"device_code": device_code}, repeatable=True)


def password_grant(username: str, password: str, scopes: Sequence[str]) -> Grant:
    return Grant(PASSWORD, {"username": username, "password": password, **_scope_param(scopes)})


def merge_claims(capabilities: Optional[Sequence[str]], claims_challenge: Optional[str]) -> Optional[str]:
    """The ``claims`` parameter: a resource's claims challenge plus the client's capabilities
    (``xms_cc``), as MSAL sends them."""
    if not capabilities:
        return claims_challenge or None
    try:
        claims = strict_json.loads(claims_challenge) if claims_challenge else {}
    except ValueError:
        raise ConfigurationError("claims_challenge is not a JSON object") from None
    if not isinstance(claims, dict):
        raise ConfigurationError("claims_challenge is not a JSON object")
    access_token = claims.setdefault("access_token", {})
    access_token["xms_cc"] = {"values": list(capabilities)}
    return json.dumps(claims, separators=(",", ":"))


def parse_json_object(response: Response, what: str) -> dict:
    """The body as a JSON object; an OAuth error body raises OAuthError, anything else
    that is not a JSON object raises ProtocolError naming ``what`` answered it."""
    if 300 <= response.status_code < 400:
        raise ProtocolError(f"the {what} answered HTTP {response.status_code}, a redirect (to "
                            f"{_redirect_host(response)}), which nbauth does not follow")
    try:
        body = strict_json.loads(response.text)
    except ValueError:
        body = None
    if not isinstance(body, dict):
        raise ProtocolError(f"the {what} answered HTTP {response.status_code} with a body that is not a JSON object",
                            status=response.status_code, retry_after=response.header("Retry-After"))
    if "error" in body:
        raise oauth_error(body, response)
    if response.status_code >= 400:
        raise ProtocolError(f"the {what} answered HTTP {response.status_code} without an OAuth error",
                            status=response.status_code, retry_after=response.header("Retry-After"))
    return body


def _redirect_host(response: Response) -> str:
    try:
        return urlsplit(response.header("Location") or "").hostname or "nowhere"
    except ValueError:
        return "an invalid address"


def oauth_error(body: Mapping[str, Any], response: Response) -> OAuthError:
    """An OAuthError from an RFC 6749 section 5.2 error body (with Entra's extra fields)."""
    error = body.get("error")
    if not isinstance(error, str) or not error:
        raise ProtocolError(f"an error response (HTTP {response.status_code}) has no error code")
    description = body.get("error_description")
    codes = body.get("error_codes")
    correlation_id = body.get("correlation_id")
    if not isinstance(correlation_id, str):
        correlation_id = next(filter(None, map(response.header, _CORRELATION_HEADERS)), None)
    claims = body.get("claims")
    return OAuthError(
        error, description if isinstance(description, str) else "",
        error_codes=[c for c in codes if type(c) is int] if isinstance(codes, list) else None,  # not bools
        correlation_id=correlation_id, status=response.status_code,
        claims=claims if isinstance(claims, str) else None, retry_after=response.header("Retry-After"))


def as_seconds(value: Any, name: str) -> int:
    """A number of seconds given as a JSON number or a numeric string (Entra's v1 endpoints), as
    int; ProtocolError unless it is between 0 and ``MAX_SECONDS`` (so never NaN or infinite)."""
    if isinstance(value, bool):
        raise ProtocolError(f"{name} is not a number of seconds")
    if isinstance(value, str):
        try:
            value = float(value.strip())
        except ValueError:
            raise ProtocolError(f"{name} is not a number of seconds") from None
    if not isinstance(value, (int, float)) or not 0 <= value <= MAX_SECONDS:  # NaN fails too
        raise ProtocolError(f"{name} is not a non-negative number of seconds (at most {MAX_SECONDS})")
    return int(value)


def parse_token_response(response: Response) -> dict:
    """A successful token response (RFC 6749 section 5.1), checked and with numeric lifetimes.

    Raises OAuthError for an error response and ProtocolError for anything malformed; neither
    message contains a token. The tokens are ``Secret`` strings from here on (masked reprs).
    """
    body = parse_json_object(response, "token endpoint")
    for name in ("access_token", "token_type"):
        if not isinstance(body.get(name), str) or not body[name]:
            raise ProtocolError(f"the token response has no {name}")
    for name in _STRING_FIELDS:
        if name in body and not isinstance(body[name], str):
            raise ProtocolError(f"the token response's {name} is not a string")
    for name in _NUMERIC_FIELDS:
        if name in body:
            body[name] = as_seconds(body[name], name)
    return conceal_tokens(body)
