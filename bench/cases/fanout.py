"""3. Refresh fan-out: the access token expired, the refresh token valid and rotating; many ask at once."""
from __future__ import annotations

import json
import subprocess
import threading
import time
from pathlib import Path
from typing import Any, Callable, Dict, List

from ..context import Context
from ..harness import Stats, interleaved
from ..libs import LIBRARIES, CountingSession, Library
from ..providers import API_SCOPES, refresh_counts, sign_in
from ..table import Row, Table, Target

WORKER = Path(__file__).resolve().parent.parent / "children" / "fanout_worker.py"
ABOUT = """\
Each round: a real sign-in at the local provider (which rotates refresh tokens: a refresh token
is accepted once, and reusing it is `invalid_grant` and revokes its grant), the cached access
token made expired (`modify(..., {"expires_on": now - 1})`), then all callers are released at
once into `acquire_token_silent`. Threads share one application and in-memory cache; processes
each open the same cache file (nbauth's PersistedTokenCache; msal-extensions' for msal).
Counted at the provider: refresh-token requests, and those refused; and the callers that got a
token."""


def run(ctx: Context) -> Table:
    table = Table("fanout", "3. Refresh fan-out at expiry", ABOUT)
    provider = ctx.providers.get()
    threads, processes = ctx.profile.threads, ctx.profile.processes
    for label, count, one_round in ((f"{threads} threads", threads, _thread_round),
                                    (f"{processes} processes", processes, _process_round)):
        rounds: Dict[str, List[Dict[str, float]]] = {lib.name: [] for lib in LIBRARIES}

        def measure(lib: Library, one_round: Callable = one_round, count: int = count) -> float:
            outcome = one_round(ctx, table, lib, provider, count, len(rounds[lib.name]))
            rounds[lib.name].append(outcome)
            return outcome["slowest"]

        interleaved({lib.name: (lambda lib=lib: measure(lib)) for lib in LIBRARIES}, ctx.profile.fanout_rounds)
        _rows(table, label, count, rounds)
    table.check(not table.failures, "before each fan-out the account's access tokens were all expired; in the "
                "thread rounds, the refresh requests counted at the provider equal those the counting "
                "http_client sent")
    return table


def _rows(table: Table, label: str, count: int, rounds: Dict[str, List[Dict[str, float]]]) -> None:
    def stats(key: str) -> Dict[str, Stats]:
        return {name: Stats.of([r[key] for r in values]) for name, values in rounds.items()}

    table.add(Row(f"{label}: refresh requests at the provider", stats("requests"), kind="count",
                  target=Target("1", max_value=1)))
    table.add(Row(f"{label}: refused (invalid_grant)", stats("refused"), kind="count"))
    table.add(Row(f"{label}: callers served a token", stats("served"), kind="count",
                  target=Target(f"{count}", min_value=count)))
    table.add(Row(f"{label}: slowest caller", stats("slowest")))


def _signed_in_and_expired(table: Table, lib: Library, provider: Any, cache: Any, session: Any = None) -> dict:
    app = lib.app(provider.issuer, cache, session)
    sign_in(lib.name, app, provider)
    now = int(time.time())
    for entry in list(cache.search(cache.CredentialType.ACCESS_TOKEN)):
        cache.modify(cache.CredentialType.ACCESS_TOKEN, entry, {"expires_on": str(now - 1)})
    live = [e for e in cache.search(cache.CredentialType.ACCESS_TOKEN) if int(e["expires_on"]) > now]
    table.expect(not live, f"{lib.name}: an access token was still valid before the fan-out")
    return app.get_accounts()[0]


def _thread_round(ctx: Context, table: Table, lib: Library, provider: Any, count: int, _: int) -> Dict[str, float]:
    session = CountingSession()
    cache = lib.memory_cache()
    account = _signed_in_and_expired(table, lib, provider, cache, session)
    app = lib.app(provider.issuer, cache, session)
    barrier = threading.Barrier(count)
    served, seconds = [False] * count, [0.0] * count

    def ask(i: int) -> None:
        barrier.wait()
        started = time.perf_counter()
        result = app.acquire_token_silent(API_SCOPES, account)
        seconds[i] = time.perf_counter() - started
        served[i] = bool(result) and "access_token" in result

    provider.reset_stats()
    sent_before = sum(url.startswith("POST") for url in session.urls)
    workers = [threading.Thread(target=ask, args=(i,), daemon=True) for i in range(count)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(120)
    counts = refresh_counts(provider)
    sent = sum(url.startswith("POST") for url in session.urls) - sent_before
    table.expect(sent == counts["ok"] + counts["error"],
                 f"{lib.name}: {sent} POSTs sent but {counts} refreshes counted at the provider")
    return {"requests": counts["ok"] + counts["error"], "refused": counts["error"], "served": sum(served),
            "slowest": max(seconds)}


def _process_round(ctx: Context, table: Table, lib: Library, provider: Any, count: int,
                   round_number: int) -> Dict[str, float]:
    path = ctx.scratch(f"fanout/{lib.name}-{round_number}") / "token_cache.json"
    _signed_in_and_expired(table, lib, provider, lib.persisted_cache(str(path)))
    argv = [ctx.python, str(WORKER), lib.name, str(path), provider.issuer, API_SCOPES[0]]
    workers = [subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                text=True, cwd=WORKER.parent) for _ in range(count)]
    try:
        ready = [worker.stdout.readline().strip() == "ready" for worker in workers]
        provider.reset_stats()
        for worker in workers:
            worker.stdin.write("go\n")
            worker.stdin.flush()
        reports = [_report(worker) for worker in workers]
    finally:
        for worker in workers:
            if worker.poll() is None:
                worker.kill()
            worker.wait()
    table.expect(all(ready) and all(reports), f"{lib.name}: a worker process failed: {reports}")
    counts = refresh_counts(provider)
    return {"requests": counts["ok"] + counts["error"], "refused": counts["error"],
            "served": sum(bool(r and r["served"]) for r in reports),
            "slowest": max((r["seconds"] for r in reports if r), default=0.0)}


def _report(worker: subprocess.Popen) -> Dict[str, Any]:
    out, err = worker.communicate(timeout=120)
    lines = out.strip().splitlines()
    return json.loads(lines[-1]) if worker.returncode == 0 and lines else {}
