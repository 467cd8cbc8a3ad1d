"""The load runs (no tests here), shared by ``tests/test_load.py`` (short) and ``bench/load.py`` (full).

* :func:`silent_load`: threads asking ``acquire_token_silent`` at a fixed total rate against a
  warm cache; every answer must be the cached token and nothing may reach the network.
* :func:`refresh_load`: processes sharing one ``PersistedTokenCache`` file, each asking for a
  token in a loop while the provider's access tokens live one second, so the refresh token is
  redeemed (and rotated) about once a second by whichever process gets there first; a reader
  thread meanwhile parses the file again and again, to catch a torn write.
"""
from __future__ import annotations

import json
import statistics
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Dict, List

import requests

from idp.server import NATIVE_CLIENT, USERS
from nbauth import PublicClientApplication
from nbauth.cache import PersistedTokenCache
from support.processes import python_child, run_together

SCOPES = ["api:read"]


def persisted_app(issuer: str, path: Path, **options: Any) -> PublicClientApplication:
    """The native client of the local provider over the cache file at ``path``."""
    return PublicClientApplication(NATIVE_CLIENT, oidc_authority=issuer, token_cache=PersistedTokenCache(path),
                                   **options)


def signed_in_app(issuer: str, path: Path, **options: Any) -> tuple[PublicClientApplication, dict]:
    """(app, account) once alice signed in with her password, her tokens saved at ``path``."""
    app = persisted_app(issuer, path, **options)
    result = app.acquire_token_by_username_password("alice", USERS["alice"], SCOPES)
    if "access_token" not in result:
        raise RuntimeError(f"could not sign in: {result.get('error')}: {result.get('error_description')}")
    (account,) = app.get_accounts()
    return app, account


def counting_session() -> tuple[requests.Session, List[str]]:
    """An ``http_client`` for an application, and the list of URLs it has sent requests to."""
    session, sent = requests.Session(), []
    session.hooks["response"].append(lambda response, *args, **kwargs: sent.append(response.request.url))
    return session, sent


# ---- silent acquisitions from many threads ---------------------------------------------------
@dataclass
class SilentLoad:
    seconds: float
    latencies: List[float] = field(default_factory=list)  # seconds per call, every call
    errors: List[str] = field(default_factory=list)  # what was not the cached token

    @property
    def calls(self) -> int:
        return len(self.latencies)

    @property
    def rate(self) -> float:
        return self.calls / self.seconds

    def percentile(self, p: float) -> float:
        return statistics.quantiles(self.latencies, n=100)[int(p) - 1] if self.calls > 1 else 0.0


def _ask_paced(call: Callable[[], Any], per_second: float, start: threading.Barrier, seconds: float,
               load: SilentLoad, lock: threading.Lock) -> None:
    """Call ``call`` ``per_second`` times a second (catching up when late) for ``seconds``."""
    latencies, errors = [], []
    start.wait()
    began = time.perf_counter()
    while True:
        now = time.perf_counter()
        if now - began >= seconds:
            break
        due = began + len(latencies) / per_second
        if due > now:
            time.sleep(due - now)
            continue
        try:
            problem = call()
        except Exception as exc:  # the load's edge: any exception is an error to report
            problem = f"{type(exc).__name__}: {exc}"
        latencies.append(time.perf_counter() - now)
        if problem:
            errors.append(problem)
    with lock:
        load.latencies.extend(latencies)
        load.errors.extend(errors)


def silent_load(app: Any, account: dict, *, threads: int, seconds: float, rate: float) -> SilentLoad:
    """``threads`` threads asking ``app.acquire_token_silent`` ``rate`` times a second in all."""
    expected = app.acquire_token_silent(SCOPES, account)["access_token"]

    def call() -> str:
        result = app.acquire_token_silent(SCOPES, account)
        if not result or result.get("access_token") != expected or result.get("token_source") != "cache":
            return f"not the cached token: {result!r}"  # a result's repr masks its tokens
        return ""

    load, lock = SilentLoad(seconds), threading.Lock()
    start = threading.Barrier(threads)
    workers = [threading.Thread(target=_ask_paced, args=(call, rate / threads, start, seconds, load, lock))
               for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(seconds + 30)
    return load


# ---- processes refreshing through one cache file ----------------------------------------------
#: One process of the refresh load: asks for a token every ``pause`` seconds until ``seconds`` pass,
#: then prints a JSON summary. A CacheWarning (a damaged or unwritable file) is an error here.
REFRESHER = """
import json, sys, time, warnings
from nbauth import PublicClientApplication
from nbauth.cache import PersistedTokenCache
from nbauth.exceptions import CacheWarning
warnings.simplefilter("error", CacheWarning)
path, issuer, client_id, seconds, pause = sys.argv[1:6]
app = PublicClientApplication(client_id, oidc_authority=issuer, token_cache=PersistedTokenCache(path))
(account,) = app.get_accounts()
print("ready", flush=True)
sys.stdin.readline()
sources, errors = {}, []
deadline = time.monotonic() + float(seconds)
while time.monotonic() < deadline:
    try:
        result = app.acquire_token_silent_with_error(["api:read"], account) or {"error": "no token"}
    except Exception as exc:
        result = {"error": type(exc).__name__, "error_description": str(exc)}
    if "access_token" in result:
        sources[result["token_source"]] = sources.get(result["token_source"], 0) + 1
    else:
        errors.append(f"{result['error']}: {result.get('error_description', '')}"[:300])
    time.sleep(float(pause))
print(json.dumps({"sources": sources, "errors": errors[:5], "error_count": len(errors)}), flush=True)
"""


@dataclass
class RefreshLoad:
    reports: List[Dict[str, Any]]  # one per process (REFRESHER's summary)
    file_reads: int = 0
    torn_reads: List[str] = field(default_factory=list)  # parse errors of the file, as read

    def count(self, source: str) -> int:
        return sum(report["sources"].get(source, 0) for report in self.reports)

    @property
    def error_count(self) -> int:
        return sum(report["error_count"] for report in self.reports)


def _read_until(path: Path, stop: threading.Event, load: RefreshLoad) -> None:
    while not stop.wait(0.005):
        try:
            json.loads(path.read_bytes())
        except ValueError as error:
            load.torn_reads.append(str(error))
        load.file_reads += 1


def refresh_load(path: Path, issuer: str, *, processes: int, seconds: float, pause: float = 0.01) -> RefreshLoad:
    """Run ``processes`` REFRESHER processes on the cache at ``path`` (an account signed in there).

    Raises AssertionError if one of them fails.
    """
    children = [python_child(REFRESHER, str(path), issuer, NATIVE_CLIENT, str(seconds), str(pause))
                for _ in range(processes)]
    load, stop = RefreshLoad([]), threading.Event()
    reader = threading.Thread(target=_read_until, args=(path, stop, load), daemon=True)
    reader.start()
    try:
        outputs = run_together(children, timeout=seconds + 60)
    finally:
        stop.set()
        reader.join(5)
    load.reports.extend(json.loads(output.strip().splitlines()[-1]) for output in outputs)
    return load


def refresh_problems(load: RefreshLoad, refresh_outcomes: List[str], refresh_tokens: List[str]) -> List[str]:
    """What went wrong in a refresh load, given the provider's outcomes of its refresh-token
    grants and the refresh tokens left in the file (empty when all is well)."""
    problems = []
    if load.error_count:
        problems.append(f"{load.error_count} calls got no token, e.g. {[r['errors'] for r in load.reports]}")
    reused = [outcome for outcome in refresh_outcomes if outcome != "ok"]
    if reused:
        problems.append(f"the provider refused {len(reused)} of {len(refresh_outcomes)} refresh-token "
                        f"redemptions ({sorted(set(reused))}): a rotated refresh token was reused")
    if load.torn_reads or not load.file_reads:
        problems.append(f"{len(load.torn_reads)} of {load.file_reads} reads of the file were torn")
    if len(refresh_tokens) != 1:
        problems.append(f"the file holds {len(refresh_tokens)} refresh tokens for the account, not 1")
    return problems
