"""Helpers for the nbauth command's tests (no tests): run it as a real process, in a clean environment."""
import os
import re
import subprocess
import sys

import pytest

from idp.server import NATIVE_CLIENT

#: The device-code line the terminal presenter prints; group 1 is the code.
CODE = re.compile(r"(?:enter|check) the code (\S+)\r?\n")
#: Environment variables of the machine running the tests that would change what nbauth does.
_OURS = ("CI", "NBAUTH_UI", "NBAUTH_CLIENT_ID", "NBAUTH_AUTHORITY", "NBAUTH_OIDC_AUTHORITY", "NBAUTH_SCOPES",
         "NBAUTH_USERNAME", "NBAUTH_CACHE_PATH")


def sign_in_options(provider, *scopes):
    return ["--client-id", NATIVE_CLIENT, "--oidc-authority", provider.issuer, "--scopes", " ".join(scopes or ["api:read"])]


@pytest.fixture
def cache_path(tmp_path):
    return tmp_path / "nbauth" / "token_cache.json"


@pytest.fixture
def env(cache_path):
    """No CI, no forced presentation, the cache in a temporary folder; trusts the session CA."""
    clean = {k: v for k, v in os.environ.items() if k not in _OURS}
    return dict(clean, NBAUTH_CACHE_PATH=str(cache_path))


@pytest.fixture
def ci_env(env):
    return dict(env, CI="true")


def run_process(argv, env, timeout=30, stdin=subprocess.DEVNULL):
    """Run ``argv`` with no stdin (nobody to type) unless given, its output captured as text."""
    return subprocess.run(argv, env=env, stdin=stdin, capture_output=True, text=True, timeout=timeout)


def nbauth_command(*args, env, timeout=30):
    """``python -m nbauth ARGS``, as :func:`run_process` runs it."""
    return run_process([sys.executable, "-m", "nbauth", *args], env, timeout)
