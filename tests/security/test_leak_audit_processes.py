"""The leak audit, part two: nbauth in other processes (see ``test_leak_audit.py`` for the rest).

A quickstart notebook executed in a real kernel with every logger at DEBUG, then saved, is
searched for the tokens of its cache file and its device code. The ``nbauth`` command, run with
every logger at DEBUG and ``http.client``'s dump on, is searched for those and for what its own
wire dump shows it sent; ``nbauth token`` prints the token, its purpose, and nothing else.
"""
from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import List, Set
from urllib.parse import parse_qsl

from idp.server import NATIVE_CLIENT
from support.cli import CODE, cache_path, env  # noqa: F401 - fixtures
from support.leaks import SENT_SECRETS, WIRE_DUMP
from support.kernel import kernel_env, quickstart  # noqa: F401 - kernel_env is a fixture
from support.kernel_sign_in import shown_code


#: Writes the device code of the flow being polled to {path} (found among live objects: nbauth
#: keeps it nowhere a caller could print it).
KEEP_DEVICE_CODE = """
import gc
from nbauth.protocol.device import DeviceFlow
open({path!r}, "w").write(next(o.device_code for o in gc.get_objects() if isinstance(o, DeviceFlow)))
"""


def test_a_saved_executed_notebook_leaks_nothing(idp, kernel_env, tmp_path):
    """The quickstart run in a real kernel with every logger at DEBUG (its log lines land in the
    cells' outputs), the handle and a result displayed, then saved: the file holds no secret."""
    import nbformat

    kernel_env(idp.issuer)
    kernel, saved, device_code = quickstart(), tmp_path / "executed.ipynb", tmp_path / "device_code"
    with kernel.client.setup_kernel():
        kernel.run("import logging\nlogging.basicConfig(level=logging.DEBUG, force=True)")
        kernel.execute(0)
        code = shown_code(kernel)  # asked for in the background
        kernel.run(KEEP_DEVICE_CODE.format(path=str(device_code)))  # the poller's flow, while it waits
        idp.approve_device(code, "alice")
        kernel.execute(1)
        kernel.execute(2)
        kernel.run("me")
        kernel.run("me.app.acquire_token_silent(['api:read'], me.account, force_refresh=True)")
    nbformat.write(kernel.nb, saved)
    text = saved.read_text()
    cache = json.loads(Path(os.environ["NBAUTH_CACHE_PATH"]).read_text())
    secrets = {entry["secret"] for section in ("AccessToken", "RefreshToken", "IdToken")
               for entry in cache[section].values()} | {device_code.read_text()}
    assert len(secrets) >= 4 and [s[:12] for s in secrets if s in text] == []
    assert "DEBUG:nbauth" in text and "signed in as alice@example.test" in text  # it ran, logging


#: The nbauth command with every logger at DEBUG (to stderr) and http.client's dump on (stdout).
CLI_WITH_DEBUG = """
import http.client, logging, sys
logging.basicConfig(level=logging.DEBUG)
http.client.HTTPConnection.debuglevel = 1
from nbauth.cli.command import main
sys.exit(main(sys.argv[1:]))
"""


def sent_in_dump(dump: str) -> Set[tuple]:
    """(kind, value) of the secrets in the form bodies http.client's dump shows being sent."""
    found = set()
    for body in re.findall(r"send: b'([^' ]*=[^' ]*)'", dump):
        form = dict(parse_qsl(body))
        found |= {(k, form[k]) for k in SENT_SECRETS if form.get(k)}
    return found


def run_cli(command: List[str], env: dict, idp=None) -> tuple:
    """(stdout without http.client's dump, stderr, the dump) of a finished command; with ``idp``,
    the device code it shows on stderr is approved for alice."""
    import subprocess
    import sys

    child = subprocess.Popen([sys.executable, "-c", CLI_WITH_DEBUG, *command], env=env, stdin=subprocess.DEVNULL,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        before = _until_code(child, idp) if idp is not None else ""
        out, err = child.communicate(timeout=60)
    finally:
        child.kill()
    assert child.returncode == 0, (command, err)
    return WIRE_DUMP.sub("", out), before + err, "\n".join(WIRE_DUMP.findall(out))


def test_the_nbauth_command_leaks_nothing(idp, env, cache_path):
    """login (a device code on a forced terminal), token, token --force-refresh, accounts, cache, logout."""
    env = dict(env, NBAUTH_UI="terminal", NBAUTH_CLIENT_ID=NATIVE_CLIENT, NBAUTH_OIDC_AUTHORITY=idp.issuer,
               NBAUTH_SCOPES="api:read")
    runs = {"login": run_cli(["login"], env, idp)}
    secrets = cache_secrets(cache_path)
    for command in (["token"], ["token", "--force-refresh"], ["accounts", "--json"], ["cache", "--json"], ["logout"]):
        runs[" ".join(command)] = run_cli(command, env)
        secrets |= cache_secrets(cache_path)
    sent = set().union(*(sent_in_dump(dump) for _, _, dump in runs.values()))
    assert {"device_code", "refresh_token", "token"} <= {kind for kind, _ in sent}  # polled, refreshed, revoked
    secrets |= {value for _, value in sent}
    for name in ("token", "token --force-refresh"):
        out, err, dump = runs[name]
        assert len(out.split()) == 1 and out.strip() in secrets  # the token, its purpose, and nothing else
        runs[name] = ("", err, dump)
    shown = [(name, text) for name, (out, err, _) in runs.items() for text in (out, err)]
    assert sorted({(s[:12], name) for s in secrets for name, text in shown if s in text}) == []
    assert "DEBUG:nbauth" in runs["login"][1]  # the command's debug logging was on


def _until_code(child, idp) -> str:
    """Read the login's stderr until the device code shows; approve it; what was read."""
    seen = []
    for line in iter(child.stderr.readline, ""):
        seen.append(line)
        found = CODE.search(line)
        if found:
            idp.approve_device(found.group(1), "alice")
            return "".join(seen)
    raise AssertionError(f"no device code in {''.join(seen)!r}")


def cache_secrets(path: Path) -> Set[str]:
    if not path.exists():
        return set()
    cache = json.loads(path.read_text())
    return {entry["secret"] for section in ("AccessToken", "RefreshToken", "IdToken")
            for entry in cache.get(section, {}).values()}
