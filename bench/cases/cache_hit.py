"""1. ``acquire_token_silent`` served from memory, against cache size; ``get_accounts``."""
from __future__ import annotations

from typing import Dict, List, Optional, Tuple

from ..context import Context
from ..events import Population
from ..harness import Stats, timed_calls
from ..libs import LIBRARIES, CountingSession
from ..providers import token_endpoint, token_requests
from ..silent import SilentHits
from ..table import Row, Table, Target

LAYOUTS = (("one account", None), ("N/10 accounts", 10))
MODES = ((False, "exact scopes"), (True, "stored ⊃ asked"))
EXACT_TARGET = Target("≤ 0.5× msal", max_ratio=0.5)
SUPERSET_TARGET = Target("≤ 1/1000 of msal", max_ratio=0.001)
FLAT_TARGET = Target("≤ 1.5× (nbauth)", max_value=1.5)
ACCOUNTS_TARGET = Target("≤ 0.1× msal", max_ratio=0.1)
ABOUT = """\
`acquire_token_silent(scopes, account)` returning a valid cached access token (1-hour tokens), in
caches of N access tokens filled with the same events for both libraries (`TokenCache.add`), as
one account holding N scope sets or as N/10 accounts of 10. Each timed batch cycles through 8
tokens spread evenly through the order they were added (a scan that stops at its match does half
its work on average). "exact scopes": the stored scopes equal the asked ones; "stored ⊃ asked":
the provider added `openid profile` (the usual case). Time per call."""


def run(ctx: Context) -> Table:
    provider = ctx.providers.get()
    table = Table("cache_hit", "1. Cache hit vs cache size (in memory)", ABOUT)
    before = token_requests(provider)
    curves: Dict[str, Dict[str, List[Tuple[int, Stats]]]] = {}
    totals = {lib.name: 0 for lib in LIBRARIES}
    first_call: Dict[str, int] = {}
    for layout, per_account in LAYOUTS:
        for superset, mode in MODES:
            populations = [Population(token_endpoint(provider), n, per_account=per_account, superset=superset,
                                      issuer=provider.issuer, tag=f"hit/{layout}/{mode}/{n}")
                           for n in ctx.profile.sizes]
            measured = _measure(ctx, table, populations, f"{layout}, {mode}", totals, first_call)
            series = curves.setdefault(f"{layout}, {mode}", {lib.name: [] for lib in LIBRARIES})
            for n in ctx.profile.sizes:
                target = EXACT_TARGET if not superset else SUPERSET_TARGET if n == 10_000 else None
                table.add(Row(f"{layout}, {mode}, N={n:,}", measured[n], target=target))
                for name, value in measured[n].items():
                    series[name].append((n, value))
            _flatness(table, series, f"{layout}, {mode}")
    _get_accounts(ctx, table, provider)
    table.check(token_requests(provider) == before, "the provider's token endpoint answered no request during "
                "the whole benchmark (its own counters)")
    table.check(not table.failures, "every timed call served the expected token with token_source 'cache', and no request "
                "went through the counting http_client given to both applications: "
                + ", ".join(f"{name} {count:,} calls" for name, count in totals.items()))
    table.notes.append("Requests the first silent call of a new application sends (the provider's "
                       "configuration; msal fetches it in its constructor instead): "
                       + ", ".join(f"{k} {v}" for k, v in first_call.items()))
    ctx.extras["cache_hit_curves"] = curves
    return table


def _measure(ctx: Context, table: Table, populations: List[Population], label: str, totals: Dict[str, int],
             first_call: Dict[str, int]) -> Dict[int, Dict[str, Stats]]:
    """Both libraries at every N, in the same interleaved rounds (so that a busy moment of the
    machine falls on all sizes alike and cannot fake a slope)."""
    hits = {(p.n, lib.name): SilentHits(lib, p, p.issuer) for p in populations for lib in LIBRARIES}
    names = {key: f"{key[1]} N={key[0]}" for key in hits}
    stats = timed_calls({names[key]: hit.call for key, hit in hits.items()}, ctx.profile.rounds,
                        units={names[(p.n, lib.name)]: len(p.probe_indexes) for p in populations for lib in LIBRARIES})
    measured: Dict[int, Dict[str, Stats]] = {p.n: {} for p in populations}
    for (n, name), hit in hits.items():
        measured[n][name] = stats[names[(n, name)]]
        totals[name] += hit.calls
        first_call.setdefault(name, hit.first_call_requests + hit.discovery_requests)
        problem = hit.problem()
        table.expect(not problem, f"{label}, N={n:,}: {problem}")
    return measured


def _flatness(table: Table, series: Dict[str, List[Tuple[int, Stats]]], label: str) -> None:
    """The cost at the largest N over the cost at the smallest, per library."""
    factors: Dict[str, Optional[Stats]] = {}
    for name, points in series.items():
        (small_n, small), (large_n, large) = points[0], points[-1]
        factor = large.median / small.median
        factors[name] = Stats(factor, factor, factor, 1)
    table.add(Row(f"{label}: cost at N={large_n:,} / N={small_n:,}", factors, kind="factor", target=FLAT_TARGET))


def _get_accounts(ctx: Context, table: Table, provider) -> None:
    n = ctx.profile.accounts
    population = Population(token_endpoint(provider), n, per_account=1, issuer=provider.issuer, tag="accounts")
    events = population.events()
    apps, sessions = {}, {}
    for lib in LIBRARIES:
        cache = lib.memory_cache()
        for event in events:
            cache.add(event)
        sessions[lib.name] = CountingSession()
        apps[lib.name] = lib.app(provider.issuer, cache, sessions[lib.name])
    counted = {name: session.count for name, session in sessions.items()}
    stats = timed_calls({name: app.get_accounts for name, app in apps.items()}, ctx.profile.rounds)
    table.add(Row(f"get_accounts(), {n:,} accounts", dict(stats), target=ACCOUNTS_TARGET))
    for name, app in apps.items():
        table.check(len(app.get_accounts()) == n and sessions[name].count == counted[name],
                    f"get_accounts: {name} lists all {n:,} accounts, with no request sent")
