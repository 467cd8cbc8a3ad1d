"""Run the local OpenID provider (``provider.mjs``) from Python: :class:`LocalIdP`.

Tests use it through the fixtures in ``tests/conftest.py``; the demo imports it with ``tests/``
on ``sys.path``. ``python tests/idp/server.py`` starts one and runs it until Ctrl-C.
"""
from __future__ import annotations

import atexit
import base64
import collections
import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import requests
from cryptography.hazmat.primitives import serialization

if __package__ in (None, ""):  # run as a script: make the `idp` package importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from idp.certs import TestCA, client_key_and_certificate, private_key_pem  # noqa: E402

IDP_DIR = Path(__file__).resolve().parent
PROVIDER_SCRIPT = IDP_DIR / "provider.mjs"

# What provider.mjs knows; keep in step with it.
NATIVE_CLIENT = "nbauth-native"
CONFIDENTIAL_CLIENT = "nbauth-confidential"  # client_secret_basic
CONFIDENTIAL_POST_CLIENT = "nbauth-confidential-post"  # client_secret_post
PKJWT_CLIENT = "nbauth-pkjwt"  # private_key_jwt with LocalIdP.client_key_pem
CLIENT_SECRET = "confidential-secret"
WEB_REDIRECT_URI = "https://app.example.test/callback"
API_RESOURCE = "urn:nbauth:test-api"
API_SCOPES = ("api:read", "api:write")
USERS = {"alice": "alice-pw", "bob": "bob-pw"}
EMAILS = {"alice": "alice@example.test", "bob": "bob@example.test"}

GRANT_DEVICE_CODE = "urn:ietf:params:oauth:grant-type:device_code"
GRANT_JWT_BEARER = "urn:ietf:params:oauth:grant-type:jwt-bearer"
_GRANT_ALIASES = {"device_code": GRANT_DEVICE_CODE, "jwt_bearer": GRANT_JWT_BEARER}


class IdPStartError(RuntimeError):
    """The provider could not be started (missing node or packages, crash, no READY in time)."""


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unsigned_bytes(number: int) -> bytes:
    return number.to_bytes((number.bit_length() + 7) // 8, "big")


def _public_jwk(key, kid: str) -> dict:
    numbers = key.public_key().public_numbers()
    return {"kty": "RSA", "use": "sig", "kid": kid, "n": _b64url(_unsigned_bytes(numbers.n)),
            "e": _b64url(_unsigned_bytes(numbers.e))}


class LocalIdP:
    """A real OpenID provider on ``https://127.0.0.1:<port>/oidc``, run as a node subprocess.

    Lifetimes are in seconds. Every server certificate is signed by ``ca`` (a :class:`TestCA`;
    one of its own when not given), so clients must trust :attr:`ca_path`.
    """

    def __init__(
        self,
        *,
        access_token_ttl: int = 300,
        refresh_token_ttl: int = 3600,
        id_token_ttl: int = 300,
        device_code_ttl: int = 600,
        device_interval: int = 1,
        enforce_device_interval: bool = False,
        access_token_format: str = "jwt",
        mount: str = "/oidc",
        port: int = 0,
        coop: bool = False,
        ca: TestCA | None = None,
        startup_timeout: float = 20.0,
        stop_timeout: float = 5.0,
    ) -> None:
        if access_token_format not in ("jwt", "opaque"):
            raise ValueError("access_token_format must be 'jwt' or 'opaque'")
        self._env = {
            "OP_AT_TTL": str(access_token_ttl),
            "OP_RT_TTL": str(refresh_token_ttl),
            "OP_ID_TTL": str(id_token_ttl),
            "OP_DC_TTL": str(device_code_ttl),
            "OP_DC_INTERVAL": str(device_interval),
            "OP_DC_ENFORCE_INTERVAL": "1" if enforce_device_interval else "0",
            "OP_AT_FORMAT": access_token_format,
            "OP_MOUNT": mount,
            "OP_PORT": str(port),
            "OP_EXIT_ON_STDIN_EOF": "1",
            "OP_COOP": "1" if coop else "0",
        }
        self._given_ca = ca
        self._startup_timeout = startup_timeout
        self._stop_timeout = stop_timeout
        self._proc: subprocess.Popen | None = None
        #: The provider's exit status after stop(): 0 when it shut down on SIGTERM.
        self.exit_code: int | None = None
        self._reader: threading.Thread | None = None
        self._ready = threading.Event()
        self._stdout_tail: collections.deque[str] = collections.deque(maxlen=50)
        self._issuer: str | None = None
        self._tmp: str | None = None
        self._ca: TestCA | None = None
        self._metadata: dict | None = None
        self._http = requests.Session()
        self._http.trust_env = False  # no proxies, no REQUESTS_CA_BUNDLE: trust exactly our CA
        self._http_lock = threading.Lock()
        key, cert = client_key_and_certificate(PKJWT_CLIENT)
        der = cert.public_bytes(serialization.Encoding.DER)
        self.client_key_pem: str = private_key_pem(key)
        self.client_cert_pem: str = cert.public_bytes(serialization.Encoding.PEM).decode("ascii")
        #: ``kid`` of the private_key_jwt client's key (its certificate's x5t#S256). Assertions
        #: may omit ``kid``, as MSAL's do; a ``kid`` other than this one is rejected.
        self.client_key_id: str = _b64url(hashlib.sha256(der).digest())
        self._client_jwks = {"keys": [_public_jwk(key, self.client_key_id)]}

    # ---- lifecycle -------------------------------------------------------------------------
    def start(self) -> LocalIdP:
        """Start the provider and wait (up to ``startup_timeout``) until it listens."""
        if self._proc is not None:
            raise RuntimeError("LocalIdP already started")
        node = shutil.which("node")
        if node is None:
            raise IdPStartError("node is not on PATH; install Node.js 20+ (see the Makefile)")
        if not (IDP_DIR / "node_modules" / "oidc-provider").is_dir():
            raise IdPStartError(
                f"{IDP_DIR / 'node_modules'} is missing: run `make test`, "
                "or `npm ci --prefix tests/idp`"
            )
        started = time.monotonic()
        try:
            self._spawn(node)
            if not self._ready.wait(self._startup_timeout) or self._issuer is None:
                self._wait_briefly_for_exit()
                raise IdPStartError(
                    f"the provider was not ready after {time.monotonic() - started:.1f}s: "
                    f"{self._diagnostics()}"
                )
        except BaseException:
            self.stop()
            raise
        return self

    def _spawn(self, node: str) -> None:
        self._ready.clear()
        self._issuer = self._metadata = None
        self._tmp = tempfile.mkdtemp(prefix="nbauth-idp-")
        self._stderr_path = Path(self._tmp) / "provider.stderr.log"
        self._ca = self._given_ca or TestCA(Path(self._tmp) / "ca")
        cert, key = self._ca.issue_server_cert(self._tmp, name="idp")
        env = {**os.environ, **self._env, "OP_TLS_CERT": cert, "OP_TLS_KEY": key,
               "OP_CLIENT_JWKS": json.dumps(self._client_jwks)}
        with open(self._stderr_path, "wb") as stderr:
            self._proc = subprocess.Popen(
                [node, str(PROVIDER_SCRIPT)], cwd=IDP_DIR, env=env,
                stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=stderr,
                start_new_session=True,  # its own process group: stop() kills the whole group
            )
        atexit.register(self.stop)
        self._reader = threading.Thread(target=self._read_stdout, name="idp-stdout", daemon=True)
        self._reader.start()

    def _read_stdout(self) -> None:
        assert self._proc is not None and self._proc.stdout is not None
        for raw in self._proc.stdout:
            line = raw.decode("utf-8", "replace").rstrip("\n")
            if line.startswith("READY ") and self._issuer is None:
                self._issuer = line.split(" ", 1)[1].strip()
                self._ready.set()
            else:
                self._stdout_tail.append(line)
        self._ready.set()  # EOF: the process ended; start() reports what it left behind

    def _wait_briefly_for_exit(self) -> None:
        """If the provider is ending, let it finish so its exit code and stderr are complete."""
        try:
            self._proc.wait(1)
        except subprocess.TimeoutExpired:
            pass

    def _diagnostics(self) -> str:
        code = self._proc.poll() if self._proc else None
        try:
            stderr = self._stderr_path.read_text(errors="replace")[-3000:]
        except OSError:
            stderr = ""
        status = "still running" if code is None else f"exit code {code}"
        return f"{status}; stderr: {stderr.strip() or '-'}; stdout: {list(self._stdout_tail)}"

    def stop(self) -> None:
        """Stop the provider (SIGTERM, then SIGKILL after ``stop_timeout``); idempotent."""
        atexit.unregister(self.stop)
        proc, self._proc = self._proc, None
        if proc is not None:
            self._signal_group(proc, signal.SIGTERM)
            try:
                proc.wait(self._stop_timeout)
            except subprocess.TimeoutExpired:
                self._signal_group(proc, signal.SIGKILL)
                proc.wait()
            self._signal_group(proc, signal.SIGKILL)  # anything it left in its group
            self.exit_code = proc.returncode
            for stream in (proc.stdin, proc.stdout):
                if stream is not None:
                    stream.close()
        if self._reader is not None:
            self._reader.join(self._stop_timeout)
            self._reader = None
        self._http.close()
        if self._tmp is not None:
            shutil.rmtree(self._tmp, ignore_errors=True)
            self._tmp = None

    @staticmethod
    def _signal_group(proc: subprocess.Popen, sig: int) -> None:
        try:
            os.killpg(proc.pid, sig)
        except (ProcessLookupError, PermissionError):
            pass

    def __enter__(self) -> LocalIdP:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    # ---- where it is -------------------------------------------------------------------------
    @property
    def issuer(self) -> str:
        if self._issuer is None:
            raise RuntimeError("LocalIdP not started")
        return self._issuer

    @property
    def ca_path(self) -> str:
        if self._ca is None:
            raise RuntimeError("LocalIdP not started")
        return self._ca.cert_path

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc is not None else None

    def url(self, path: str) -> str:
        """``issuer + path``, e.g. ``url("/token")``."""
        return self.issuer + path

    def metadata(self) -> dict:
        """The discovery document (fetched once)."""
        if self._metadata is None:
            self._metadata = self._call("GET", "/.well-known/openid-configuration")
        return self._metadata

    # ---- test-only controls ------------------------------------------------------------------
    def _call(self, method: str, path: str, **params) -> dict | list:
        with self._http_lock:
            response = self._http.request(method, self.url(path), params=params,
                                          verify=self.ca_path, timeout=10)
        if response.status_code >= 400:
            raise AssertionError(f"{method} {path} {params}: {response.status_code} {response.text}")
        return response.json()

    def stats(self) -> dict[str, int]:
        """Token-endpoint calls since the last reset: ``{"<grant_type>:<ok|error>": count}``."""
        return self._call("GET", "/__test__/stats")

    def count(self, grant_type: str, outcome: str = "ok") -> int:
        """One counter of :meth:`stats`; ``device_code`` and ``jwt_bearer`` name the URN grants."""
        return self.stats().get(f"{_GRANT_ALIASES.get(grant_type, grant_type)}:{outcome}", 0)

    def reset_stats(self) -> None:
        """Clear the counters, the request log and any scripted slow_down answers."""
        self._call("POST", "/__test__/reset")

    def request_log(self) -> list[dict]:
        """Every token, device-authorization, revocation and introspection request since reset.

        Entries: ``t_ms`` (arrival, ms since the epoch), ``endpoint``, ``grant_type``,
        ``client_id``, ``user_code`` (device-code polls), ``status``, ``outcome`` (``ok`` or
        the OAuth error code).
        """
        return self._call("GET", "/__test__/log")

    def token_log(self, grant_type: str | None = None, *, user_code: str | None = None) -> list[dict]:
        """Token-endpoint entries of :meth:`request_log`, optionally of one grant or device code."""
        wanted = _GRANT_ALIASES.get(grant_type, grant_type)
        return [e for e in self.request_log() if e["endpoint"] == "token"
                and (wanted is None or e["grant_type"] == wanted)
                and (user_code is None or e["user_code"] == user_code)]

    def approve_device(self, user_code: str, user: str = "alice") -> None:
        """Sign ``user`` in for a pending device code, as if they had used the browser."""
        self._call("POST", "/__test__/device/approve", user_code=user_code, user=user)

    def deny_device(self, user_code: str) -> None:
        """Make the device code's next poll answer ``access_denied``."""
        self._call("POST", "/__test__/device/deny", user_code=user_code)

    def slow_down(self, user_code: str, count: int = 1) -> None:
        """Make the next ``count`` polls of this device code answer ``slow_down``."""
        self._call("POST", "/__test__/device/slow_down", user_code=user_code, count=count)

    def revoke_user_refresh_tokens(self, user: str) -> int:
        """Revoke every refresh token issued to ``user``; returns how many there were."""
        return self._call("POST", "/__test__/refresh_tokens/revoke", user=user)["revoked"]

    def revoke_grant_refresh_tokens(self, refresh_token: str) -> int:
        """Revoke every refresh token of the grant ``refresh_token`` belongs to."""
        return self._call("POST", "/__test__/refresh_tokens/revoke",
                          refresh_token=refresh_token)["revoked"]

    def __repr__(self) -> str:
        state = self._issuer if self._proc is not None else "stopped"
        return f"<LocalIdP {state}>"


def main() -> None:
    with LocalIdP(device_interval=5) as idp:
        print(f"issuer:  {idp.issuer}")
        print(f"CA:      {idp.ca_path}")
        print(f"clients: {NATIVE_CLIENT} (public), {CONFIDENTIAL_CLIENT} / "
              f"{CONFIDENTIAL_POST_CLIENT} (secret {CLIENT_SECRET!r})")
        print("users:   " + ", ".join(f"{u} / {p}" for u, p in USERS.items()))
        print("Ctrl-C to stop.", flush=True)
        try:
            idp._proc.wait()  # returns only if the provider dies
        except KeyboardInterrupt:
            pass


if __name__ == "__main__":
    main()
