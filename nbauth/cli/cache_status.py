"""What ``nbauth cache`` tells about a token cache file: where, how big, who may read it, what it
holds (counts only, never a token), and the settings ``nbauth login`` saved beside it."""
from __future__ import annotations

import json
import os
import stat
import time
from pathlib import Path
from typing import Any, Dict, Optional

#: MSAL's cache sections, by the name ``nbauth cache`` reports them under.
SECTIONS = {"accounts": "Account", "access_tokens": "AccessToken", "refresh_tokens": "RefreshToken",
            "id_tokens": "IdToken", "app_metadata": "AppMetadata"}


def _permissions(path: Path) -> Optional[Dict[str, Any]]:
    try:
        info = os.stat(path, follow_symlinks=False)
    except FileNotFoundError:
        return None
    mode = stat.S_IMODE(info.st_mode)
    mine = info.st_uid == os.geteuid() if hasattr(os, "geteuid") else True
    return {"mode": f"{mode:04o}", "owner_only": mine and not mode & 0o077}


def describe(path: Path, settings: Dict[str, Any], now: float) -> Dict[str, Any]:
    """The status of the cache at ``path`` as plain values; reading it may repair a damaged
    file as every nbauth reader does (with a ``CacheWarning``), and changes nothing else."""
    status: Dict[str, Any] = {"path": str(path), "exists": os.path.lexists(path), "settings": settings}
    if status["exists"]:
        from ..cache import PersistedTokenCache

        document = json.loads(PersistedTokenCache(path).serialize() or "{}")  # first: it may repair the file
        try:
            info = os.stat(path, follow_symlinks=False)  # the file itself, never a link's target
        except FileNotFoundError:  # moved aside as damaged or unsafe
            status["exists"] = False
            status["folder"] = _permissions(path.parent)
            return status
        status.update(size=info.st_size, modified=int(info.st_mtime), file=_permissions(path), counts={
            name: len(document.get(section) or {}) for name, section in SECTIONS.items()})
        status["counts"]["valid_access_tokens"] = sum(
            1 for entry in (document.get("AccessToken") or {}).values() if _seconds(entry.get("expires_on")) > now)
    status["folder"] = _permissions(path.parent)
    return status


def _seconds(value: Any) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return 0.0


def as_text(status: Dict[str, Any]) -> str:
    """``describe``'s status as lines for a person."""
    lines = [f"cache file: {status['path']}"]
    if not status["exists"]:
        lines.append("  (none yet: sign in with nbauth login)")
    else:
        lines.append(f"  size: {status['size']} bytes, modified {_when(status['modified'])}")
        lines.append(f"  permissions: {_access(status['file'])}; folder {_access(status['folder'])}")
        counts = status["counts"]
        lines.append(f"  accounts: {counts['accounts']}, access tokens: {counts['access_tokens']} "
                     f"({counts['valid_access_tokens']} unexpired), refresh tokens: {counts['refresh_tokens']}, "
                     f"ID tokens: {counts['id_tokens']}")
    settings = status["settings"]
    lines.append("saved settings (from nbauth login): " + (", ".join(
        f"{name}={' '.join(value) if isinstance(value, list) else value}" for name, value in settings.items())
        or "none"))
    return "\n".join(lines)


def _access(permissions: Optional[Dict[str, Any]]) -> str:
    if permissions is None:
        return "missing"
    return permissions["mode"] + (" (owner only)" if permissions["owner_only"] else " (OPEN TO OTHER USERS)")


def _when(epoch: int) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S %Z", time.localtime(epoch)).strip()
