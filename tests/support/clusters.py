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

import jwt
import requests

from nbauth.protocol.lifecycle import RENEWAL_FRACTION

from support.fake_http import FakeServer
from support.integrations import bearer_of, checking_api, verified_claims

#: Access-token lifetime at the provider, in seconds (the issue's 10).
TOKEN_SECONDS = 10
#: How long each mode's tasks call the API: the issue's minute, six token lifetimes (the refresh bound
#: scales with it). Both modes of an engine run in the same window; a shorter run for a quick local
#: check: NBAUTH_CLUSTER_SECONDS=20.
RUN_SECONDS = float(os.environ.get("NBAUTH_CLUSTER_SECONDS", "60"))
#: How often each task calls the API.
CALL_EVERY = 0.1
#: The modes' names, as failures name them.
SHARED_CACHE, PUBLISHED = "shared-cache mode", "published mode"


def refresh_bound(seconds: float = RUN_SECONDS) -> int:
    """Refresh requests allowed at the provider: renewal intervals in the run, plus one. nbauth renews a
    token at three quarters of its life (``lifecycle.RENEWAL_FRACTION``), so one refresh per interval
    is 1.33 per lifetime; what matters is that it does not grow with the workers (issue 18 asks for
    lifetimes + 1: see the README's "Scaling out")."""
    return math.ceil(seconds / (RENEWAL_FRACTION * TOKEN_SECONDS)) + 1


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


def call_api(auth, url: str, seconds: float = RUN_SECONDS) -> dict:
    """Call ``url`` with ``auth`` (a requests auth) every CALL_EVERY seconds for ``seconds``; the
    statuses it saw, and this process's id."""
    session = requests.Session()
    session.auth = auth
    statuses = collections.Counter()
    paced = threading.Event()  # never set: its wait paces the calls
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        statuses[session.get(url, timeout=10).status_code] += 1
        paced.wait(CALL_EVERY)
    return {"pid": os.getpid(), "statuses": dict(statuses)}


def call_apis(calls: Mapping[str, tuple], seconds: float = RUN_SECONDS) -> dict:
    """A task: for each mode of ``calls`` (mode -> (auth, url)) a thread running ``call_api`` at
    the same time; each mode's report."""
    with ThreadPoolExecutor(len(calls)) as pool:
        running = {mode: pool.submit(call_api, auth, url, seconds) for mode, (auth, url) in calls.items()}
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

    def problems(self, reports: Sequence[dict], window: float, seconds: float) -> list[str]:
        """What went wrong in this mode: tasks in two worker processes called the API, every call
        was authorised, no refresh was refused, and the provider saw at most one refresh per token
        lifetime in the ``window`` measured (from its reset until the tasks ended, worker start-up
        included), plus one; tokens did roll over."""
        found = []
        pids = {report["pid"] for report in reports}
        if len(pids) != 2:
            found.append(f"tasks ran in {len(pids)} worker processes, not 2")
        calls = sum(self.api.statuses.values())
        if set(self.api.statuses) != {200} or calls <= len(reports) * seconds:
            found.append(f"the API answered {dict(self.api.statuses)} ({calls} calls by {len(reports)} tasks "
                         f"in {seconds:.0f} s): not all authorised, or too few")
        refused = self.provider.count("refresh_token", "invalid_grant")
        if refused:
            found.append(f"the provider refused {refused} refreshes (invalid_grant)")
        refreshes, bound = self.provider.count("refresh_token"), refresh_bound(window)
        if not seconds // TOKEN_SECONDS - 1 <= refreshes <= bound:
            found.append(f"{refreshes} refreshes at the provider in {window:.1f} s (allowed "
                         f"{seconds // TOKEN_SECONDS - 1:.0f} to {bound}): {self.provider.stats()}")
        return [f"{self.name}: {problem}" for problem in found]


def run_modes(run_tasks: Callable[[Mapping[str, tuple]], list], modes: Sequence[Mode],
              seconds: float = RUN_SECONDS) -> None:
    """Run the engine's tasks (``run_tasks(calls)``: each task ``call_apis(calls, seconds)``,
    returning their reports) for all ``modes`` in one window; asserts every mode's outcome,
    naming the mode that failed."""
    calls = {mode.name: (mode.auth, mode.api.url) for mode in modes}
    for mode in modes:
        mode.api.reset()
    with Window() as window:
        for mode in modes:
            mode.provider.reset_stats()
        reports = run_tasks(calls)
    problems = [problem for mode in modes
                for problem in mode.problems([report[mode.name] for report in reports], window.seconds, seconds)]
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


class Window:
    """Seconds since it was made (``with Window() as window: ...; window.seconds``)."""

    def __enter__(self) -> "Window":
        self._started = time.monotonic()
        return self

    def __exit__(self, *exc) -> None:
        self.seconds = time.monotonic() - self._started
