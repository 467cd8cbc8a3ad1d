"""``make demo DEMO_ARGS=--lab``: JupyterLab on the quickstart, with the local provider running.

The quickstart is copied to a scratch folder (the committed notebook keeps no outputs), and its
kernel finds the provider through ``NBAUTH_DEMO_AUTHORITY``, trusts the provider's throwaway CA,
and keeps its tokens in a scratch cache (not your real per-user one).
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

NOTEBOOKS = Path(__file__).resolve().parent
QUICKSTART = NOTEBOOKS / "quickstart.ipynb"


def lab_command(root: Path, port: int, open_browser: bool) -> list:
    command = [sys.executable, "-m", "jupyterlab", str(root / QUICKSTART.name), f"--ServerApp.root_dir={root}",
               "--ip=127.0.0.1", f"--port={port}", "--LabApp.news_url=None",
               "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate"]
    if not open_browser:
        command.append("--no-browser")
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        command.append("--allow-root")
    return command


def run_lab(issuer: str, ca_path: str, *, port: int = 8888, open_browser: bool = True) -> int:
    """Serve the quickstart until Ctrl-C; returns JupyterLab's exit status (130 after Ctrl-C)."""
    with tempfile.TemporaryDirectory(prefix="nbauth-demo-") as scratch:
        root = Path(scratch)
        shutil.copy(QUICKSTART, root / QUICKSTART.name)
        env = {**os.environ, "NBAUTH_DEMO_AUTHORITY": issuer, "REQUESTS_CA_BUNDLE": ca_path,
               "NBAUTH_CACHE_PATH": str(root / "token_cache.json")}
        print(f"Opening {QUICKSTART.name} in JupyterLab (provider {issuer}); Ctrl-C stops both.", flush=True)
        # its own session: Ctrl-C comes here only (JupyterLab would ask to confirm), and we end it
        lab = subprocess.Popen(lab_command(root, port, open_browser), env=env, start_new_session=True)
        try:
            return lab.wait()
        except KeyboardInterrupt:
            lab.terminate()
            try:
                lab.wait(15)
            except subprocess.TimeoutExpired:
                lab.kill()
                lab.wait()
            return 130
