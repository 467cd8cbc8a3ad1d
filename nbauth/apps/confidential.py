"""``ConfidentialClientApplication``: MSAL's API for apps that can keep a credential (services,
scheduled notebooks, web apps).

Tokens for the app itself (client credentials), tokens on behalf of a user whose token the app
was called with (the jwt-bearer grant, as Entra's on-behalf-of), and the web authorization-code
flow (``AuthCodeFlows``). The credential is any of MSAL's forms (``nbauth.credentials.client_credential``).
Concurrent requests for the same token share one request to the provider; a token due for refresh
but still valid is served while that request runs in the background.
"""
from __future__ import annotations

import base64
import hashlib
import warnings
from typing import Any, Dict, List, Mapping, Optional

from ..clock import Clock
from ..credentials.client_credential import parse_client_credential
from ..exceptions import ConfigurationError
from ..protocol import scopes as scope_rules
from ..protocol.client_auth import ClientAuth
from ..protocol.oauth2 import CLIENT_CREDENTIALS, JWT_BEARER, Grant
from ..cache.schema import ext_cache_key
from ..redact import RedactedDict, conceal
from ..tokens.result import TokenResult
from ..tokens.anchor import by_object_id, by_username
from .auth_code import AuthCodeFlows
from .base import errors_as_results
from .keywords import check_keywords, extra_fields


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


def user_fic_grant(assertion: str, scopes: List[str], username: Optional[str], user_object_id: Optional[str]) -> Grant:
    """Entra's ``user_fic`` grant: a federated identity credential (e.g. an agent's token) for a
    user's token, the user named by object id or by name (one of them)."""
    if not isinstance(assertion, str) or not assertion:
        raise ConfigurationError("assertion is required and must be a non-empty string")
    if not username and not user_object_id:
        raise ConfigurationError("either username or user_object_id must be given")
    if username and user_object_id:
        raise ConfigurationError("username and user_object_id are mutually exclusive")
    user = {"user_id": str(user_object_id)} if user_object_id else {"username": str(username)}
    return Grant("user_fic", {"user_federated_identity_credential": assertion, "scope": " ".join(scopes),
                              "client_info": "1", **user})


def _warn_if_static_assertion(credential: Any) -> None:
    if isinstance(credential, Mapping) and isinstance(credential.get("client_assertion"), (str, bytes)):
        warnings.warn("A static string client_assertion expires and is not renewed: pass a callable that "
                      "returns a fresh assertion instead (as MSAL advises)", DeprecationWarning, stacklevel=3)


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
        _warn_if_static_assertion(client_credential)
        # Concealed: its repr is masked wherever the application is shown (vars(app), tracebacks).
        super().__init__(client_id, conceal(client_credential), **kwargs)

    def _make_client_auth(self, client_credential: Any, clock: Clock) -> ClientAuth:
        return parse_client_credential(client_credential, self.client_id, adfs=self.authority.kind == "adfs",
                                       client_claims=self.client_claims, clock=clock)

    # ---- the app's own tokens ----------------------------------------------------------------
    @errors_as_results
    def acquire_token_for_client(self, scopes: List[str], claims_challenge: Optional[str] = None,
                                 fmi_path: Optional[str] = None, *, data: Optional[Mapping[str, str]] = None,
                                 **kwargs: Any) -> RedactedDict:
        """A token for the app itself: from the cache while fresh, else by client credentials.

        ``token_source`` in the result says which (``cache`` or ``identity_provider``). A cached
        token due for refresh (its ``refresh_on``, else nine tenths through its life) but still
        valid is returned at once while one refresh runs in the background (msal would ask in this
        call). A ``claims_challenge`` skips the cache. ``fmi_path`` and ``data=`` (extra body fields)
        are sent and key the cache, as in MSAL: tokens asked with other values are kept apart.
        """
        if kwargs.get("force_refresh"):
            raise ConfigurationError("acquire_token_for_client does not take force_refresh (as in MSAL); "
                                     "use remove_tokens_for_client() first")
        check_keywords("acquire_token_for_client", kwargs)
        return self.token_for_client(scopes, claims_challenge,
                                     fields=dict(extra_fields(data), **({"fmi_path": fmi_path} if fmi_path else {})))

    def token_for_client(self, scopes: List[str], claims_challenge: Optional[str] = None, *,
                         fields: Optional[Mapping[str, str]] = None, at_once: bool = False) -> Optional[TokenResult]:
        """:meth:`acquire_token_for_client` for nbauth's own callers (the integrations): the
        engine's ``TokenResult``, the provider's refusal as ``OAuthError``. ``fields``: extra body
        fields; ``at_once``: only a token the cache gives without waiting on the network (fresh,
        or due while one refresh runs behind it), else None (an event loop's fast path)."""
        requested = scope_rules.normalize(scopes)
        return self._app_token(client_credentials_grant(requested), requested, claims_challenge,
                               {"home_account_id": None}, dict(fields or {}), at_once=at_once)

    def _app_token(self, grant: Grant, requested: List[str], claims_challenge: Optional[str],
                   owner: Dict[str, Optional[str]], fields: Dict[str, str], at_once: bool = False) -> Any:
        """``service.app_token`` with extra body fields, which key the cache (``ext_cache_key``)."""
        ext = ext_cache_key(fields)
        cache_data = {k: v for k, v in owner.items() if v is not None and k != "home_account_id"}
        return self.service.app_token(grant, requested, claims_challenge=claims_challenge,
                                      owner=dict(owner, **({"ext_cache_key": ext} if ext else {})),
                                      data=fields, cache_data=cache_data or None, at_once=at_once)

    def remove_tokens_for_client(self) -> None:
        """Forget every token :meth:`acquire_token_for_client` cached for this app."""
        self.service.remove_app_tokens()

    # ---- on behalf of a user -----------------------------------------------------------------
    @errors_as_results
    def acquire_token_on_behalf_of(self, user_assertion: str, scopes: List[str],
                                   claims_challenge: Optional[str] = None, *,
                                   data: Optional[Mapping[str, str]] = None, **kwargs: Any) -> RedactedDict:
        """Trade the token this app was called with (``user_assertion``) for one to a downstream
        API, on behalf of that user.

        Cached by the assertion's hash: the same assertion is answered from the cache while its
        token is valid (renewed in the background once due, as the app's own token is). ``data=`` adds body fields (and keys the cache), as in MSAL.
        """
        check_keywords("acquire_token_on_behalf_of", kwargs)
        if not isinstance(user_assertion, str) or not user_assertion:
            raise ConfigurationError("user_assertion must be the non-empty token this app was called with")
        requested = self.service.requested_scopes(scopes)
        owner = {"user_assertion_hash": user_assertion_hash(user_assertion)}
        return self._app_token(on_behalf_of_grant(user_assertion, requested), requested, claims_challenge, owner,
                               extra_fields(data))

    @errors_as_results
    def acquire_token_by_user_federated_identity_credential(
            self, scopes: List[str], assertion: str, username: Optional[str] = None,
            user_object_id: Optional[str] = None, claims_challenge: Optional[str] = None, *,
            data: Optional[Mapping[str, str]] = None, **kwargs: Any) -> RedactedDict:
        """A user's token for a federated identity credential (``assertion``, e.g. an agent
        instance's token), the user named by ``username`` or ``user_object_id`` (Entra's
        ``user_fic`` grant, as MSAL, with its ``X-AnchorMailbox`` routing hint). The tokens go
        into the cache under that user's account."""
        check_keywords("acquire_token_by_user_federated_identity_credential", kwargs)
        requested = self.service.requested_scopes(scopes)
        grant = user_fic_grant(assertion, requested, username, user_object_id)
        return self._redeem(grant, requested, data, claims_challenge=claims_challenge,
                            headers=by_username(username) if username else by_object_id(user_object_id, self.authority.tenant))
