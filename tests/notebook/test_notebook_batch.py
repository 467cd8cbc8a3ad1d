"""The quickstart executed by ``jupyter nbconvert --execute`` with nobody at a front end, against the
local provider: without a saved sign-in it fails at once with one line naming the non-interactive
options; with one, it runs and its HTML export shows the signed-in line (a plain display, no widget)."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

import nbauth
from idp.server import EMAILS, NATIVE_CLIENT, USERS

REPO = Path(__file__).resolve().parents[2]
QUICKSTART = REPO / "notebooks" / "quickstart.ipynb"
ONE_LINE = ("InteractionUnavailable: sign-in needs a person, and none can be reached here (a batch run: "
            "nbconvert --execute, papermill or nbclient runs the notebook with no one at a front end). "
            "Non-interactive options: a token already in the per-user cache")
#: nbclient's debug log with each line's time: cells start with "Executing cell:", then each message's type.
LOG_FORMAT = "%(created).3f %(message)s"
pytestmark = pytest.mark.timeout(120)


def first_cell_took(log: str) -> float:
    """Seconds from the first cell's start to its error, from nbclient's log (the kernel's start, which
    depends on the machine, is not the cell's doing)."""
    times = {}
    for line in log.splitlines():
        stamp, _, message = line.partition(" ")
        if message in ("Executing cell:", "msg_type: error"):
            times.setdefault(message, float(stamp))
    return times["msg_type: error"] - times["Executing cell:"]


@pytest.fixture
def batch(idp, tmp_path):
    """Runs ``jupyter nbconvert --execute --to notebook`` on the quickstart in a clean environment (no
    ``CI``, no ``NBAUTH_UI``: detection decides), logging nbclient's messages with their times; returns
    (the finished process, the executed notebook or None)."""
    env = {k: v for k, v in os.environ.items() if k not in ("CI", "NBAUTH_UI", "NBAUTH_SIGN_IN")}
    env.update(PYTHONPATH=os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")])),
               NBAUTH_CACHE_PATH=str(tmp_path / "cache" / "token_cache.json"), NBAUTH_DEMO_AUTHORITY=idp.issuer,
               IPYTHONDIR=str(tmp_path / "ipython"), JUPYTER_PLATFORM_DIRS="1")

    def run():
        out = tmp_path / "out"
        done = subprocess.run([sys.executable, "-m", "nbconvert", "--execute", "--to", "notebook",
                               "--output-dir", str(out), "--log-level=DEBUG", f"--NbConvertApp.log_format={LOG_FORMAT}",
                               str(QUICKSTART)],
                              env=env, capture_output=True, text=True, timeout=90, stdin=subprocess.DEVNULL)
        executed = out / QUICKSTART.name
        return done, nbformat.read(executed, as_version=4) if executed.exists() else None

    run.cache_path = env["NBAUTH_CACHE_PATH"]
    return run


def test_without_a_saved_sign_in_the_run_fails_at_once_with_one_line(batch, idp):
    idp.reset_stats()
    done, _ = batch()
    assert done.returncode != 0
    assert first_cell_took(done.stderr) < 5
    report = done.stderr.rsplit("-" * 18, 1)[1]  # the cell's error, after nbconvert's report of the cell
    [line] = [line for line in report.splitlines() if line.strip()]  # one line, no traceback
    assert line.startswith(ONE_LINE)
    for option in ("ConfidentialClientApplication", "NBAUTH_UI=widget"):
        assert option in line
    assert not [e for e in idp.request_log() if e["endpoint"] == "device_authorization"]


def test_with_a_saved_sign_in_the_run_succeeds_and_its_html_shows_the_signed_in_line(batch, idp, tmp_path):
    cache = nbauth.PersistedTokenCache(batch.cache_path)
    app = nbauth.PublicClientApplication(NATIVE_CLIENT, oidc_authority=idp.issuer, token_cache=cache)
    assert "access_token" in app.acquire_token_by_username_password("alice", USERS["alice"], ["api:read"])
    done, executed = batch()
    assert done.returncode == 0, done.stderr
    line = f"Signed in as {EMAILS['alice']} at {idp.issuer} (saved sign-in). Tokens refresh automatically."
    login_cell, _, token_cell = [c for c in executed.cells if c.cell_type == "code"]
    [output] = login_cell.outputs
    assert output.output_type == "display_data" and output.data["text/plain"] == line
    assert set(output.data) == {"text/plain", "text/html"}  # a plain display: no widget to lose
    assert "widgets" not in executed.metadata
    assert token_cell.outputs[0].text.startswith(f"signed in as {EMAILS['alice']}")
    html = tmp_path / "quickstart.html"
    subprocess.run([sys.executable, "-m", "nbconvert", "--to", "html", "--output", str(html),
                    str(tmp_path / "out" / QUICKSTART.name)], check=True, capture_output=True, timeout=60)
    assert line in html.read_text()
