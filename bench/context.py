"""What every benchmark gets: the run's profile (sizes, rounds), the providers, a scratch folder."""
from __future__ import annotations

import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, Tuple

from .providers import REPO, Providers


@dataclass(frozen=True)
class Profile:
    """How big and how long: ``full`` (the published numbers), ``quick``, ``smoke`` (the test)."""

    name: str
    sizes: Tuple[int, ...] = (1, 10, 100, 1_000, 10_000)
    rounds: int = 15  # interleaved rounds of the in-process timings
    changed_rounds: int = 12  # persisted hits with the file changed before each call
    accounts: int = 1_000  # get_accounts
    import_rounds: int = 20
    process_rounds: int = 10  # whole processes serving a cached token
    fanout_rounds: int = 5
    threads: int = 16
    processes: int = 4
    kernel_ttl: int = 5  # seconds of access-token life in the kernel benchmark
    kernel_lifetimes: int = 3
    kernel_interval: float = 0.1
    loop_rounds: int = 5  # event-loop stall rounds (each waits on a provider slowed to 2 s)
    persist_sizes: Tuple[int, ...] = (1, 100, 1_000, 10_000)
    persist_rounds: int = 6
    cluster_workers: Tuple[int, ...] = (1, 2, 4, 8)  # Dask worker processes (run with --only clusters)
    cluster_ttl: int = 5  # seconds of access-token life in the cluster benchmark
    cluster_lifetimes: int = 3


PROFILES = {
    "full": Profile("full"),
    "quick": Profile("quick", sizes=(1, 100, 1_000), rounds=5, changed_rounds=5, import_rounds=6,
                     process_rounds=3, fanout_rounds=1, kernel_lifetimes=1, loop_rounds=3, persist_sizes=(1, 1_000),
                     persist_rounds=3, cluster_lifetimes=2),
    "smoke": Profile("smoke", sizes=(1, 10), rounds=1, changed_rounds=1, accounts=10, import_rounds=1,
                     process_rounds=1, fanout_rounds=1, threads=4, processes=2, kernel_ttl=2,
                     kernel_lifetimes=1, kernel_interval=0.2, loop_rounds=1, persist_sizes=(10,), persist_rounds=1,
                     cluster_workers=(1, 2), cluster_ttl=3, cluster_lifetimes=1),
}


@dataclass
class Context:
    profile: Profile
    providers: Providers
    workdir: Path
    python: str = sys.executable
    repo: Path = REPO
    #: Data a benchmark leaves for the report beyond its tables (e.g. the curves to plot).
    extras: Dict[str, Any] = field(default_factory=dict)

    def scratch(self, name: str) -> Path:
        path = self.workdir / name
        path.mkdir(mode=0o700, parents=True, exist_ok=True)
        return path
