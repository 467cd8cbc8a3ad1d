"""Where the numbers came from: date, machine, Python, package versions, the nbauth commit."""
from __future__ import annotations

import json
import os
import platform
import subprocess
import time
from importlib import metadata
from pathlib import Path
from typing import Dict

PACKAGES = ("nbauth", "msal", "msal-extensions", "requests", "nbclient", "ipykernel", "matplotlib")


def _first_line(path: str, prefix: str) -> str:
    try:
        with open(path) as stream:
            for line in stream:
                if line.startswith(prefix):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return "?"


def _run(argv, cwd: Path) -> str:
    try:
        return subprocess.run(argv, cwd=cwd, capture_output=True, text=True, timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return ""


def _oidc_provider_version(repo: Path) -> str:
    try:
        package = repo / "tests" / "idp" / "node_modules" / "oidc-provider" / "package.json"
        return json.loads(package.read_text())["version"]
    except (OSError, ValueError, KeyError):
        return "?"


def load() -> str:
    """The 1-, 5- and 15-minute load averages (other work on the machine disturbs the numbers)."""
    return " / ".join(f"{value:.2f}" for value in os.getloadavg())


def describe(repo: Path, load_at_start: str) -> Dict[str, str]:
    """The facts a reader needs to compare these numbers with others."""
    versions = {}
    for name in PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "not installed"
    commit = _run(["git", "rev-parse", "--short", "HEAD"], repo)
    changed = _run(["git", "status", "--porcelain", "--", "nbauth"], repo)
    memory_kb = _first_line("/proc/meminfo", "MemTotal").split()[0]
    return {
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "machine": f"{_first_line('/proc/cpuinfo', 'model name')}, {os.cpu_count()} cores, "
                   f"{int(memory_kb) // 1024 if memory_kb.isdigit() else '?'} MiB",
        "os": platform.platform(),
        "python": f"{platform.python_implementation()} {platform.python_version()}",
        "packages": ", ".join(f"{k} {v}" for k, v in versions.items()),
        "provider": f"oidc-provider {_oidc_provider_version(repo)} on node {_run(['node', '--version'], repo)}",
        "load average (1/5/15 min)": f"{load_at_start} at the start, {load()} at the end",
        "nbauth commit": commit + (" (nbauth/ has uncommitted changes)" if changed else ""),
    }
