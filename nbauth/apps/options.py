"""The applications' constructor options that need checking: MSAL's that nbauth refuses,
``exclude_scopes``, ``instance_discovery``, and ``app_name`` / ``app_version`` (sent as headers).
Each misuse is a ``ConfigurationError`` naming the option (and why: see ``keywords.REFUSED``)."""
from __future__ import annotations

from typing import Any, Dict, List, Optional

from ..exceptions import ConfigurationError
from ..protocol import scopes as scope_rules
from .keywords import REFUSED

#: MSAL options nbauth does not implement, refused unless left at MSAL's default.
UNSUPPORTED_OPTIONS = {"verify": True, "proxies": None, "azure_region": None, "allow_broker": None,
                       "enable_pii_log": None}


def check_exclude_scopes(exclude_scopes: Optional[List[str]]) -> frozenset:
    """The scopes never to ask for, lowercased (``openid`` cannot be one)."""
    if exclude_scopes is not None and not isinstance(exclude_scopes, list):
        raise ConfigurationError("exclude_scopes must be a list of scope strings")
    excluded = frozenset(s.lower() for s in scope_rules.normalize(exclude_scopes or [], "exclude_scopes"))
    if "openid" in excluded:
        raise ConfigurationError("exclude_scopes cannot exclude openid")
    return excluded


def refuse_unsupported(options: Dict[str, Any]) -> None:
    """Refuse any of ``UNSUPPORTED_OPTIONS`` given a value other than MSAL's default."""
    for name, value in options.items():
        default = UNSUPPORTED_OPTIONS[name]
        if value != default and (default is not None or value):  # e.g. allow_broker=False is fine
            raise ConfigurationError(REFUSED[name])


def app_headers(app_name: Optional[str], app_version: Optional[str]) -> Dict[str, str]:
    """MSAL's ``x-app-name`` / ``x-app-ver`` headers for token requests (telemetry for the
    provider), from ``app_name`` / ``app_version`` when given."""
    headers = {}
    for option, header, value in (("app_name", "x-app-name", app_name), ("app_version", "x-app-ver", app_version)):
        if value is None or value == "":
            continue
        if not isinstance(value, str) or not value.isprintable() or not value.isascii():
            raise ConfigurationError(f"{option} must be a string of printable ASCII characters (it is sent as "
                                     f"the {header} header)")
        headers[header] = value
    return headers


def check_instance_discovery(instance_discovery: Any) -> Optional[bool]:
    """``True``, ``False`` or ``None``: nbauth knows Microsoft's clouds and their aliases itself,
    so MSAL's other form (the URL of an instance-discovery endpoint) is refused."""
    if instance_discovery is not None and not isinstance(instance_discovery, bool):
        raise ConfigurationError("instance_discovery takes True, False or None: nbauth asks no instance-discovery "
                                 "endpoint (it knows Microsoft's clouds and their aliases), so an endpoint URL "
                                 "cannot be used")
    return instance_discovery
