"""Other processes for tests: Python children that talk by lines, and process trees to end.

Every helper here ends what it started or is given; a test that starts a process kills it in a
``finally`` (or a fixture's teardown), so nothing outlives the test.
"""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

import psutil

#: ``tests/``: on a child's path, so it can import ``support`` and ``idp`` as the tests do.
TESTS_DIR = Path(__file__).resolve().parents[1]


def python_child(code: str, *args: str, env=None, **popen) -> subprocess.Popen:
    """A separate Python process running ``code`` (``sys.argv[1:]`` = ``args``), pipes on stdin/stdout.

    ``tests/`` is on its path, so it can import these helpers; it talks to the test by lines.
    ``env`` replaces the environment it inherits.
    """
    env = dict(os.environ if env is None else env)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(TESTS_DIR), env.get("PYTHONPATH")]))
    return subprocess.Popen([sys.executable, "-c", code, *args], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            text=True, env=env, **popen)


def expect_line(child, wanted: str) -> str:
    """Block until the child prints a line starting with ``wanted`` (it fails the test if it dies first)."""
    for line in child.stdout:
        if line.startswith(wanted):
            return line.strip()
    raise AssertionError(f"child exited ({child.wait()}) before saying {wanted!r}")


def kill(child) -> None:
    """SIGKILL the child (as a crash would end it), reap it and close its pipes."""
    if child.poll() is None:
        child.send_signal(signal.SIGKILL)
    child.wait(10)
    child.stdin.close()
    child.stdout.close()


def run_together(children, timeout=90):
    """Start the children's work at once (all are ready first); return their outputs (each
    given ``timeout`` seconds to finish)."""
    try:
        for child in children:
            expect_line(child, "ready")
        for child in children:
            child.stdin.write("go\n")
            child.stdin.flush()
        outputs = [child.communicate(timeout=timeout)[0] for child in children]
        assert [child.returncode for child in children] == [0] * len(children)
        return outputs
    finally:
        for child in children:
            kill(child)


def descendants(pid: int) -> list:
    """Every process below ``pid`` (kernels and servers start sessions of their own)."""
    try:
        return psutil.Process(pid).children(recursive=True)
    except psutil.NoSuchProcess:
        return []


def kill_all(processes: list) -> None:
    """SIGKILL those of ``processes`` (psutil.Process) still running, and reap them."""
    for process in processes:
        try:
            process.kill()  # psutil refuses if the pid now belongs to another process
        except psutil.NoSuchProcess:
            pass
    psutil.wait_procs(processes, timeout=10)


def free_port() -> int:
    """A loopback port free right now (for servers that must be told their port)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]
