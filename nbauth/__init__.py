"""nbauth: OAuth 2.0 / OpenID Connect tokens for notebooks and scripts, with MSAL Python's API.

``import nbauth`` is light: the applications, the cache and the notebook sign-in are imported
on first use (PEP 562), and nothing here imports requests, PyJWT, cryptography, ipywidgets,
asyncio, httpx or azure-core.
"""
from __future__ import annotations

import importlib
from typing import Any

from ._version import __version__
from .exceptions import (
    AuthorityError,
    ConfigurationError,
    DiscoveryError,
    FlowError,
    IdTokenError,
    InteractionUnavailable,
    NbauthError,
    OAuthError,
    ProtocolError,
    SignInTimeout,
    TransportError,
)

#: Public name -> the module that defines it, imported when the name is first used.
_LAZY = {
    "PublicClientApplication": "nbauth.apps.public",
    "cancel_device_flow": "nbauth.apps.public",
    "ConfidentialClientApplication": "nbauth.apps.confidential",
    "Prompt": "nbauth.apps.prompt",
    "AuthorityBuilder": "nbauth.provider.authority",
    "ManagedIdentityClient": "nbauth.managed_identity",
    "SystemAssignedManagedIdentity": "nbauth.managed_identity",
    "UserAssignedManagedIdentity": "nbauth.managed_identity",
    "ManagedIdentityError": "nbauth.managed_identity",
    "AZURE_PUBLIC": "nbauth.provider.authority",
    "AZURE_US_GOVERNMENT": "nbauth.provider.authority",
    "AZURE_GOV_FR": "nbauth.provider.authority",
    "AZURE_GOV_DE": "nbauth.provider.authority",
    "AZURE_GOV_SG": "nbauth.provider.authority",
    "TokenCache": "nbauth.cache",
    "SerializableTokenCache": "nbauth.cache",
    "PersistedTokenCache": "nbauth.cache",
    "login": "nbauth.notebook",
    "SignIn": "nbauth.notebook",
    "BearerAuth": "nbauth.integrations.requests_auth",
    "authorized_session": "nbauth.integrations.requests_auth",
    "NbauthCredential": "nbauth.integrations.azure",
    "AsyncNbauthCredential": "nbauth.integrations.aio",
    "HttpxBearerAuth": "nbauth.integrations.httpx_auth",
    "ClusterSignIn": "nbauth.cluster",
}

__all__ = sorted([
    "__version__", "AuthorityError", "ConfigurationError", "DiscoveryError", "FlowError", "IdTokenError",
    "InteractionUnavailable", "NbauthError", "OAuthError", "ProtocolError", "SignInTimeout", "TransportError",
    *_LAZY,
])


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'nbauth' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list:
    return __all__
