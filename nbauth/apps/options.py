"""The applications' constructor options that need checking: MSAL's that nbauth refuses, and
``exclude_scopes``. Each misuse is a ``ConfigurationError`` naming the option (and why: see
``keywords.REFUSED``)."""
from __future__ import annotations

from typing import Any, Dict, List, Optional

from ..exceptions import ConfigurationError
from ..protocol import scopes as scope_rules
from .keywords import REFUSED

#: MSAL options nbauth does not implement, refused unless left at MSAL's default.
UNSUPPORTED_OPTIONS = {"verify": True, "proxies": None, "azure_region": None, "allow_broker": None}


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
