"""What the ``nbauth`` command signs in with: options, environment, then what ``login`` saved.

``nbauth login`` saves its client id, authority, scopes and the account it signed in to a small
owner-only JSON file beside the token cache (``token_cache.cli.json``), so later commands need
no arguments. Each setting comes from the command line if given there, else from its
environment variable, else from that file. The file holds no secrets, but it says where to sign
in, so it is kept like the cache (``cache.cachefile``): never read through a symbolic link,
refused (ConfigurationError) when it or its folder belongs to another user, narrowed to 0600
with a warning when open to others, replaced atomically.
"""
from __future__ import annotations

import json
import re
import warnings
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, List, Mapping, Optional

from .. import strict_json
from ..cache.cachefile import CacheFile, DamagedFile
from ..cache.folder import Folder, Refused
from ..exceptions import CacheWarning, ConfigurationError

#: Setting -> its environment variable (the cache path's is the cache's own NBAUTH_CACHE_PATH).
ENVIRONMENT = {
    "client_id": "NBAUTH_CLIENT_ID",
    "authority": "NBAUTH_AUTHORITY",
    "oidc_authority": "NBAUTH_OIDC_AUTHORITY",
    "scopes": "NBAUTH_SCOPES",
    "username": "NBAUTH_USERNAME",
}
SUFFIX = ".cli.json"
_AUTHORITIES = ("authority", "oidc_authority")


@dataclass(frozen=True)
class Settings:
    """The settings a command runs with (None / empty where nothing gave one)."""

    client_id: Optional[str] = None
    authority: Optional[str] = None
    oidc_authority: Optional[str] = None
    scopes: List[str] = field(default_factory=list)
    username: Optional[str] = None

    def saved_form(self) -> dict:
        return {name: value for name, value in asdict(self).items() if value}


def split_scopes(values: Any) -> List[str]:
    """Scopes from a string or strings separated by spaces or commas."""
    if isinstance(values, str):
        values = [values]
    return [scope for value in values or [] for scope in re.split(r"[\s,]+", value) if scope]


def settings_path(cache_path: Path) -> Path:
    """Where ``login`` saves settings for the cache at ``cache_path``."""
    return cache_path.with_name(cache_path.stem + SUFFIX)


def resolve(given: Mapping[str, Any], environ: Mapping[str, str], saved: Mapping[str, Any]) -> Settings:
    """Each setting from ``given`` (command line), else ``environ``, else ``saved``.

    ``authority`` and ``oidc_authority`` go together: the first place naming either gives both.
    """
    layers = [dict(given), {name: environ.get(variable) for name, variable in ENVIRONMENT.items()}, dict(saved)]
    values = {}
    for name in ("client_id", "scopes", "username"):
        values[name] = next((layer[name] for layer in layers if layer.get(name)), None)
    authorities = next((layer for layer in layers if any(layer.get(n) for n in _AUTHORITIES)), {})
    values.update({name: authorities.get(name) or None for name in _AUTHORITIES})
    values["scopes"] = split_scopes(values["scopes"])
    return Settings(**values)


def _file(path: Path) -> CacheFile:
    return CacheFile(path, Folder(path.parent, "the saved settings' folder"))


def load(path: Path) -> dict:
    """The settings saved at ``path`` ({} when there are none); ConfigurationError if nbauth
    cannot or must not read them."""
    try:
        data, version, narrowed = _file(path).read()
    except DamagedFile as damage:
        raise ConfigurationError(f"the saved settings {path} {damage}") from None
    except Refused as refused:
        raise ConfigurationError(str(refused)) from None
    if version is None:
        return {}
    version.close()
    if narrowed:
        warnings.warn(f"the saved settings {path} were open to other users; they are now owner-only (0600)",
                      CacheWarning, stacklevel=2)
    try:
        saved = strict_json.loads(data.decode("utf-8"))
    except ValueError:
        saved = None
    if not isinstance(saved, dict):
        raise ConfigurationError(f"the saved settings {path} are not a JSON object: delete the file "
                                 "and run nbauth login again")
    return {name: saved[name] for name in ("client_id", *_AUTHORITIES, "scopes", "username") if name in saved}


def save(path: Path, settings: Settings) -> None:
    """Replace the saved settings at ``path`` atomically, readable by the owner only;
    ConfigurationError if their folder is one nbauth must not use."""
    try:
        _file(path).write(json.dumps(settings.saved_form(), indent=2).encode()).close()
    except Refused as refused:
        raise ConfigurationError(str(refused)) from None
