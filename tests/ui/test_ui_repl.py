"""IPython's terminal REPL (real ``ipython`` in a pseudo-terminal) while a sign-in waits, against the
local provider: the code is printed once, nothing redraws the prompt, what the person types stays,
the outcome is printed once above the prompt, and Ctrl-C in ``token()`` is one line."""
from __future__ import annotations

import os
import re
import sys
import time
from pathlib import Path

import pexpect
import pytest

from idp.server import EMAILS, NATIVE_CLIENT

CODE = re.compile(r"(?:enter|check) the code (\S+)\r?\n")
#: What the 1 Hz redraw of a script's status line writes (it would wipe the prompt and the typed input).
REDRAW = re.escape("\r\x1b[KWaiting")
pytestmark = pytest.mark.timeout(90)


@pytest.fixture
def ipython(tmp_path):
    """Starts IPython's terminal shell (prompt_toolkit) in a pseudo-terminal; closes it after."""
    env = {k: v for k, v in os.environ.items() if k not in ("CI", "NBAUTH_UI")}
    env.update(NBAUTH_CACHE_PATH=str(tmp_path / "token_cache.json"), IPYTHONDIR=str(tmp_path / "ipython"),
               TERM="xterm", PYTHONPATH=os.pathsep.join(filter(None, [os.getcwd(), os.environ.get("PYTHONPATH")])))
    children = []

    def start() -> pexpect.spawn:
        child = pexpect.spawn(sys.executable, ["-m", "IPython", "--no-banner", "--colors=nocolor",
                                               "--no-confirm-exit", "--HistoryManager.enabled=False"],
                              env=env, timeout=30, encoding="utf-8", dimensions=(40, 250))
        children.append(child)
        child.expect(r"In \[1\]:")
        return child

    yield start
    for child in children:
        child.close(force=True)


def login(child: pexpect.spawn, issuer: str) -> tuple:
    """Signs in from the prompt; the code printed, and when it was said to expire."""
    child.sendline(f"import nbauth; me = nbauth.login({NATIVE_CLIENT!r}, oidc_authority={issuer!r}, "
                   "scopes=['api:read'])")
    child.expect(CODE)
    code = child.match.group(1)
    child.expect(r"Waiting for you to sign in; the code expires (at \d\d:\d\d:\d\d|in \d:\d\d)")
    expires = child.match.group(1)
    child.expect(r"In \[2\]:")
    return code, expires


def test_prompt_and_typed_input_stay_while_the_sign_in_waits(idp, ipython):
    child = ipython()
    code, expires = login(child, idp.issuer)
    child.send("x = 6 *")  # the person starts typing while the code is pending
    assert child.expect([REDRAW, "expires in", pexpect.TIMEOUT], timeout=2.5) == 2  # over two ticks of the old redraw
    assert expires.startswith("at ")  # a clock time: a countdown printed once would be wrong a second later
    idp.approve_device(code, "alice")
    child.expect(re.escape(f"Signed in as {EMAILS['alice']} at {idp.issuer}. Tokens refresh automatically."))
    child.sendline(" 7")  # finishes the line typed before the outcome was printed
    child.expect(r"In \[3\]:")
    child.sendline("print('answer', x, me.status.value)")
    child.expect("answer 42 signed_in")
    assert child.before.count(code) == 0  # the code was printed once, at the start


def test_ctrl_c_in_token_cancels_with_one_line(make_idp, ipython):
    provider = make_idp(device_interval=5)
    child = ipython()
    code, _ = login(child, provider.issuer)
    child.sendline("me.token()")
    wait_until_blocked(child.pid)  # the cell is in token(), as a person's Ctrl-C finds it
    child.sendintr()
    child.expect("Sign-in cancelled.")
    child.expect(r"In \[3\]:")
    shown = child.before
    assert "Traceback" not in shown and "threading" not in shown
    assert "SignInInterrupted: sign-in cancelled (Ctrl-C); call sign_in_again() for a new code" in shown
    child.sendline("print(me.status.value)")
    child.expect("cancelled")
    assert len(provider.token_log("device_code", user_code=code)) <= 1


def wait_until_blocked(pid: int, timeout: float = 30.0) -> None:
    """Until the process's main thread has waited on a lock or condition (the kernel's ``wchan``) for
    0.2 s on end, as in ``SignIn.wait``; at the prompt it waits on the terminal instead, and a wait
    for the GIL is far shorter."""
    wchan = Path(f"/proc/{pid}/task/{pid}/wchan")
    deadline = time.monotonic() + timeout
    since = None
    while since is None or time.monotonic() - since < 0.2:
        assert time.monotonic() < deadline, f"the REPL never blocked (wchan {wchan.read_text()!r})"
        since = (since or time.monotonic()) if "futex" in wchan.read_text() else None
        time.sleep(0.02)
