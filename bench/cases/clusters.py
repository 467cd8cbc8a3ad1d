"""7. Tokens on Dask workers: refresh requests per token lifetime with 1, 2, 4 and 8 worker processes,
and the latency a task's first token adds, in each mode (nbauth only: msal has no counterpart)."""
from __future__ import annotations

import statistics
import threading
import time
from typing import Any, Dict, List

from ..context import Context
from ..harness import Stats
from ..providers import API_SCOPES, refresh_counts, sign_in
from ..table import Row, Table, Target

MODES = ("shared_cache", "published")
ABOUT = """\
For each worker count N: a Dask `LocalCluster(processes=True, n_workers=N, threads_per_worker=1)`, a real
sign-in at the local provider (short access tokens, rotating refresh tokens) and `nbauth.login` on the
driver (its background refresher renews nine tenths through a lifetime, so about 1.1 renewals per
lifetime is the floor). One task per worker asks a `ClusterSignIn` for a token every
interval for a few lifetimes: in `shared_cache` mode from the user's cache file, in `published` mode from
the tokens the driver publishes (`nbauth.cluster.dask.publish`). Counted at the provider: refresh requests
(and refusals) per lifetime. Timed in each task: its first token (building the worker's source: the
application on the cache file, or the first published token) and the later ones."""


def run(ctx: Context) -> Table:
    table = Table("clusters", "7. Tokens on Dask workers", ABOUT)
    from distributed import Client, LocalCluster

    profile = ctx.profile
    provider = ctx.providers.get(profile.cluster_ttl)
    lifetimes = profile.cluster_lifetimes
    first: Dict[str, List[float]] = {mode: [] for mode in MODES}
    later: Dict[str, List[float]] = {mode: [] for mode in MODES}
    for workers in profile.cluster_workers:
        with LocalCluster(processes=True, n_workers=workers, threads_per_worker=1, dashboard_address=":0") as cluster, \
                Client(cluster) as client:
            for mode in MODES:
                reports, counts = _round(ctx, client, provider, mode)
                _expect(table, mode, workers, reports, counts)
                first[mode] += [r["first"] for r in reports]
                later[mode] += [r["later"] for r in reports]
                table.add(Row(f"{mode}, {workers} worker process{'es' if workers > 1 else ''}: refresh requests "
                              "per token lifetime", {"nbauth": Stats.of([counts["ok"] / lifetimes]), "msal": None},
                              kind="count", target=Target("≈ 1, flat in N", max_value=1.34)))
    for mode in MODES:
        table.add(Row(f"{mode}: a task's first token", {"nbauth": Stats.of(first[mode]), "msal": None}))
        table.add(Row(f"{mode}: a task's later tokens (median per task)", {"nbauth": Stats.of(later[mode]),
                                                                           "msal": None}))
    table.check(not table.failures, "every task got a token on every ask, none expired when it came, and no "
                "refresh was refused (invalid_grant) at the provider")
    return table


def _round(ctx: Context, client: Any, provider: Any, mode: str) -> tuple:
    import nbauth
    import nbauth.cluster.dask
    from nbauth.cluster import ClusterSignIn
    from nbauth.tokens.refresher import background_refresher

    profile = ctx.profile
    path = ctx.scratch(f"clusters/{mode}-{len(client.scheduler_info()['workers'])}") / "token_cache.json"
    cache = nbauth.PersistedTokenCache(path) if mode == "shared_cache" else nbauth.TokenCache()
    app = nbauth.PublicClientApplication("nbauth-native", oidc_authority=provider.issuer, token_cache=cache)
    sign_in("nbauth", app, provider)
    me = nbauth.login("nbauth-native", oidc_authority=provider.issuer, scopes=API_SCOPES, cache=cache, ui="none")
    publication = nbauth.cluster.dask.publish(me, client) if mode == "published" else None
    try:
        provider.reset_stats()
        seconds = profile.cluster_ttl * profile.cluster_lifetimes
        futures = [client.submit(ask_tokens, ClusterSignIn(me, mode=mode), seconds, profile.kernel_interval,
                                 workers=[address], pure=False) for address in client.scheduler_info()["workers"]]
        reports = client.gather(futures)
        return reports, refresh_counts(provider)
    finally:
        if publication is not None:
            publication.stop()
        background_refresher().stop()


def _expect(table: Table, mode: str, workers: int, reports: List[dict], counts: Dict[str, int]) -> None:
    table.expect(len(reports) == workers and all(r["calls"] > 1 and not r["expired"] for r in reports),
                 f"{mode}, {workers} workers: a task got an expired token or none: {reports}")
    table.expect(counts["error"] == 0, f"{mode}, {workers} workers: refresh refused at the provider: {counts}")


def ask_tokens(source: Any, seconds: float, interval: float) -> Dict[str, Any]:
    """A task: the first token's latency, then a token every ``interval`` for ``seconds``."""
    started = time.perf_counter()
    source(list(source.scopes))
    first = time.perf_counter() - started
    paced, times, expired = threading.Event(), [], 0
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        paced.wait(interval)
        started = time.perf_counter()
        token = source(list(source.scopes))
        times.append(time.perf_counter() - started)
        expired += token.expires_on <= time.time()
    return {"first": first, "later": statistics.median(times) if times else first, "calls": len(times) + 1,
            "expired": expired}
