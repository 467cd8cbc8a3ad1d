"""1 (continued). Cache hits with the cache persisted to its file: unchanged, or changed by another
process before each call (nbauth's PersistedTokenCache; msal-extensions' for msal)."""
from __future__ import annotations

import time
from typing import Dict, List

from ..cachefiles import serialized, signature, write_private
from ..context import Context
from ..events import Population
from ..harness import Stats, interleaved, timed_calls
from ..libs import LIBRARIES
from ..providers import token_endpoint
from ..silent import SilentHits
from ..table import Row, Table, Target

#: Longer than the file system's timestamp granularity, so that msal-extensions (which compares
#: the file's mtime with the time it last read it) cannot miss a change made just after its read.
SETTLE_SECONDS = 0.025
CHANGED_TARGET = Target("≤ 0.1× msal", max_ratio=0.1)
ABOUT = """\
`acquire_token_silent` with the cache in a file, exact scopes, one account holding N tokens.
"unchanged": the file stays as it is between calls. "changed": before each call another writer
replaced the file with a version in which the asked token was refreshed (a new secret), so the
call must read the file again and serve the new token. One call per measurement (the file is
rewritten, untimed, before each)."""


def run(ctx: Context) -> Table:
    provider = ctx.providers.get()
    table = Table("persisted_hit", "1b. Cache hit with the cache persisted to its file", ABOUT)
    folder = ctx.scratch("persisted-hit")
    for n in ctx.profile.sizes:
        population = Population(token_endpoint(provider), n, issuer=provider.issuer, tag=f"persisted/{n}")
        hits, versions = {}, {}
        for lib in LIBRARIES:
            path = folder / f"{lib.name}-{n}.json"
            memory, first = serialized(lib, population.events())
            memory.add(population.event(population.probe_indexes[0], version=1))
            versions[lib.name] = [(first, population.probes()[0].secret),
                                  (memory.serialize(), population.probes(version=1)[0].secret)]
            write_private(path, first)
            hits[lib.name] = SilentHits(lib, population, provider.issuer, cache=lib.persisted_cache(str(path)))
        _unchanged(ctx, table, hits, n, len(population.probe_indexes), folder)
        _changed(ctx, table, hits, versions, n, folder)
    table.check(not table.failures, "unchanged file: every timed call served the expected token from the cache "
                "with no request (counting http_client), and the file kept its inode, size and mtime (a hit "
                "writes nothing)")
    table.check(not table.failures, "changed file: every call served the secret of the version written just "
                "before it (so it did read the change), with no request")
    return table


def _unchanged(ctx: Context, table: Table, hits: Dict[str, SilentHits], n: int, unit: int, folder) -> None:
    before = {name: signature(folder / f"{name}-{n}.json") for name in hits}
    stats = timed_calls({name: hit.call for name, hit in hits.items()}, ctx.profile.rounds, unit=unit)
    table.add(Row(f"unchanged file, N={n:,}", dict(stats)))
    for name, hit in hits.items():
        problem = hit.problem()
        table.expect(not problem, f"unchanged file, N={n:,}: {problem}")
        table.expect(signature(folder / f"{name}-{n}.json") == before[name],
                     f"unchanged file, N={n:,}: {name}'s cache hits changed the file")


def _changed(ctx: Context, table: Table, hits: Dict[str, SilentHits], versions: Dict[str, list], n: int,
             folder) -> None:
    served: Dict[str, List[bool]] = {name: [] for name in hits}

    def measure(name: str) -> float:
        hit = hits[name]
        data, secret = versions[name][len(served[name]) % 2 ^ 1]  # the other version than last time
        scopes, account, _ = hit.asks[0]
        time.sleep(SETTLE_SECONDS)
        write_private(folder / f"{name}-{n}.json", data)
        started = time.perf_counter()
        result = hit.app.acquire_token_silent(scopes, account)
        elapsed = time.perf_counter() - started
        served[name].append(bool(result) and result["access_token"] == secret and result["token_source"] == "cache")
        return elapsed

    values = interleaved({name: (lambda name=name: measure(name)) for name in hits}, ctx.profile.changed_rounds)
    target = CHANGED_TARGET if n == 10_000 else None
    table.add(Row(f"file changed before each call, N={n:,}", {k: Stats.of(v) for k, v in values.items()},
                  target=target))
    for name, hit in hits.items():
        table.expect(all(served[name]) and not hit.requests,
                     f"changed file, N={n:,}: {name} served the token of the version just written in "
                     f"{sum(served[name])} of {len(served[name])} calls, {hit.requests} requests sent")
