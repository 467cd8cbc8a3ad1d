"""The one driver that sends a grant to a token endpoint and returns the parsed answer."""
from __future__ import annotations

from typing import Any, Mapping, Optional

from ..protocol.client_auth import ClientAuth
from ..protocol.oauth2 import Grant, parse_token_response
from ..transport import HttpResponse, Transport


def send_authenticated(transport: Transport, url: str, data: dict, client_auth: ClientAuth, *,
                       token_endpoint: str, repeatable: bool,
                       headers: Optional[Mapping[str, str]] = None) -> HttpResponse:
    """POST ``data`` to ``url`` with the client's authentication added (also used for the
    device authorization endpoint; ``token_endpoint`` is what client assertions are for)."""
    request_headers = {"Accept": "application/json", **(headers or {})}
    client_auth.apply(data, request_headers, token_endpoint)
    return transport.post_form(url, data, headers=request_headers, repeatable=repeatable)


def redeem(transport: Transport, token_endpoint: str, grant: Grant, client_auth: ClientAuth, *,
           extra: Optional[Mapping[str, Any]] = None, headers: Optional[Mapping[str, str]] = None) -> dict:
    """Send ``grant`` (plus ``extra`` form fields) and return the checked token response.

    Raises OAuthError for the provider's error answer, ProtocolError for a malformed one and
    TransportError when the network fails; a consumable grant is never retried once sent.
    """
    response = send_authenticated(transport, token_endpoint, grant.form(extra), client_auth,
                                  token_endpoint=token_endpoint, repeatable=grant.repeatable, headers=headers)
    return parse_token_response(response)
