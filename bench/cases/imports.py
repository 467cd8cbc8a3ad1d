"""2. Import time, and whole processes serving a cached token (a script, the ``nbauth token`` CLI)."""
from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import shutil
import subprocess
import time
from pathlib import Path
from typing import Callable, Dict, List, Optional, Tuple

from ..cachefiles import serialized, write_private
from ..context import Context
from ..events import CLIENT_ID, Population
from ..harness import Stats, interleaved
from ..libs import LIBRARIES
from ..providers import token_endpoint, token_requests
from ..table import Row, Table, Target

CHILD = Path(__file__).resolve().parent.parent / "children" / "first_token.py"
IMPORT_TARGET = Target("≤ 0.5× msal", max_ratio=0.5)
#: Modules a light ``import nbauth`` must not load (the team's rule), and that msal loads.
HEAVY = ("requests", "urllib3", "jwt", "cryptography", "ipywidgets", "IPython")
PROGRAMS = {"bare": "pass", "nbauth": "import nbauth", "msal": "import msal",
            "nbauth app": "from nbauth import PublicClientApplication",
            "msal app": "from msal import PublicClientApplication"}
ABOUT = """\
Fresh `python` processes of this venv, interleaved, wall time from spawn to exit. Import rows are
given over a bare `python -c pass` of the same round. The token rows are whole processes serving
a cached token from a cache file of 10 tokens: a script (import, open the persisted cache,
`get_accounts`, `acquire_token_silent`; msal with msal-extensions' PersistedTokenCache), and
`nbauth token` (settings from NBAUTH_* variables) against the msal script."""


def run(ctx: Context) -> Table:
    table = Table("imports", "2. Import and first token", ABOUT)
    _imports(ctx, table)
    _first_token(ctx, table)
    return table


def _process(argv: List[str], ctx: Context, env: Optional[dict] = None) -> Tuple[float, subprocess.CompletedProcess]:
    started = time.perf_counter()
    done = subprocess.run(argv, capture_output=True, text=True, cwd=ctx.repo, env=env, timeout=120)
    return time.perf_counter() - started, done


def _runner(ctx: Context, table: Table, argv: List[str], check: Callable[[subprocess.CompletedProcess], str],
            env: Optional[dict] = None) -> Callable[[], float]:
    def measure() -> float:
        elapsed, done = _process(argv, ctx, env)
        problem = check(done) if done.returncode == 0 else f"exit {done.returncode}: {done.stderr[-300:]}"
        table.expect(not problem, f"{' '.join(argv[-2:])}: {problem}")
        return elapsed
    return measure


def _imports(ctx: Context, table: Table) -> None:
    runners = {name: _runner(ctx, table, [ctx.python, "-c", code], lambda done: "")
               for name, code in PROGRAMS.items()}
    values = interleaved(runners, ctx.profile.import_rounds)
    over = {name: [v - b for v, b in zip(values[name], values["bare"])] for name in PROGRAMS if name != "bare"}
    table.add(Row("`import nbauth` vs `import msal`, over bare Python",
                  {"nbauth": Stats.of(over["nbauth"]), "msal": Stats.of(over["msal"])}, target=IMPORT_TARGET))
    table.add(Row("`from … import PublicClientApplication`, over bare Python",
                  {"nbauth": Stats.of(over["nbauth app"]), "msal": Stats.of(over["msal app"])}))
    table.notes.append(f"bare `python -c pass`: median {Stats.of(values['bare']).median * 1e3:.1f} ms")
    loaded = {lib: _heavy_modules(ctx, code) for lib, code in (("nbauth", "import nbauth"), ("msal", "import msal"))}
    table.check(not loaded["nbauth"], "`import nbauth` loads none of " + ", ".join(HEAVY)
                + f" (msal's import loads {', '.join(loaded['msal']) or 'none'})")


def _heavy_modules(ctx: Context, code: str) -> List[str]:
    probe = f"{code}; import sys, json; print(json.dumps([m for m in {list(HEAVY)!r} if m in sys.modules]))"
    return json.loads(_process([ctx.python, "-c", probe], ctx)[1].stdout)


def _first_token(ctx: Context, table: Table) -> None:
    provider = ctx.providers.get()
    population = Population(token_endpoint(provider), 10, issuer=provider.issuer, tag="first-token")
    probe = population.probes()[0]
    expected = hashlib.sha256(probe.secret.encode()).hexdigest()
    folder = ctx.scratch("first-token")
    runners: Dict[str, Callable[[], float]] = {}
    sent: Dict[str, List[str]] = {}
    for lib in LIBRARIES:
        path = folder / f"{lib.name}.json"
        write_private(path, serialized(lib, population.events())[1])
        argv = [ctx.python, str(CHILD), lib.name, str(path), provider.issuer, probe.scopes[0]]
        runners[lib.name] = _runner(ctx, table, argv, lambda done, name=lib.name: _script_problem(done, expected,
                                                                                                  sent, name))
    cli = _cli_runner(ctx, table, provider.issuer, probe.scopes[0], probe.secret, folder, population)
    before = token_requests(provider)
    values = interleaved(dict(runners, **({"cli": cli} if cli else {})), ctx.profile.process_rounds)
    table.add(Row("process serving a cached token: script", {k: Stats.of(values[k]) for k in ("nbauth", "msal")}))
    table.add(Row("process serving a cached token: `nbauth token` CLI vs msal script",
                  {"nbauth": Stats.of(values["cli"]) if cli else None, "msal": Stats.of(values["msal"])}))
    if cli is None:
        table.notes.append("`nbauth token` is not available in this checkout (no nbauth.cli.command or no `nbauth` script)")
    table.check(token_requests(provider) == before and not table.failures,
                "every process served the expected token from the cache (token_source 'cache'; the CLI printed "
                "it), and the provider's token endpoint answered no request")
    table.notes.append("HTTP requests each script process sent: " + "; ".join(
        f"{name}: {', '.join(urls) or 'none'}" for name, urls in sent.items()))


def _script_problem(done: subprocess.CompletedProcess, expected: str, sent: Dict[str, List[str]], name: str) -> str:
    report = json.loads(done.stdout.strip().splitlines()[-1])
    sent[name] = [url.split("?")[0] for url in report["sent"]]
    if report["token_source"] != "cache" or report["token_sha256"] != expected:
        return f"{name} served {report['token_source']!r}, not the cached token"
    return "" if not any(url.startswith("POST") for url in report["sent"]) else f"{name} posted: {report['sent']}"


def _cli_runner(ctx: Context, table: Table, issuer: str, scope: str, secret: str, folder: Path,
                population: Population) -> Optional[Callable[[], float]]:
    script = shutil.which("nbauth", path=str(Path(ctx.python).parent))
    if script is None or importlib.util.find_spec("nbauth.cli.command") is None:
        return None
    path = folder / "cli" / "token_cache.json"
    from ..libs import NBAUTH

    write_private(path, serialized(NBAUTH, population.events())[1])
    env = dict(os.environ, NBAUTH_CLIENT_ID=CLIENT_ID, NBAUTH_OIDC_AUTHORITY=issuer, NBAUTH_SCOPES=scope,
               NBAUTH_CACHE_PATH=str(path), NBAUTH_UI="none", CI="1")
    return _runner(ctx, table, [script, "token"], lambda done: "" if done.stdout.strip() == secret
                   else "`nbauth token` printed something else than the cached token", env)
