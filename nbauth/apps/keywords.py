"""The keywords of MSAL's methods beyond those nbauth's methods name: refused by name, saying why.

MSAL hands a method's other keyword arguments to the HTTP library (``requests``), so there
``headers=``, ``timeout=`` or ``proxies=`` change one request, and a misspelt keyword fails
only once a request is sent. nbauth makes its requests itself and configures them once (on the
``http_client`` given to the application), so it refuses those by name before anything is sent,
as it does keywords MSAL does not know at all. ``data=`` (extra body fields) is taken: see
:func:`extra_fields`.
"""
from __future__ import annotations

from typing import Any, Dict, Mapping, Optional

from ..exceptions import ConfigurationError

#: MSAL's parameters that nbauth does not implement, and why: refused when given a value.
REFUSED = {
    "auth_scheme": "nbauth does not support auth_scheme: proof-of-possession tokens need MSAL's broker",
    "forwarded_client_claims": "nbauth does not support forwarded_client_claims (claims signed by a "
                               "client that forwards them; pass claims_challenge for a resource's claims)",
    "azure_region": "nbauth does not support azure_region (Entra's regional endpoints)",
    "allow_broker": "nbauth does not support allow_broker (there is no broker in nbauth)",
    "enable_broker_on_windows": "nbauth does not support enable_broker_on_windows (no broker)",
    "enable_broker_on_mac": "nbauth does not support enable_broker_on_mac (no broker)",
    "enable_broker_on_linux": "nbauth does not support enable_broker_on_linux (no broker)",
    "enable_broker_on_wsl": "nbauth does not support enable_broker_on_wsl (no broker)",
    "enable_msa_passthrough": "nbauth does not support enable_msa_passthrough (a broker option)",
    "enable_pii_log": "nbauth does not support enable_pii_log: MSAL uses it to put personal data in its broker's "
                      "logs, and nbauth has no broker (leave it out; nbauth's logs stay free of tokens and secrets)",
    "verify": "nbauth does not support MSAL's verify option (pass http_client= a configured requests.Session)",
    "proxies": "nbauth does not support MSAL's proxies option (pass http_client= a configured requests.Session)",
}
#: What MSAL passes to ``requests`` for one call; nbauth configures HTTP on the ``http_client``.
HTTP_KEYWORDS = frozenset({"headers", "params", "timeout", "proxies", "verify", "cookies", "cert", "allow_redirects",
                           "stream", "auth", "files", "json", "hooks", "post"})
#: Body fields nbauth sends itself, which ``data=`` may not replace.
_SENT_BY_NBAUTH = frozenset({"grant_type", "client_id", "client_secret", "client_assertion",
                             "client_assertion_type", "scope", "claims", "client_info"})


def check_keywords(method: str, given: Mapping[str, Any]) -> None:
    """Refuse each keyword ``method`` was given beyond those it names: TypeError for one that
    belongs to the HTTP library or to no MSAL method, ValueError (``ConfigurationError``) for
    an MSAL option nbauth does not implement given a value other than its default."""
    for name, value in given.items():
        if name in HTTP_KEYWORDS:
            raise TypeError(f"{method}() does not take {name}=: nbauth makes its HTTP requests itself "
                            "(configure them on the http_client= given to the application)")
        elif name in REFUSED:
            if value is not None and value is not False:
                raise ConfigurationError(f"{method}(): {REFUSED[name]}")
        else:
            raise TypeError(f"{method}() got an unexpected keyword argument {name!r}")


def extra_fields(data: Optional[Mapping[str, Any]]) -> Dict[str, str]:
    """MSAL's ``data=``: extra body fields of a token request, checked (strings only, none of
    the fields nbauth sends itself)."""
    if data is None:
        return {}
    if not isinstance(data, Mapping) or any(not isinstance(k, str) or not isinstance(v, str) for k, v in data.items()):
        raise ConfigurationError("data must be a dict of extra request fields, strings to strings")
    clash = sorted(set(data) & _SENT_BY_NBAUTH)
    if clash:
        raise ConfigurationError(f"data cannot set {clash}: nbauth sends them itself")
    return dict(data)

