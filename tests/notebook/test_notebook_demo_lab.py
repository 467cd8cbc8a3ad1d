"""``make demo DEMO_ARGS=--lab``: JupyterLab serves a scratch copy of the quickstart beside the provider."""
from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import psutil
import pytest
import requests

from support.lab import serving
from support.processes import descendants, free_port, kill_all

DEMO = Path(__file__).resolve().parents[2] / "notebooks" / "demo.py"
LAB_URL = re.compile(r"(http://127\.0\.0\.1:\d+)/lab\?token=(\w+)")


def test_demo_lab_serves_the_quickstart_until_ctrl_c(tmp_path):
    env = {**os.environ, "JUPYTER_RUNTIME_DIR": str(tmp_path / "runtime"),
           "JUPYTER_CONFIG_DIR": str(tmp_path / "config"), "JUPYTER_DATA_DIR": str(tmp_path / "data")}
    demo = subprocess.Popen([sys.executable, str(DEMO), "--lab", "--no-browser", f"--port={free_port()}"],
                            env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True, start_new_session=True)
    found, lines = threading.Event(), []

    def read() -> None:
        for line in demo.stdout:
            lines.append(line)
            if LAB_URL.search(line):
                found.set()
        found.set()

    threading.Thread(target=read, daemon=True).start()
    family = []
    try:
        assert found.wait(90) and demo.poll() is None, "".join(lines[-30:])
        family = descendants(demo.pid)  # the provider and JupyterLab
        base, token = LAB_URL.search("".join(lines)).groups()
        issuer = re.search(r"issuer: (\S+)", "".join(lines)).group(1)
        assert f"Opening quickstart.ipynb in JupyterLab (provider {issuer})" in "".join(lines)
        headers = {"Authorization": f"token {token}"}
        assert serving(f"{base}/api/status", headers, demo, time.monotonic() + 30)
        listing = requests.get(f"{base}/api/contents", headers=headers, timeout=10).json()
        assert [item["name"] for item in listing["content"]] == ["quickstart.ipynb"]
        os.killpg(demo.pid, signal.SIGINT)  # Ctrl-C reaches the whole foreground group
        assert demo.wait(30) == 130
        assert psutil.wait_procs(family, timeout=10)[1] == []  # nothing left behind
    finally:
        if demo.poll() is None:
            demo.kill()
            demo.wait()
        kill_all(family)
    with pytest.raises(requests.ConnectionError):  # the provider stopped with the demo
        requests.get(f"{issuer}/.well-known/openid-configuration", timeout=5)
