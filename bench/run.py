"""Run every benchmark of nbauth against msal, and write the results.

    python bench/run.py            # the full run (about 5 minutes on 2 cores)
    python bench/run.py --quick    # fewer sizes and rounds
    python bench/run.py --only cache_hit --only imports
    python bench/run.py --only clusters   # Dask workers (opt-in: the test extra's Dask, up to 8 processes)

Prints each table as it completes; writes ``latest.md``, ``latest.json`` and
``cache_hit_vs_n.png`` into ``--out`` (default ``bench/results``). Exits 1 if any measured case
failed its check (a "cache hit" that was not one, a token that was not served, ...).
"""
from __future__ import annotations

import argparse
import sys
import tempfile
import time
import traceback
from pathlib import Path
from typing import Callable, Dict, List, Optional, Sequence

if __package__ in (None, ""):  # run as a script: make the `bench` package importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import machine, plot, report  # noqa: E402
from bench.cases import cache_hit, clusters, event_loop, fanout, imports, kernel, persist_cost, persisted_hit  # noqa: E402
from bench.context import PROFILES, Context  # noqa: E402
from bench.providers import REPO, Providers  # noqa: E402
from bench.table import Table, markdown  # noqa: E402

CASES: Dict[str, Callable[[Context], Table]] = {
    "cache_hit": cache_hit.run, "persisted_hit": persisted_hit.run, "imports": imports.run,
    "fanout": fanout.run, "kernel": kernel.run, "persist_cost": persist_cost.run, "event_loop": event_loop.run,
    "clusters": clusters.run,
}
#: Run only when named with --only (they need the test extra's Dask and start many processes).
OPT_IN = {"clusters"}


def _arguments(argv: Optional[Sequence[str]]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    size = parser.add_mutually_exclusive_group()
    size.add_argument("--quick", dest="profile", action="store_const", const="quick", help="a fast, smaller run")
    size.add_argument("--smoke", dest="profile", action="store_const", const="smoke",
                      help="each benchmark once, tiny (for the test suite)")
    parser.add_argument("--only", action="append", choices=sorted(CASES), help="run only this benchmark (repeatable)")
    parser.add_argument("--out", type=Path, default=REPO / "bench" / "results", help="where to write the results")
    parser.set_defaults(profile="full")
    return parser.parse_args(argv)


def _run_case(name: str, ctx: Context) -> Table:
    print(f"[bench] {name} ...", file=sys.stderr, flush=True)
    started = time.perf_counter()
    try:
        table = CASES[name](ctx)
    except Exception:  # one broken benchmark must not hide the others' results
        table = Table(name, f"{name}: did not run", "The benchmark raised an exception.",
                      failures=[f"```\n{traceback.format_exc()[-3000:]}```"])
    print(f"[bench] {name} took {time.perf_counter() - started:.1f} s", file=sys.stderr, flush=True)
    print(markdown(table), flush=True)
    return table


def main(argv: Optional[Sequence[str]] = None) -> int:
    args = _arguments(argv)
    command = "python bench/run.py" + "".join(f" {a}" for a in (argv if argv is not None else sys.argv[1:]))
    started, load_at_start = time.perf_counter(), machine.load()
    with tempfile.TemporaryDirectory(prefix="nbauth-bench-") as work, Providers(Path(work)) as providers:
        ctx = Context(PROFILES[args.profile], providers, Path(work))
        wanted = args.only or [name for name in CASES if name not in OPT_IN]
        tables: List[Table] = [_run_case(name, ctx) for name in CASES if name in wanted]
    info = machine.describe(REPO, load_at_start)
    seconds = time.perf_counter() - started
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "latest.md").write_text(report.document(info, tables, seconds, command, args.profile))
    (args.out / "latest.json").write_text(report.as_json(info, tables, ctx.extras))
    if "cache_hit_curves" in ctx.extras:
        plot.cache_hit_curves(ctx.extras["cache_hit_curves"], args.out / "cache_hit_vs_n.png",
                              f"acquire_token_silent cache hits, nbauth vs msal ({info['date']}; {info['machine']})")
    print(report.summary(tables))
    print(f"[bench] wrote {args.out / 'latest.md'} in {seconds / 60:.1f} minutes", file=sys.stderr)
    return 1 if any(table.failures for table in tables) else 0


if __name__ == "__main__":
    sys.exit(main())
