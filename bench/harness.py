"""Timing: interleaved rounds of both libraries, batches sized to the clock, medians and ranges."""
from __future__ import annotations

import gc
import statistics
import time
from dataclasses import dataclass
from typing import Callable, Dict, Iterable, List, Optional, Sequence

#: A batch runs at least this long, so the clock's resolution and call overhead do not matter.
BATCH_SECONDS = 0.004


@dataclass(frozen=True)
class Stats:
    """The median and the range of a measurement over its rounds (seconds, or a count)."""

    median: float
    low: float
    high: float
    rounds: int

    @classmethod
    def of(cls, values: Sequence[float]) -> "Stats":
        if not values:
            raise ValueError("no measurements")
        return cls(statistics.median(values), min(values), max(values), len(values))


def batch_size(call: Callable[[], object], unit: int = 1, seconds: float = BATCH_SECONDS) -> int:
    """How many calls, a multiple of ``unit``, fill ``seconds`` (after a warm-up batch).

    ``unit`` is the length of the cycle a callable goes through (e.g. the tokens it asks for
    in turn), so that every batch does the same work.
    """
    count = unit
    for _ in range(count):
        call()
    while True:
        started = time.perf_counter()
        for _ in range(count):
            call()
        elapsed = time.perf_counter() - started
        if elapsed >= seconds or count >= 1 << 20:
            return count
        wanted = max(count * 2, int(count * seconds / max(elapsed, 1e-9)))
        count = -(-wanted // unit) * unit


def per_call(call: Callable[[], object], count: int) -> float:
    """Seconds per call over a batch of ``count`` calls (garbage collected before, not during)."""
    gc.collect()
    started = time.perf_counter()
    for _ in range(count):
        call()
    return (time.perf_counter() - started) / count


def interleaved(contenders: Dict[str, Callable[[], float]], rounds: int) -> Dict[str, List[float]]:
    """Run each contender once per round, alternating who goes first; the values per contender.

    A contender is a callable that measures once and returns its value (e.g. seconds per call).
    """
    names = list(contenders)
    values: Dict[str, List[float]] = {name: [] for name in names}
    for round_number in range(rounds):
        order = names if round_number % 2 == 0 else names[::-1]
        for name in order:
            values[name].append(contenders[name]())
    return values


def timed_calls(calls: Dict[str, Callable[[], object]], rounds: int, unit: int = 1,
                units: Optional[Dict[str, int]] = None) -> Dict[str, Stats]:
    """Seconds per call of each callable: batches sized once (multiples of ``unit``, or of
    ``units[name]``), then interleaved rounds."""
    sizes = {name: batch_size(call, (units or {}).get(name, unit)) for name, call in calls.items()}
    values = interleaved({name: (lambda c=call, n=sizes[name]: per_call(c, n)) for name, call in calls.items()},
                         rounds)
    return {name: Stats.of(v) for name, v in values.items()}


def percentile(values: Iterable[float], fraction: float) -> float:
    """The ``fraction`` quantile (nearest rank) of ``values``."""
    ordered = sorted(values)
    rank = max(0, min(len(ordered) - 1, int(round(fraction * len(ordered) + 0.5)) - 1))
    return ordered[rank]
