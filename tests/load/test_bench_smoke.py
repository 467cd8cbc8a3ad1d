"""The benchmarks still run: ``bench/run.py --smoke`` runs each one once, tiny, against the local
provider and a real kernel. Timings are not asserted; every measured case's own check is (a cache
hit that sent a request, a token not served, ... makes the run exit 1)."""
import json
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
TABLES = ("cache_hit", "persisted_hit", "imports", "fanout", "kernel", "persist_cost", "event_loop")


def test_every_benchmark_runs_once_and_checks_what_it_measures(tmp_path):
    done = subprocess.run([sys.executable, str(REPO / "bench" / "run.py"), "--smoke", "--out", str(tmp_path)],
                          cwd=REPO, capture_output=True, text=True, timeout=240)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    results = json.loads((tmp_path / "latest.json").read_text())
    tables = {table["key"]: table for table in results["tables"]}
    assert sorted(tables) == sorted(TABLES)
    for key, table in tables.items():
        assert table["rows"] and table["checks"] and not table["failures"], key
        for row in table["rows"]:  # msal has no async API: the event-loop case compares nbauth's credentials
            assert set(row["values"]) == ({"nbauth"} if key == "event_loop" else {"nbauth", "msal"}), (key, row["label"])
    assert {"date", "machine", "python", "packages"} <= set(results["info"])
    markdown = (tmp_path / "latest.md").read_text()
    assert "## Targets (issue 9)" in markdown and markdown.count("nbauth/msal |") >= len(TABLES)
    assert (tmp_path / "cache_hit_vs_n.png").read_bytes().startswith(b"\x89PNG")
