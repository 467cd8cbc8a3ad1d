"""Helpers for the fault-injection tests (no tests here).

An endpoint of a ``FakeProvider`` that fails on cue (:class:`Faults`), file systems
mounted for one test (a small tmpfs, a read-only bind mount; root only, else the test skips),
and what every fault test checks afterwards: the refresh token the cache held is still there,
in memory and in the file.
"""
from __future__ import annotations

import contextlib
import gc
import json
import os
import subprocess
import threading
from pathlib import Path
from typing import Callable, Iterator, Optional

import pytest

from support.fake_provider import CLIENT_ID, FakeProvider
from nbauth import PublicClientApplication
from nbauth.cache import CredentialType, PersistedTokenCache
from nbauth.exceptions import ProtocolError, TransportError
from support.fake_http import DROP
from support.clock import FakeClock

SCOPES = ["api:read"]
#: The app's HTTP timeout in these tests: a "slow" provider answers only after it.
TIMEOUT = 0.5
#: Access-token lifetime the fake provider grants; ``expire`` moves the clock past it.
TOKEN_LIFETIME = 60


def truncated(request) -> tuple:
    """A chunked answer cut off mid-body, the connection then closed (a proxy or server crash)."""
    return 200, {"Transfer-Encoding": "chunked", "Connection": "close"}, b'60\r\n{"access_token": "at-cut'


#: name -> what the token endpoint answers while the fault lasts (``down`` and ``slow`` are special).
ANSWERS = {
    "reset": lambda request: DROP,
    "500 html": lambda request: (500, {"Content-Type": "text/html"}, "<html><body>Internal error</body></html>"),
    "503 json": lambda request: (503, {}, {"error": "temporarily_unavailable", "error_description": "busy"}),
    "429 long retry-after": lambda request: (429, {"Retry-After": "3600"}, "Too Many Requests"),
    "truncated": truncated,
    "html login page": lambda request: (200, {"Content-Type": "text/html"}, "<html><form>Sign in</form></html>"),
}
FAULTS = ["down", "outage mid-request", "slow", *ANSWERS]

#: What a caller gets when the fault hits a request nothing cached can stand in for.
OUTCOME = {
    "down": TransportError,
    "outage mid-request": TransportError,
    "slow": TransportError,
    "reset": TransportError,
    "truncated": TransportError,
    "500 html": ProtocolError,
    "429 long retry-after": ProtocolError,
    "html login page": ProtocolError,
    "503 json": "temporarily_unavailable",  # the provider's OAuth error: MSAL's error dict
}
assert set(OUTCOME) == set(FAULTS)


class Faults:
    """``POST path`` answered by ``normal``, except between ``start(fault)`` and ``clear()``.

    ``down`` stops the server (an outage: nothing listens on the port); ``outage mid-request``
    stops it while holding the first request, which then goes unanswered; ``slow`` holds each
    request past the client's timeout; the others answer as ``ANSWERS`` says.
    """

    def __init__(self, server, path: str, normal: Callable):
        self.server = server
        self.path = path
        self.normal = normal
        self.answer: Optional[Callable] = None
        self._released = threading.Event()
        server.route("POST", path, self._respond)

    def _respond(self, request) -> tuple:
        answer = self.answer
        return self.normal(request) if answer is None else answer(request)

    def _hold(self, request) -> tuple:
        self._released.wait(10)  # the client gave up long before
        return 504, {}, ""

    def _go_down(self, request):
        self.server.stop()
        return DROP

    def start(self, fault: str) -> None:
        if fault == "down":
            self.server.stop()
            return
        self._released.clear()
        special = {"slow": self._hold, "outage mid-request": self._go_down}
        self.answer = special[fault] if fault in special else ANSWERS[fault]

    def clear(self) -> None:
        self.answer = None
        self._released.set()
        if not self.server.running:  # the same port again: the provider is back
            self.server.start()

    def requests(self) -> int:
        return len(self.server.requests_to(self.path))


class Device:
    """The fake provider's device endpoint (one code, polled every second) and its token endpoint,
    which answers the code's polls ``authorization_pending`` until ``approve()``; both on cue."""

    def __init__(self, provider):
        self.pending = True
        self.provider = provider
        self.endpoint = Faults(provider.server, "/fake/device", lambda request: (200, {}, {
            "device_code": "dc-fault", "user_code": "FAULT-1", "verification_uri": provider.base + "/verify",
            "expires_in": 600, "interval": 1}))
        self.token = Faults(provider.server, "/fake/token", self._poll)

    def _poll(self, request):
        if request.form.get("grant_type", "").endswith("device_code") and self.pending:
            return 400, {}, {"error": "authorization_pending"}
        return self.provider.token_endpoint(request)

    def approve(self):
        self.pending = False


def make_app(provider: FakeProvider, path: Path, clock: FakeClock, **options) -> PublicClientApplication:
    """A public client of the fake provider over a persisted cache at ``path``."""
    cache = PersistedTokenCache(path, clock=clock, lock_timeout=options.pop("lock_timeout", 5.0))
    return PublicClientApplication(CLIENT_ID, oidc_authority=provider.issuer, token_cache=cache, clock=clock,
                                   timeout=TIMEOUT, **options)


def sign_in(app: PublicClientApplication) -> tuple[dict, dict]:
    """(the result, the account) of a password sign-in that must succeed."""
    result = app.acquire_token_by_username_password("alice", "pw", SCOPES)
    assert "access_token" in result, result
    (account,) = app.get_accounts()
    return result, account


def refresh_tokens_in_memory(app) -> list[str]:
    return [e["secret"] for e in app.token_cache.search(CredentialType.REFRESH_TOKEN)]


def refresh_tokens_on_disk(path: Path) -> list[str]:
    return [e["secret"] for e in json.loads(path.read_text())["RefreshToken"].values()]


def assert_kept(app, path: Path, refresh_token: str) -> None:
    """The refresh token is still where the cache keeps it: in memory and in the file."""
    assert refresh_tokens_in_memory(app) == [refresh_token]
    assert refresh_tokens_on_disk(path) == [refresh_token]


# ---- file systems made for a test (root with mount rights, else the test skips) ----------------
def _mount(*args: str) -> None:
    done = subprocess.run(["mount", *args], capture_output=True, text=True)
    if done.returncode:
        pytest.skip(f"cannot mount here ({done.stderr.strip()}); needs root with CAP_SYS_ADMIN")


def _unmount(folder: Path) -> None:
    gc.collect()  # a cache dropped by the test may still hold a descriptor on the mount
    if subprocess.run(["umount", str(folder)], capture_output=True).returncode:
        subprocess.run(["umount", "-l", str(folder)], check=True)  # detached now, freed when unused


@contextlib.contextmanager
def tmpfs(folder: Path, size: str) -> Iterator[Path]:
    """A tmpfs of ``size`` mounted at ``folder`` for the block (a disk that can fill up)."""
    folder.mkdir(mode=0o700, exist_ok=True)
    _mount("-t", "tmpfs", "-o", f"size={size},mode=0700", "tmpfs", str(folder))
    try:
        yield folder
    finally:
        _unmount(folder)


@contextlib.contextmanager
def read_only(folder: Path) -> Iterator[None]:
    """``folder`` read-only for the block: a read-only bind mount of it over itself.

    Root ignores permission bits, so chmod would prove nothing here; the kernel refuses every
    write on a read-only mount (EROFS), to root too.
    """
    _mount("--bind", str(folder), str(folder))
    try:
        _mount("-o", "remount,bind,ro", str(folder))
        yield
    finally:
        _unmount(folder)


def fill(folder: Path) -> Path:
    """Fill the file system of ``folder`` to the last byte; the filler, to delete to free it."""
    filler = folder / "filler"
    fd = os.open(filler, os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        while True:
            os.write(fd, b"\0" * 4096)
    except OSError as error:
        assert error.strerror == os.strerror(28), error  # ENOSPC
    finally:
        os.close(fd)
    return filler
