"""7. No event loop waits on a refresh: the longest stall of an asyncio loop while a token is
refreshed through a provider slowed to 2 s, with the async credential and with the sync one."""
from __future__ import annotations

import asyncio
import inspect
import time
from typing import Any, Callable, Dict, List

import requests

import nbauth
from nbauth.cache import TokenCache

from ..context import Context
from ..harness import Stats
from ..providers import API_SCOPES, sign_in, token_endpoint
from ..table import Row, Table, Target
from idp.server import NATIVE_CLIENT

SLOW = 2.0  # seconds the provider takes to answer a token request
TICK = 0.001
ABOUT = """\
An asyncio loop runs a task that wakes every {tick:g} s while a coroutine asks a credential for a
token the cache cannot serve (expired), the provider's answers delayed by {slow:g} s. Measured (in
each round; the median and range over the rounds, interleaved with the baseline's): the longest gap between the task's wake-ups beyond its {tick:g} s sleep (how long the loop was
blocked). The sync `NbauthCredential` is called as azure-core's aio pipeline calls it (awaited if
awaitable, else taken as returned); `AsyncNbauthCredential` is awaited. The baseline awaits a thread
that only sleeps {slow:g} s: the stalls the machine itself causes (other processes, the OS), which
no library can go below on a loaded machine."""


class SlowSession(requests.Session):
    """A session whose token requests take ``SLOW`` seconds longer once ``slow`` is set."""

    def __init__(self, url: str) -> None:
        super().__init__()
        self.url, self.slow = url, False

    def post(self, url: str, *args: Any, **kwargs: Any) -> requests.Response:
        if self.slow and url == self.url:
            time.sleep(SLOW)
        return super().post(url, *args, **kwargs)


def run(ctx: Context) -> Table:
    table = Table("event_loop", "7. No event loop waits on a refresh", ABOUT.format(tick=TICK, slow=SLOW))
    provider = ctx.providers.get(ctx.profile.kernel_ttl)
    stalls: Dict[str, List[float]] = {"async": [], "baseline": []}
    for _ in range(ctx.profile.loop_rounds):  # interleaved: the machine's load changes as they run
        stalls["async"].append(_stall(provider, ctx.profile.kernel_ttl, nbauth.AsyncNbauthCredential))
        stalls["baseline"].append(asyncio.run(_longest_stall(_Sleeper())))
    sync = _stall(provider, ctx.profile.kernel_ttl, nbauth.NbauthCredential)
    table.add(Row("`AsyncNbauthCredential`: longest event-loop stall", {"nbauth": Stats.of(stalls["async"])},
                  target=Target("≤ 5 ms", max_value=5e-3)))
    table.add(Row("baseline: the same loop awaiting a thread that only sleeps",
                  {"nbauth": Stats.of(stalls["baseline"])}))
    table.add(Row("sync `NbauthCredential` in the same loop: longest stall", {"nbauth": _single(sync)}))
    table.check(sync >= SLOW * 0.9, "the sync credential blocked the loop for the slowed request "
                "(the case measures what it claims)")
    return table


def _stall(provider: Any, ttl: int, credential_of: Callable[..., Any]) -> float:
    offset: List[float] = [0.0]
    session = SlowSession(token_endpoint(provider))
    app = nbauth.PublicClientApplication(NATIVE_CLIENT, oidc_authority=provider.issuer, http_client=session,
                                         token_cache=TokenCache(), clock=lambda: time.time() + offset[0])
    sign_in("nbauth", app, provider)
    credential = credential_of(app, account=app.get_accounts()[0])
    session.slow, offset[0] = True, float(ttl)  # the token expired; its refresh is slow
    return asyncio.run(_longest_stall(credential))


async def _longest_stall(credential: Any) -> float:
    done, longest = asyncio.Event(), 0.0

    async def ask() -> None:
        token = credential.get_token_info(*API_SCOPES)
        if inspect.isawaitable(token):
            await token
        done.set()

    asker = asyncio.ensure_future(ask())
    while not done.is_set():
        before = time.perf_counter()
        await asyncio.sleep(TICK)
        longest = max(longest, time.perf_counter() - before - TICK)
    await asker
    return longest


class _Sleeper:
    """A "credential" whose token takes ``SLOW`` seconds of sleep in a thread (the baseline)."""

    async def get_token_info(self, *scopes: str) -> None:
        await asyncio.to_thread(time.sleep, SLOW)


def _single(value: float) -> Stats:
    return Stats(value, value, value, 1)
