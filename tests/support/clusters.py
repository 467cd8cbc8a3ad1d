"""Helpers for the cluster tests (no tests): a provider with 10-second tokens, an API that verifies
every JWT and counts its answers, and the task workers run against it."""
import collections
import math
import os
import threading
import time

import requests

from support.fake_http import FakeServer
from support.integrations import checking_api

#: Access-token lifetime at the provider, in seconds (the issue's 10).
TOKEN_SECONDS = 10
#: How long each mode's tasks call the API: three token lifetimes (the issue says 60 s; 30 s keeps
#: CI short and still shows tokens rolling over, and the bound below scales with it).
RUN_SECONDS = float(os.environ.get("NBAUTH_CLUSTER_SECONDS", 30))
#: How often each task calls the API.
CALL_EVERY = 0.1


def refresh_bound(seconds: float = RUN_SECONDS) -> int:
    """Refresh requests allowed at the provider: token lifetimes in the run, plus one."""
    return math.ceil(seconds / TOKEN_SECONDS) + 1


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
    """A task: call ``url`` with ``auth`` (a requests auth) every CALL_EVERY seconds for ``seconds``;
    the statuses it saw, and this process's id."""
    session = requests.Session()
    session.auth = auth
    statuses = collections.Counter()
    paced = threading.Event()  # never set: its wait paces the calls
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        statuses[session.get(url, timeout=10).status_code] += 1
        paced.wait(CALL_EVERY)
    return {"pid": os.getpid(), "statuses": dict(statuses)}


def protected_file(provider, text: str):
    """A FakeServer handler serving ``text`` as CSV to requests with a valid token of ``provider``."""
    import jwt

    from support.integrations import bearer_of, verified_claims

    def handle(request):
        try:
            verified_claims(provider, bearer_of(request))
        except (AssertionError, jwt.InvalidTokenError):
            return 401, {"WWW-Authenticate": 'Bearer error="invalid_token"'}, {"error": "invalid_token"}
        return 200, {"Content-Type": "text/csv"}, text.encode()
    return handle


def assert_all_authorised_with_bounded_refreshes(reports, provider, api, window: float,
                                                 seconds: float = RUN_SECONDS) -> None:
    """Both worker processes called the API, every call was authorised, no refresh was refused, and
    the provider saw at most one refresh per token lifetime in the ``window`` measured (from the
    provider's reset until the tasks ended, worker start-up included), plus one; tokens did roll over."""
    assert len({report["pid"] for report in reports}) == 2
    assert set(api.statuses) == {200} and sum(api.statuses.values()) > len(reports) * seconds
    assert provider.count("refresh_token", "invalid_grant") == 0
    refreshes = provider.count("refresh_token")
    assert seconds // TOKEN_SECONDS - 1 <= refreshes <= refresh_bound(window), (window, provider.stats())


class Window:
    """Seconds since it was made (``with Window() as window: ...; window.seconds``)."""

    def __enter__(self) -> "Window":
        self._started = time.monotonic()
        return self

    def __exit__(self, *exc) -> None:
        self.seconds = time.monotonic() - self._started
