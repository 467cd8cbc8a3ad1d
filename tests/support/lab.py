"""A JupyterLab server for tests: isolated Jupyter folders, 127.0.0.1, a random token."""
from __future__ import annotations

import json
import os
import secrets
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import requests

from support.processes import descendants, free_port, kill_all

LAB_START_SECONDS = 90


def serving(url: str, headers: dict, server: subprocess.Popen, deadline: float) -> bool:
    """Jupyter logs its URL a moment before it accepts connections: probe ``url`` until it answers,
    between probes waiting on ``server``'s exit (False at once if it ends)."""
    while time.monotonic() < deadline:
        try:
            requests.get(url, headers=headers, timeout=5).raise_for_status()
            return True
        except requests.RequestException:
            try:
                server.wait(timeout=0.1)
                return False
            except subprocess.TimeoutExpired:
                pass
    return False


REPO = Path(__file__).resolve().parents[2]
#: Where browser tests save their screenshots, for a person to look at.
ARTIFACTS = REPO / "test-artifacts" / "browser"
#: The server config file nbauth ships (it enables nbauth's server extension).
SHIPPED_CONFIG = REPO / "jupyter-config" / "jupyter_server_config.d" / "nbauth.json"
#: JupyterLab options for tests: no news, no update check, no extension manager.
QUIET_LAB_ARGS = ("--LabApp.news_url=None", "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
                  "--LabApp.extension_manager=readonly")
_APPS = {  # how each front end is started, and its option for exposing the app object to tests
    "lab": ("jupyterlab", "--LabApp.expose_app_in_browser=True", "lab"),
    "notebook": ("notebook", "--JupyterNotebookApp.expose_app_in_browser=True", "tree"),
}


class Lab:
    """A JupyterLab (or Notebook 7) server with its own Jupyter folders, serving ``root``.

    ``extension`` enables nbauth's server extension with the config file the package ships; without
    it, the extension is disabled (an installed nbauth enables it in the environment's config).
    ``disabled`` names front-end extensions to turn off in this server's own config (what
    ``jupyter labextension disable`` writes). The server and its kernels import nbauth from this checkout.
    """

    def __init__(self, home: Path, env: dict, *, app: str = "lab", extension: bool = False,
                 disabled: tuple = ()):
        self.app, self.extension, self.disabled = app, extension, disabled
        self.root = home / "nb"
        self.token = secrets.token_hex(16)
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self._home, self._env = home, env
        self._proc: subprocess.Popen | None = None
        self._ready = threading.Event()
        self.log: list[str] = []

    def start(self) -> "Lab":
        self.root.mkdir(parents=True)
        settings = quiet_lab_settings(self._home / "lab-settings")
        config_d = _mkdir(self._home / "config" / "jupyter_server_config.d")
        if self.extension:
            shutil.copy(SHIPPED_CONFIG, config_d)
        else:  # the environment's config (the package's data files) enables it: the user's turns it off
            (config_d / SHIPPED_CONFIG.name).write_text(json.dumps(
                {"ServerApp": {"jpserver_extensions": {"nbauth.serverext": False}}}))
        if self.disabled:
            (_mkdir(self._home / "config" / "labconfig") / "page_config.json").write_text(
                json.dumps({"disabledExtensions": {name: True for name in self.disabled}}))
        module, expose, landing = _APPS[self.app]
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")])),
               **self._env,
               "JUPYTER_PREFER_ENV_PATH": "0",  # this server's own folders come before the venv's
               "JUPYTER_CONFIG_DIR": str(self._home / "config"), "JUPYTER_DATA_DIR": str(self._home / "data"),
               "JUPYTER_RUNTIME_DIR": str(self._home / "runtime"), "JUPYTERLAB_SETTINGS_DIR": str(settings),
               "JUPYTERLAB_WORKSPACES_DIR": str(self._home / "workspaces"),
               "IPYTHONDIR": str(self._home / "ipython")}
        self._proc = subprocess.Popen(
            [sys.executable, "-m", module, "--no-browser", "--allow-root", "--ip=127.0.0.1",
             f"--port={self.port}", "--ServerApp.port_retries=0", f"--IdentityProvider.token={self.token}",
             f"--ServerApp.root_dir={self.root}", *QUIET_LAB_ARGS, expose],
            env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
            start_new_session=True)
        follow_log(self._proc, self.log, f"127.0.0.1:{self.port}/{landing}", self._ready)
        if not (self._ready.wait(LAB_START_SECONDS) and self._serving(deadline=time.monotonic() + 30)):
            self.stop()
            raise RuntimeError("JupyterLab did not start:\n" + "\n".join(self.log[-40:]))
        return self

    def _serving(self, deadline: float) -> bool:
        return serving(f"{self.url}/api/status", self.headers, self._proc, deadline)

    @property
    def runtime_dir(self) -> Path:
        """The server's (and its kernels') Jupyter runtime folder."""
        return self._home / "runtime"

    @property
    def headers(self) -> dict:
        return {"Authorization": f"token {self.token}"}

    def add_notebook(self, source: Path) -> Path:
        return Path(shutil.copy(source, self.root / source.name))

    def page_url(self, notebook: str) -> str:
        if self.app == "notebook":
            return f"{self.url}/notebooks/{notebook}?token={self.token}"
        return f"{self.url}/lab/tree/{notebook}?token={self.token}&reset"  # reset: no earlier tab comes back

    def shut_down_kernels(self) -> None:
        """End every session and kernel, as if the server had just started (its files stay)."""
        api = f"{self.url}/api"
        for session in requests.get(f"{api}/sessions", headers=self.headers, timeout=10).json():
            requests.delete(f"{api}/sessions/{session['id']}", headers=self.headers, timeout=30).raise_for_status()
        for kernel in requests.get(f"{api}/kernels", headers=self.headers, timeout=10).json():
            requests.delete(f"{api}/kernels/{kernel['id']}", headers=self.headers, timeout=30).raise_for_status()

    def stop(self) -> None:
        """Shut the server and its kernels down (kernels run in sessions of their own)."""
        proc, self._proc = self._proc, None
        if proc is None:
            return
        family = descendants(proc.pid)
        try:
            requests.post(f"{self.url}/api/shutdown", headers=self.headers, timeout=10)
            proc.wait(20)
        except (requests.RequestException, subprocess.TimeoutExpired):
            proc.kill()
            proc.wait()
        kill_all(family)
        proc.stderr.close()


def follow_log(proc: subprocess.Popen, log: list, marker: str, ready: threading.Event) -> None:
    """Collect ``proc``'s stderr lines into ``log`` (in a thread); set ``ready`` at the first line
    with ``marker`` in it, or when the stream ends."""
    def read() -> None:
        for raw in proc.stderr:
            line = raw.decode("utf-8", "replace").rstrip()
            log.append(line)
            if marker in line:
                ready.set()
        ready.set()

    threading.Thread(target=read, name="server-log", daemon=True).start()


def quiet_lab_settings(folder: Path) -> Path:
    """A JupyterLab settings folder that asks nothing (no news notification); ``folder``."""
    notification = folder / "@jupyterlab" / "apputils-extension" / "notification.jupyterlab-settings"
    notification.parent.mkdir(parents=True)
    notification.write_text(json.dumps({"fetchNews": "false", "checkForUpdates": False}))
    return folder


def _mkdir(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    return path
