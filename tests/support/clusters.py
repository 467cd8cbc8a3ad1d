"""Helpers for the cluster tests (no tests): a provider with 10-second tokens, an API that verifies
every JWT and counts its answers, the task workers run against it, and one run of both modes at
once (each mode with its own provider and API, so each is counted apart)."""
import collections
import math
import os
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import NamedTuple

import jwt
import requests

from support.fake_http import FakeServer
from support.integrations import bearer_of, checking_api, verified_claims

#: Access-token lifetime at the provider, in seconds (the issue's 10).
TOKEN_SECONDS = 10
#: How long each mode's tasks call the API with refreshes counted: the issue's minute, six token
#: lifetimes (the refresh bound scales with it). Both modes of an engine run in the same window; a
#: shorter run for a quick local check: NBAUTH_CLUSTER_SECONDS=20.
RUN_SECONDS = float(os.environ.get("NBAUTH_CLUSTER_SECONDS", "60"))
#: How long workers get to start their tasks before the counted window opens.
START_WITHIN = 5.0
#: How often each task calls the API.
CALL_EVERY = 0.1
#: The modes' names, as failures name them.
SHARED_CACHE, PUBLISHED = "shared-cache mode", "published mode"


def refresh_bound(seconds: float = RUN_SECONDS) -> int:
    """Refresh requests allowed at the provider in ``seconds``: the token lifetimes in it, plus one
    (issue 18's bound). nbauth renews a 10-second token nine tenths through its life, at 9 s: whole
    seconds at the provider (its ``exp``) make that every 9 s, so a minute holds six or seven."""
    return math.floor(seconds / TOKEN_SECONDS) + 1


class CountingAPI:
    """A loopback API at ``url`` that verifies each bearer JWT (signature, issuer, audience, exp)
    and counts its answers by status."""

    def __init__(self, provider) -> None:
        self.statuses = collections.Counter()
        self._lock = threading.Lock()
        self._check = checking_api(provider)
        self.server = FakeServer().start()
        self.server.route("GET", "/data", self._answer)
        self.url = self.server.url + "/data"

    def _answer(self, request):
        answer = self._check(request)
        with self._lock:
            self.statuses[answer[0]] += 1
        return answer

    def reset(self) -> None:
        with self._lock:
            self.statuses.clear()

    def stop(self) -> None:
        self.server.stop()


def call_api(auth, url: str, until: float) -> dict:
    """Call ``url`` with ``auth`` (a requests auth) every CALL_EVERY seconds until the epoch second
    ``until`` (one clock for the driver and every worker of this machine); the statuses it saw, and
    this process's id."""
    session = requests.Session()
    session.auth = auth
    statuses = collections.Counter()
    paced = threading.Event()  # never set: its wait paces the calls
    while time.time() < until:
        statuses[session.get(url, timeout=10).status_code] += 1
        paced.wait(CALL_EVERY)
    return {"pid": os.getpid(), "statuses": dict(statuses)}


def call_apis(calls: Mapping[str, tuple], until: float) -> dict:
    """A task: for each mode of ``calls`` (mode -> (auth, url)) a thread running ``call_api`` at
    the same time, until the epoch second ``until``; each mode's report."""
    with ThreadPoolExecutor(len(calls)) as pool:
        running = {mode: pool.submit(call_api, auth, url, until) for mode, (auth, url) in calls.items()}
    return {mode: future.result() for mode, future in running.items()}


def protected_file(provider, text: str):
    """A FakeServer handler serving ``text`` as CSV to requests with a valid token of ``provider``."""
    def handle(request):
        try:
            verified_claims(provider, bearer_of(request))
        except (AssertionError, jwt.InvalidTokenError):
            return 401, {"WWW-Authenticate": 'Bearer error="invalid_token"'}, {"error": "invalid_token"}
        return 200, {"Content-Type": "text/csv"}, text.encode()
    return handle


class Mode:
    """One mode of a run: its name, the ``auth`` its tasks use, and its own provider and API,
    which count its refreshes and calls apart from another mode's running beside it."""

    def __init__(self, name: str, auth, provider, api: CountingAPI) -> None:
        self.name, self.auth, self.provider, self.api = name, auth, provider, api

    def problems(self, reports: Sequence[dict], counted: "Counted") -> list[str]:
        """What went wrong in this mode: tasks in two worker processes called the API, every call
        was authorised, no refresh was refused, and in the ``counted`` window (the run's last
        ``seconds``, every task calling) the provider saw at most one refresh per token lifetime,
        plus one; tokens did roll over."""
        found = []
        pids = {report["pid"] for report in reports}
        if len(pids) != 2:
            found.append(f"tasks ran in {len(pids)} worker processes, not 2")
        calls = sum(self.api.statuses.values())
        if set(self.api.statuses) != {200} or calls <= len(reports) * counted.seconds:
            found.append(f"the API answered {dict(self.api.statuses)} ({calls} calls by {len(reports)} tasks "
                         f"in {counted.seconds:.0f} s): not all authorised, or too few")
        refreshes = self.provider.token_log("refresh_token")
        refused = [entry for entry in refreshes if entry["outcome"] != "ok"]
        if refused:
            found.append(f"the provider refused {len(refused)} refreshes ({refused[0]['outcome']})")
        inside = [entry for entry in refreshes if counted.start <= entry["t_ms"] / 1000 <= counted.until]
        least, bound = counted.seconds // TOKEN_SECONDS - 1, refresh_bound(counted.seconds)
        if not least <= len(inside) <= bound:
            times = ", ".join(f"{entry['t_ms'] / 1000 - counted.start:+.1f}" for entry in refreshes)
            found.append(f"{len(inside)} refreshes at the provider in the {counted.seconds:.0f} s counted (allowed "
                         f"{least:.0f} to {bound}; all at {times} s from its start)")
        return [f"{self.name}: {problem}" for problem in found]


class Counted(NamedTuple):
    """The window refreshes are counted in: epoch seconds ``start`` to ``until``, ``seconds`` long."""

    start: float
    until: float
    seconds: float


def run_modes(run_tasks: Callable[[Mapping[str, tuple], float], list], modes: Sequence[Mode],
              seconds: float = RUN_SECONDS) -> None:
    """Run the engine's tasks (``run_tasks(calls, until)``: each task ``call_apis(calls, until)``,
    returning their reports) for all ``modes`` at once: sent now, calling until START_WITHIN +
    ``seconds`` from now, the last ``seconds`` counted. Asserts every mode's outcome, naming the
    mode that failed."""
    calls = {mode.name: (mode.auth, mode.api.url) for mode in modes}
    for mode in modes:
        mode.api.reset()
        mode.provider.reset_stats()
    start = time.time() + START_WITHIN
    counted = Counted(start, start + seconds, seconds)
    reports = run_tasks(calls, counted.until)
    problems = [problem for mode in modes
                for problem in mode.problems([report[mode.name] for report in reports], counted)]
    assert not problems, "\n".join(problems)


def secrets_besides_access_tokens(cache) -> list[str]:
    """The refresh and ID tokens in ``cache`` (a driver's TokenCache)."""
    kinds = (cache.CredentialType.REFRESH_TOKEN, cache.CredentialType.ID_TOKEN)
    return [entry["secret"] for kind in kinds for entry in cache.search(kind)]


def assert_only_access_tokens_travel(travelled: Mapping[str, bytes], published, cache, provider) -> None:
    """Published mode: nothing that travelled to the workers (``travelled``: what, pickled) holds a
    refresh or ID token of the driver's ``cache``, and the ``published`` token the workers got is an
    access token ``provider`` signed."""
    secrets = secrets_besides_access_tokens(cache)
    assert secrets, "published mode: the driver's cache holds no refresh token to look for"
    leaked = [what for what, data in travelled.items() if any(secret.encode() in data for secret in secrets)]
    assert not leaked, f"{PUBLISHED}: a refresh or ID token travelled in {leaked}"
    try:
        verified_claims(provider, published.access_token)
    except (AssertionError, jwt.InvalidTokenError) as exc:
        raise AssertionError(f"{PUBLISHED}: what travelled is no access token of the provider ({exc})") from None
