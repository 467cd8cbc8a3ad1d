"""The local OpenID providers the benchmarks talk to, and each library's own real sign-in.

The providers are ``tests/idp/server.py``'s ``LocalIdP`` (oidc-provider over https on 127.0.0.1,
rotating refresh tokens; reusing a rotated one is ``invalid_grant`` and revokes its grant). One
CA signs both, and ``REQUESTS_CA_BUNDLE`` names it, so both libraries (and every child process:
kernels, workers) trust them.
"""
from __future__ import annotations

import contextlib
import os
import sys
from pathlib import Path
from typing import Any, Dict, Iterator, List
from urllib.parse import parse_qsl, urlsplit

REPO = Path(__file__).resolve().parent.parent
if str(REPO / "tests") not in sys.path:
    sys.path.insert(0, str(REPO / "tests"))

from idp import browser  # noqa: E402
from idp.certs import TestCA  # noqa: E402
from idp.server import NATIVE_CLIENT, USERS, LocalIdP  # noqa: E402

API_SCOPES = ["api:read"]
REDIRECT_URI = "http://127.0.0.1/callback"
_TRUST_VARIABLES = ("REQUESTS_CA_BUNDLE", "SSL_CERT_FILE")
assert NATIVE_CLIENT == "nbauth-native"


class Providers:
    """Starts providers on demand (one per access-token lifetime) and stops them all at exit."""

    def __init__(self, workdir: Path) -> None:
        self.ca = TestCA(workdir / "ca")
        self._started: Dict[int, LocalIdP] = {}
        self._stack = contextlib.ExitStack()

    def __enter__(self) -> "Providers":
        saved = {name: os.environ.get(name) for name in _TRUST_VARIABLES}
        os.environ.update({name: self.ca.cert_path for name in _TRUST_VARIABLES})
        self._stack.callback(_restore, saved)
        return self

    def __exit__(self, *exc: Any) -> None:
        self._stack.close()

    def get(self, access_token_ttl: int = 3600) -> LocalIdP:
        """The provider issuing access tokens of ``access_token_ttl`` seconds (started once)."""
        if access_token_ttl not in self._started:
            provider = LocalIdP(ca=self.ca, access_token_ttl=access_token_ttl)
            self._started[access_token_ttl] = self._stack.enter_context(provider)
        return self._started[access_token_ttl]


def _restore(saved: Dict[str, Any]) -> None:
    for name, value in saved.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value


def token_endpoint(provider: LocalIdP) -> str:
    return provider.metadata()["token_endpoint"]


def sign_in(library: str, app: Any, provider: LocalIdP, user: str = "alice") -> dict:
    """A real sign-in at the provider with the library's own flow; the result (or raises).

    nbauth signs in with the password grant; msal (whose password grant insists on Entra's
    user-realm discovery) with its authorization-code flow, the browser played over HTTP.
    """
    if library == "nbauth":
        result = app.acquire_token_by_username_password(user, USERS[user], API_SCOPES)
    else:
        flow = app.initiate_auth_code_flow(API_SCOPES, redirect_uri=REDIRECT_URI)
        redirect = browser.login(flow["auth_uri"], user, verify=provider.ca_path)
        result = app.acquire_token_by_auth_code_flow(flow, dict(parse_qsl(urlsplit(redirect).query)))
    if "access_token" not in result:
        raise RuntimeError(f"{library} could not sign in: {result.get('error')}: {result.get('error_description')}")
    return result


def refresh_counts(provider: LocalIdP) -> Dict[str, int]:
    """Refresh-token requests at the provider since its last reset: ok and failed."""
    stats = provider.stats()
    return {"ok": stats.get("refresh_token:ok", 0),
            "error": sum(v for k, v in stats.items() if k.startswith("refresh_token:") and not k.endswith(":ok"))}


def token_requests(provider: LocalIdP) -> int:
    """Every request the token endpoint answered since the provider's last reset."""
    return sum(provider.stats().values())


@contextlib.contextmanager
def fresh_stats(provider: LocalIdP) -> Iterator[List[dict]]:
    """Reset the provider's counters, run the block, then fill the yielded list with its log."""
    provider.reset_stats()
    log: List[dict] = []
    yield log
    log.extend(provider.request_log())
