"""Azurite (the Azure Storage emulator, npm ``azurite`` in tests/azurite) on 127.0.0.1 with https
and ``--oauth basic``: it takes bearer tokens whose ``iss`` is Entra-shaped and whose ``aud`` is the
storage resource, which the local provider issues for the ``STORAGE_SCOPE`` (tests/idp/op/directory.mjs)."""
from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
from pathlib import Path

AZURITE_DIR = Path(__file__).resolve().parent.parent / "azurite"
BLOB_MAIN = AZURITE_DIR / "node_modules" / "azurite" / "dist" / "src" / "blob" / "main.js"
ACCOUNT = "devstoreaccount1"
STORAGE_SCOPE = "https://storage.azure.com/.default"
READY = "successfully listens"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Azurite:
    """Azurite's blob service, started by ``with Azurite(ca) as azurite:``; ``account_url`` is
    its path-style account URL and ``account_host`` what adlfs takes."""

    def __init__(self, ca, startup_timeout: float = 30.0) -> None:
        self._ca, self._timeout = ca, startup_timeout
        self._proc = None
        self._tmp = tempfile.mkdtemp(prefix="nbauth-azurite-")
        self.port = _free_port()
        self.account_host = f"127.0.0.1:{self.port}/{ACCOUNT}"
        self.account_url = f"https://{self.account_host}"

    def __enter__(self) -> "Azurite":
        if not BLOB_MAIN.is_file():
            raise RuntimeError(f"{BLOB_MAIN} is missing: run `make test`, or `npm ci --prefix tests/azurite`")
        cert, key = self._ca.issue_server_cert(self._tmp, name="azurite")
        self._proc = subprocess.Popen(
            ["node", str(BLOB_MAIN), "--blobHost", "127.0.0.1", "--blobPort", str(self.port), "--oauth", "basic",
             "--cert", cert, "--key", key, "--inMemoryPersistence", "--skipApiVersionCheck",
             "--disableProductStyleUrl"],
            cwd=AZURITE_DIR, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True)
        told, output = threading.Event(), []

        def read() -> None:  # to the end, so its output never fills the pipe
            for line in self._proc.stdout:
                output.append(line.decode(errors="replace"))
                if READY in output[-1]:
                    told.set()
            told.set()  # ended: the check below says so
        threading.Thread(target=read, name="azurite-stdout", daemon=True).start()
        if not told.wait(self._timeout) or not any(READY in line for line in output):
            self.__exit__()
            raise RuntimeError(f"Azurite did not start: {''.join(output)[-2000:]}")
        return self

    def __exit__(self, *exc_info) -> None:
        if self._proc is not None:
            try:
                os.killpg(self._proc.pid, signal.SIGTERM)
                self._proc.wait(10)
            except (ProcessLookupError, subprocess.TimeoutExpired):
                os.killpg(self._proc.pid, signal.SIGKILL)
                self._proc.wait()
            self._proc.stdout.close()
            self._proc = None
        shutil.rmtree(self._tmp, ignore_errors=True)
