"""The nbauth command with a person there: a real pseudo-terminal (pexpect), or the terminal
presentation forced over pipes, approving or denying the device code at the local provider."""
import json
import re
import subprocess
import sys
import time

import pexpect
import pytest

from idp.server import EMAILS, NATIVE_CLIENT
from support.cli import CODE, cache_path, ci_env, env, nbauth_command, sign_in_options  # noqa: F401
from support.integrations import verified_claims


@pytest.fixture
def terminal(env):
    """Start ``nbauth ARGS`` in a pseudo-terminal; every child is closed at teardown."""
    children = []

    def spawn(*args) -> pexpect.spawn:
        child = pexpect.spawn(sys.executable, ["-m", "nbauth", *args], env=env, timeout=30)
        children.append(child)
        return child

    yield spawn
    for child in children:
        child.close(force=True)


@pytest.fixture
def piped(env):
    """Start ``nbauth ARGS`` with NBAUTH_UI=terminal and pipes; returns (process, the code it shows)."""
    processes = []

    def start(*args):
        process = subprocess.Popen([sys.executable, "-m", "nbauth", *args], env=dict(env, NBAUTH_UI="terminal"),
                                   stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        processes.append(process)
        first = process.stderr.readline()
        shown = CODE.search(first)
        assert shown, first + process.stderr.read()
        return process, shown.group(1)

    yield start
    for process in processes:
        process.kill()
        process.communicate()


def test_login_in_a_terminal_then_commands_run_with_no_options(idp, terminal, ci_env, cache_path):
    child = terminal("login", *sign_in_options(idp))
    child.expect(CODE.pattern.encode())
    idp.approve_device(child.match.group(1).decode(), "alice")
    child.expect(re.escape(f"Signed in as {EMAILS['alice']} at {idp.issuer}."))
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0
    saved = json.loads(cache_path.with_name("token_cache.cli.json").read_text())
    assert saved == {"client_id": NATIVE_CLIENT, "oidc_authority": idp.issuer, "scopes": ["api:read"],
                     "username": EMAILS["alice"]}

    idp.reset_stats()
    run = nbauth_command("token", env=ci_env)  # CI, no stdin, no options
    assert run.returncode == 0 and run.stderr == ""
    (token,) = run.stdout.splitlines()
    assert verified_claims(idp, token)["sub"] == "alice" and idp.token_log() == []

    again = terminal("login")
    again.expect(re.escape(f"Signed in as {EMAILS['alice']} at {idp.issuer} (from the token cache)."))
    again.expect(pexpect.EOF)
    assert [e for e in idp.request_log() if e["endpoint"] == "device_authorization"] == []


def test_token_signs_in_on_stderr_and_prints_only_the_token(idp, piped):
    process, code = piped("token", *sign_in_options(idp))
    idp.approve_device(code, "bob")
    out, err = process.communicate(timeout=30)
    assert process.returncode == 0, err
    assert verified_claims(idp, out.strip())["sub"] == "bob" and out.count("\n") == 1
    assert f"Signed in as {EMAILS['bob']}" in err


def test_a_denied_sign_in_exits_4(idp, piped):
    process, code = piped("login", *sign_in_options(idp))
    idp.deny_device(code)
    out, err = process.communicate(timeout=30)
    assert (process.returncode, out) == (4, "")
    assert "Sign-in was denied" in err and "nbauth: error: access_denied" in err


def test_ctrl_c_stops_the_sign_in_and_exits_130(make_idp, terminal):
    provider = make_idp(device_interval=5)
    child = terminal("login", *sign_in_options(provider))
    child.expect(CODE.pattern.encode())
    code = child.match.group(1).decode()
    for _ in range(2):  # the status line, then its first countdown tick: the command now waits
        child.expect(re.escape("\r\x1b[KWaiting for you to sign in"))
    started = time.perf_counter()
    child.sendintr()
    child.expect(re.escape("\r\x1b[KSign-in cancelled.\r\n"))  # the flow was cancelled, not just killed
    child.expect("nbauth: interrupted")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 130 and time.perf_counter() - started < 4  # within one 5-second interval
    assert len(provider.token_log("device_code", user_code=code)) <= 1
