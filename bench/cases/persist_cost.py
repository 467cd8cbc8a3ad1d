"""5. Persist cost: adding one token to a persisted cache of N tokens."""
from __future__ import annotations

import time
from pathlib import Path
from typing import Any, Callable, Dict

from ..cachefiles import serialized, write_private
from ..context import Context
from ..events import Population, scope_name
from ..harness import Stats, interleaved
from ..libs import LIBRARIES, Library
from ..providers import token_endpoint
from ..table import Row, Table

ABOUT = """\
`cache.add(event)` of one new token (one more scope, obtained with the refresh token: an access
and a refresh token, no new account) to a persisted cache whose file holds N access tokens (one
account; each with its refresh token, as both libraries file them), the cache already loaded.
The file writes per add are counted (nbauth: its atomic replace, with fsync; msal-extensions:
`FilePersistence.save`, no fsync). Afterwards a fresh cache object of the same library reads the
file and must find every token added."""


def run(ctx: Context) -> Table:
    provider = ctx.providers.get()
    table = Table("persist_cost", "5. Persist cost: adding one token to a persisted cache", ABOUT)
    folder = ctx.scratch("persist-cost")
    writes_per_add: Dict[str, set] = {lib.name: set() for lib in LIBRARIES}
    for n in ctx.profile.persist_sizes:
        population = Population(token_endpoint(provider), n, issuer=provider.issuer, tag=f"persist/{n}")
        adders = {lib.name: _Adder(lib, population, str(folder / f"{lib.name}-{n}.json")) for lib in LIBRARIES}
        values = interleaved({name: adder.add_one for name, adder in adders.items()}, ctx.profile.persist_rounds)
        table.add(Row(f"add one token, N={n:,}", {name: Stats.of(v) for name, v in values.items()}))
        for name, adder in adders.items():
            writes_per_add[name].add(adder.writes() / adder.added)
            table.expect(adder.all_found(), f"N={n:,}: a fresh {name} cache did not find every token added")
    table.add(Row("file writes per add", {name: Stats.of(sorted(w)) for name, w in writes_per_add.items()},
                  kind="count"))
    table.check(not table.failures, "after the adds, a new cache object of the same library read the file "
                "and found every added token; file writes counted by wrapping each cache's write call")
    return table


class _Adder:
    """One library's persisted cache of a population, adding new tokens one at a time."""

    def __init__(self, library: Library, population: Population, path: str) -> None:
        self.library, self.population, self.path = library, population, path
        write_private(Path(path), serialized(library, population.events())[1])
        self.cache = library.persisted_cache(path)
        list(self.cache.search(self.cache.CredentialType.ACCOUNT))  # loads the file (untimed)
        self.writes: Callable[[], int] = library.file_writes(self.cache)
        self.added = 0

    def add_one(self) -> float:
        event = self.population.extra_event(self.added)
        started = time.perf_counter()
        self.cache.add(event)
        elapsed = time.perf_counter() - started
        self.added += 1
        return elapsed

    def all_found(self) -> bool:
        reader: Any = self.library.persisted_cache(self.path)
        stored = {e["target"] for e in reader.search(reader.CredentialType.ACCESS_TOKEN)}
        return all(scope_name(self.population.n + i) in stored for i in range(self.added))
