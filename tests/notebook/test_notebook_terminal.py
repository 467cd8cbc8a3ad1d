"""``nbauth.login`` in a script: in a real pseudo-terminal (pexpect), and with nobody there (CI)."""
from __future__ import annotations

import os
import re
import sys
import time

import pexpect
import pytest

import nbauth
from idp.server import EMAILS, NATIVE_CLIENT, USERS

SCRIPT = f"""
import sys, nbauth
me = nbauth.login({NATIVE_CLIENT!r}, oidc_authority=sys.argv[1], scopes=["api:read"])
print("login returned", file=sys.stderr)
print("TOKEN", len(me.token(timeout=60)), file=sys.stderr)
"""
SAVED_SCRIPT = f"""
import sys, nbauth
me = nbauth.login({NATIVE_CLIENT!r}, oidc_authority=sys.argv[1], scopes=["api:read"])
print("STATUS", me.status.value, file=sys.stderr)
me.sign_out()
"""
CODE = re.compile(rb"(?:enter|check) the code (\S+)\r?\n")


@pytest.fixture
def script_env(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ("CI", "NBAUTH_UI")}
    env["NBAUTH_CACHE_PATH"] = str(tmp_path / "token_cache.json")
    return env


@pytest.fixture
def spawn(script_env):
    children = []

    def start(issuer: str, script: str = SCRIPT) -> pexpect.spawn:
        child = pexpect.spawn(sys.executable, ["-c", script, issuer], env=script_env, timeout=30)
        children.append(child)
        return child

    yield start
    for child in children:
        child.close(force=True)


def test_terminal_shows_code_updates_status_in_place_and_signs_in(idp, spawn):
    child = spawn(idp.issuer)
    child.expect(CODE)
    code = child.match.group(1).decode()
    child.expect(re.escape("\r\x1b[KWaiting for you to sign in; the code expires in "))
    idp.approve_device(code, "alice")
    child.expect(re.escape(f"\r\x1b[KSigned in as {EMAILS['alice']} at {idp.issuer}. "
                           "Tokens refresh automatically.\r\n"))
    child.expect(rb"TOKEN \d+")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0


def test_ctrl_c_cancels_the_sign_in(make_idp, spawn):
    provider = make_idp(device_interval=5)
    child = spawn(provider.issuer)
    child.expect(CODE)
    code = child.match.group(1).decode()
    child.expect("login returned")
    child.expect(re.escape("\r\x1b[KWaiting for you to sign in; the code expires in 9:59."))  # a second on:
    # the script is waiting in token() by now, as a person's Ctrl-C finds it
    started = time.perf_counter()
    child.sendintr()
    child.expect(re.escape("\r\x1b[KSign-in cancelled.\r\n"))
    child.expect(re.escape("SignInInterrupted: sign-in cancelled (Ctrl-C); call sign_in_again() for a new code"))
    traceback = child.before
    child.expect(pexpect.EOF)
    assert b"threading" not in traceback  # only the script's own frames and nbauth's wait
    assert time.perf_counter() - started < 4  # well within one 5-second poll interval
    child.close()
    assert child.exitstatus != 0 or child.signalstatus is not None
    assert len(provider.token_log("device_code", user_code=code)) == 1  # the first poll, then nothing


def test_ci_fails_at_once_without_waiting_on_input(idp, script_env):
    """A terminal is attached (stdin included, never written to), but CI is set: an error, fast."""
    idp.reset_stats()
    started = time.perf_counter()
    child = pexpect.spawn(sys.executable, ["-c", SCRIPT, idp.issuer], env={**script_env, "CI": "true"}, timeout=10)
    try:
        child.expect(pexpect.EOF)
        output = child.before.decode()
    finally:
        child.close(force=True)
    assert time.perf_counter() - started < 10
    assert child.exitstatus == 1
    assert "InteractionUnavailable: sign-in needs a person, and none can be reached here (CI is set)" in output
    assert "ConfidentialClientApplication" in output
    assert not [e for e in idp.request_log() if e["endpoint"] == "device_authorization"]


def test_a_saved_sign_in_is_one_line_and_sign_out_says_so(idp, spawn, script_env):
    cache = nbauth.PersistedTokenCache(script_env["NBAUTH_CACHE_PATH"])
    app = nbauth.PublicClientApplication(NATIVE_CLIENT, oidc_authority=idp.issuer, token_cache=cache)
    assert "access_token" in app.acquire_token_by_username_password("alice", USERS["alice"], ["api:read"])
    child = spawn(idp.issuer, SAVED_SCRIPT)
    child.expect(re.escape(f"\r\x1b[KSigned in as {EMAILS['alice']} at {idp.issuer} (saved sign-in). "
                           "Tokens refresh automatically.\r\n"))
    child.expect("STATUS signed_in")
    child.expect(re.escape(f"\r\x1b[KSigned out: {EMAILS['alice']}.\r\n"))
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0
