"""A real JupyterHub for tests, on 127.0.0.1: configurable-http-proxy (tests/hub's npm package), the
dummy authenticator (any name, any password) and the local-process spawner, each user's server
(JupyterLab, nbauth's server extension enabled through the environment's config) in a home folder of
its own."""
from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from pathlib import Path

from support.lab import QUIET_LAB_ARGS, REPO, follow_log, quiet_lab_settings, serving
from support.processes import descendants, free_port, kill_all

PROXY = REPO / "tests" / "hub" / "node_modules" / ".bin" / "configurable-http-proxy"
HUB_START_SECONDS = 60
#: How long a user's server may take to start (two at once on a busy machine take a while).
SPAWN_SECONDS = 90


class Hub:
    """A JupyterHub whose users' servers (and kernels) see ``env``; ``home(name)`` is a user's folder
    (their server's root and ``HOME``)."""

    def __init__(self, folder: Path, env: dict):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self._folder, self._env = folder, env
        self._proc: subprocess.Popen | None = None
        self._ready = threading.Event()
        self.log: list[str] = []

    def home(self, user: str) -> Path:
        return self._folder / "home" / user

    def page_url(self, user: str, notebook: str) -> str:
        return f"{self.url}/user/{user}/lab/tree/{notebook}?reset"

    def start(self) -> "Hub":
        if not PROXY.exists():
            raise RuntimeError(f"{PROXY} is missing: run `npm ci --prefix tests/hub` (the Makefile does)")
        config = self._folder / "jupyterhub_config.py"
        config.write_text("".join(f"c.{name} = {value!r}\n" for name, value in self._config().items()))
        self._proc = subprocess.Popen(
            [sys.executable, "-m", "jupyterhub", "-f", str(config)], cwd=self._folder,
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE, start_new_session=True)
        follow_log(self._proc, self.log, "JupyterHub is now running", self._ready)
        deadline = time.monotonic() + HUB_START_SECONDS
        if not (self._ready.wait(HUB_START_SECONDS) and serving(
                f"{self.url}/hub/api/", {}, self._proc, deadline)):
            self.stop()
            raise RuntimeError("JupyterHub did not start:\n" + "\n".join(self.log[-40:]))
        return self

    def _config(self) -> dict:
        folder, bin_dir = self._folder, Path(sys.executable).parent
        return {
            "JupyterHub.ip": "127.0.0.1", "JupyterHub.port": self.port,
            "JupyterHub.hub_ip": "127.0.0.1", "JupyterHub.hub_port": free_port(),
            "ConfigurableHTTPProxy.api_url": f"http://127.0.0.1:{free_port()}",
            "ConfigurableHTTPProxy.command": [str(PROXY)],
            "ConfigurableHTTPProxy.pid_file": str(folder / "proxy.pid"),
            "JupyterHub.db_url": f"sqlite:///{folder / 'jupyterhub.sqlite'}",
            "JupyterHub.cookie_secret_file": str(folder / "jupyterhub_cookie_secret"),
            "JupyterHub.pid_file": str(folder / "jupyterhub.pid"),
            "JupyterHub.authenticator_class": "jupyterhub.auth.DummyAuthenticator",
            "Authenticator.allow_all": True,
            "JupyterHub.spawner_class": "jupyterhub.spawner.SimpleLocalProcessSpawner",
            "SimpleLocalProcessSpawner.home_dir_template": str(folder / "home" / "{username}"),
            "Spawner.ip": "127.0.0.1",
            "Spawner.cmd": [str(bin_dir / "jupyterhub-singleuser")],
            "Spawner.args": ["--allow-root", *QUIET_LAB_ARGS, "--LabApp.expose_app_in_browser=True"],
            "Spawner.default_url": "/lab",
            "Spawner.start_timeout": SPAWN_SECONDS, "Spawner.http_timeout": SPAWN_SECONDS,
            "Spawner.environment": {
                "PATH": os.environ["PATH"], "PYTHONPATH": str(REPO),
                "JUPYTERLAB_SETTINGS_DIR": str(quiet_lab_settings(folder / "lab-settings")), **self._env},
        }

    def stop(self) -> None:
        """Stop the hub (it stops the users' servers and the proxy), then anything left of them."""
        proc, self._proc = self._proc, None
        if proc is None:
            return
        family = descendants(proc.pid)
        proc.terminate()
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        kill_all(family)
        proc.stderr.close()
