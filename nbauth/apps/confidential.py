"""``ConfidentialClientApplication``: MSAL's API for apps that can keep a credential (services,
scheduled notebooks, web apps).

Tokens for the app itself (client credentials), tokens on behalf of a user whose token the app
was called with (the jwt-bearer grant, as Entra's on-behalf-of), and the web authorization-code
flow (``AuthCodeFlows``). The credential is any of MSAL's forms (``nbauth.credentials.client_credential``).
Concurrent requests for the same token share one request to the provider.
"""
from __future__ import annotations

import base64
import hashlib
from typing import Any, List, Optional

from ..clock import Clock
from ..credentials.client_credential import parse_client_credential
from ..exceptions import ConfigurationError
from ..protocol import scopes as scope_rules
from ..protocol.client_auth import ClientAuth
from ..protocol.oauth2 import CLIENT_CREDENTIALS, JWT_BEARER, Grant
from ..redact import RedactedDict, conceal
from .auth_code import AuthCodeFlows
from .base import errors_as_results


def user_assertion_hash(user_assertion: str) -> str:
    """The cache's key for an on-behalf-of assertion: base64url(SHA-256), unpadded, as MSAL .NET,
    Java and Node compute it; the assertion itself is never stored."""
    digest = hashlib.sha256(user_assertion.encode("utf-8")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def client_credentials_grant(scopes: List[str]) -> Grant:
    return Grant(CLIENT_CREDENTIALS, {"scope": " ".join(scopes)} if scopes else {})


def on_behalf_of_grant(user_assertion: str, scopes: List[str]) -> Grant:
    """RFC 7523's jwt-bearer grant with Entra's ``requested_token_use=on_behalf_of``."""
    return Grant(JWT_BEARER, {"assertion": user_assertion, "requested_token_use": "on_behalf_of",
                              "scope": " ".join(scopes)})


class ConfidentialClientApplication(AuthCodeFlows):
    """MSAL's ``ConfidentialClientApplication`` against Entra ID or any OpenID provider.

    ``client_credential`` is a secret string, ``{"private_key": PEM, "thumbprint" or
    "public_certificate": ..., "passphrase": ...}``, ``{"private_key_pfx_path": ...}`` or
    ``{"client_assertion": str or callable}``; it is checked here (a malformed PEM, a wrong
    passphrase or an expired certificate raise ``ConfigurationError``), without any I/O.
    """

    def __init__(self, client_id: str, client_credential: Any, **kwargs: Any):
        if client_credential is None:
            raise ConfigurationError("a ConfidentialClientApplication needs a client_credential; "
                                     "use PublicClientApplication for an app without one")
        # Concealed: its repr is masked wherever the application is shown (vars(app), tracebacks).
        super().__init__(client_id, conceal(client_credential), **kwargs)

    def _make_client_auth(self, client_credential: Any, clock: Clock) -> ClientAuth:
        return parse_client_credential(client_credential, self.client_id, adfs=self.authority.kind == "adfs",
                                       client_claims=self.client_claims, clock=clock)

    # ---- the app's own tokens ----------------------------------------------------------------
    @errors_as_results
    def acquire_token_for_client(self, scopes: List[str], claims_challenge: Optional[str] = None,
                                 **kwargs: Any) -> RedactedDict:
        """A token for the app itself: from the cache while fresh, else by client credentials.

        ``token_source`` in the result says which (``cache`` or ``identity_provider``). A cached
        token due for refresh (``refresh_on``) is still returned if asking again fails. A
        ``claims_challenge`` skips the cache.
        """
        if kwargs.get("force_refresh"):
            raise ConfigurationError("acquire_token_for_client does not take force_refresh (as in MSAL); "
                                     "use remove_tokens_for_client() first")
        requested = scope_rules.normalize(scopes)
        return self.service.app_token(client_credentials_grant(requested), requested, claims_challenge=claims_challenge,
                                      owner={"home_account_id": None})

    def remove_tokens_for_client(self) -> None:
        """Forget every token :meth:`acquire_token_for_client` cached for this app."""
        self.service.remove_app_tokens()

    # ---- on behalf of a user -----------------------------------------------------------------
    @errors_as_results
    def acquire_token_on_behalf_of(self, user_assertion: str, scopes: List[str],
                                   claims_challenge: Optional[str] = None, **kwargs: Any) -> RedactedDict:
        """Trade the token this app was called with (``user_assertion``) for one to a downstream
        API, on behalf of that user.

        Cached by the assertion's hash: the same assertion is answered from the cache while
        its token is fresh.
        """
        if not isinstance(user_assertion, str) or not user_assertion:
            raise ConfigurationError("user_assertion must be the non-empty token this app was called with")
        requested = self.service.requested_scopes(scopes)
        owner = {"user_assertion_hash": user_assertion_hash(user_assertion)}
        return self.service.app_token(on_behalf_of_grant(user_assertion, requested), requested,
                                      claims_challenge=claims_challenge, owner=owner, cache_data=owner)
