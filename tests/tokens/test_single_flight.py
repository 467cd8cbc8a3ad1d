"""One refresh, however many ask: concurrent callers share a flight, unrelated accounts do not wait
for each other, and the confidential app's own and on-behalf-of tokens are fetched once too."""
import threading
import time

import pytest

from support.fake_provider import CLIENT_ID, FakeProvider
from idp.server import CLIENT_SECRET, CONFIDENTIAL_CLIENT, NATIVE_CLIENT
from nbauth import ConfidentialClientApplication, PublicClientApplication
from nbauth.cache import TokenCache
from nbauth.tokens.single_flight import SingleFlight
from support.clock import FakeClock

SCOPES = ["api:read"]
THREADS = 16
pytestmark = pytest.mark.timeout(60)


def all_at_once(call, n=THREADS):
    """``call()`` from ``n`` threads released together; their results (or exceptions)."""
    start, results = threading.Barrier(n), []

    def run():
        start.wait(10)
        try:
            results.append(call())
        except Exception as exc:  # collected: the test asserts on it
            results.append(exc)

    threads = [threading.Thread(target=run) for _ in range(n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert len(results) == n
    return results


# ---- the registry itself ------------------------------------------------------------------------
class CountedKey:
    """A key that counts registry lookups, so a leader can wait until every follower has joined."""

    def __init__(self):
        self.lookups = 0
        self.changed = threading.Condition()

    def __hash__(self):
        with self.changed:
            self.lookups += 1
            self.changed.notify_all()
        return 1

    def wait_for(self, lookups):
        with self.changed:
            assert self.changed.wait_for(lambda: self.lookups >= lookups, 10)


def joined_by_all(key, outcome):
    """Work that finishes once the other threads have found its flight (leader: 2 lookups, 15 others)."""
    calls = []

    def work():
        calls.append(1)
        key.wait_for(2 + THREADS - 1)
        return outcome()
    return work, calls


def test_callers_in_flight_share_one_run_and_its_result():
    flights, key = SingleFlight(), CountedKey()
    work, calls = joined_by_all(key, lambda: {"token": "one"})
    results = all_at_once(lambda: flights.run(key, work))
    assert len(calls) == 1 and all(r is results[0] for r in results)
    assert flights.run(key, lambda: "next") == "next"  # the flight landed: a later call runs anew


def test_a_failure_is_shared_too():
    flights, key = SingleFlight(), CountedKey()

    def fail():
        raise ValueError("provider said no")
    work, calls = joined_by_all(key, fail)
    results = all_at_once(lambda: flights.run(key, work))
    assert len(calls) == 1 and all(isinstance(r, ValueError) for r in results)


def test_an_interrupted_leader_hands_over_instead_of_interrupting_its_followers():
    flights, key = SingleFlight(), CountedKey()
    runs, outcomes = [], []

    def work():
        runs.append(1)
        if len(runs) == 1:
            key.wait_for(3)  # the follower joined
            raise KeyboardInterrupt
        return "from the second leader"

    def call():
        try:
            outcomes.append(flights.run(key, work))
        except KeyboardInterrupt:
            outcomes.append("interrupted")

    threads = [threading.Thread(target=call) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert len(runs) == 2 and sorted(outcomes) == ["from the second leader", "interrupted"]


def test_a_background_flight_begins_without_waiting_for_its_thread_to_run(monkeypatch):
    """Thread.start() waits until the OS runs the new thread (up to 370 ms seen on a loaded
    machine); ``begin``'s caller (an event loop, a cache hit) must not."""
    scheduled, start = threading.Event(), threading.Thread.start

    def slow_start(thread):  # the OS takes its time to run a flight's thread
        if thread.name == "nbauth-refresh":
            assert scheduled.wait(10)
        start(thread)
    monkeypatch.setattr(threading.Thread, "start", slow_start)
    flights = SingleFlight()
    began = time.perf_counter()
    flight = flights.begin("key", lambda: "done")
    assert time.perf_counter() - began < 1.0 and not flight.done()
    assert flights.begin("key", lambda: "again") is flight  # in flight, though its thread is not running yet
    scheduled.set()
    assert flight.result(10) == "done"
    flights.join_background(10)


def test_a_follower_stops_waiting_for_a_hung_flight_and_does_the_work_itself():
    flights, key, release = SingleFlight(follower_timeout=0.2), CountedKey(), threading.Event()
    outcomes = []

    def hung():
        key.wait_for(3)  # the follower joined
        release.wait(10)
        return "late"

    leader = threading.Thread(target=lambda: outcomes.append(flights.run(key, hung)))
    leader.start()
    try:
        assert flights.run(key, lambda: "own") == "own"
    finally:
        release.set()
        leader.join(10)
    assert outcomes == ["late"]


# ---- silent acquisition at the local provider ----------------------------------------------------
def signed_in(provider, clock, user="alice", cache=None):
    app = PublicClientApplication(NATIVE_CLIENT, oidc_authority=provider.issuer, clock=clock,
                                  token_cache=cache or TokenCache(clock=clock))
    assert "access_token" in app.acquire_token_by_username_password(user, f"{user}-pw", SCOPES)
    return app, app.get_accounts(username=f"{user}@example.test")[0]


def test_sixteen_threads_at_expiry_send_one_refresh(make_idp):
    provider, clock = make_idp(access_token_ttl=3), FakeClock()
    app, account = signed_in(provider, clock)
    clock.now += 3  # the moment of expiry
    provider.reset_stats()
    results = all_at_once(lambda: app.acquire_token_silent(SCOPES, account))
    assert provider.count("refresh_token") == 1 and provider.count("refresh_token", "invalid_grant") == 0
    assert len({r["access_token"] for r in results}) == 1
    assert results[0] is not results[1]  # each caller has its own copy of the shared result
    assert app.acquire_token_silent(SCOPES, account)["token_source"] == "cache"


def test_sixteen_threads_forcing_a_refresh_share_one_too(idp):
    clock = FakeClock()
    app, account = signed_in(idp, clock)
    before, refused = idp.count("refresh_token"), idp.count("refresh_token", "invalid_grant")
    results = all_at_once(lambda: app.acquire_token_silent(SCOPES, account, force_refresh=True))
    refreshes = idp.count("refresh_token") - before
    assert 1 <= refreshes == len({r["access_token"] for r in results})  # late callers force their own
    assert idp.count("refresh_token", "invalid_grant") == refused  # never the same refresh token twice


def two_accounts_provider(server, gate):
    """A provider whose refreshes for alice wait for ``gate``; every grant names its user."""
    provider = FakeProvider(server)

    def token(request):
        form = request.form
        user = form.get("username") or form["refresh_token"].split(":")[0]
        if form["grant_type"] == "refresh_token" and user == "alice":
            assert gate.wait(20)
        claims = provider.claims(sub=user, preferred_username=f"{user}@example.test")
        return 200, {}, {"access_token": f"at-{user}-{time.monotonic_ns()}", "token_type": "Bearer",
                         "expires_in": 300, "refresh_token": f"{user}:{time.monotonic_ns()}",
                         "scope": "api:read", "id_token": provider.sign(claims)}
    server.route("POST", provider.mount + "/token", token)
    return provider


def test_unrelated_accounts_refresh_side_by_side(fake_server):
    gate, clock = threading.Event(), FakeClock()
    provider = two_accounts_provider(fake_server, gate)
    app = PublicClientApplication(CLIENT_ID, oidc_authority=provider.issuer, clock=clock)
    for user in ("alice", "bob"):
        assert "access_token" in app.acquire_token_by_username_password(user, "pw", SCOPES)
    alice, bob = (app.get_accounts(username=f"{u}@example.test")[0] for u in ("alice", "bob"))
    clock.now += 280  # both tokens within their last tenth
    alice_result = []
    waiting = threading.Thread(target=lambda: alice_result.append(app.acquire_token_silent(SCOPES, alice)))
    waiting.start()
    try:
        fake_server.wait_for_requests(3, path=provider.mount + "/token")  # two sign-ins, alice's refresh
        assert app.acquire_token_silent(SCOPES, bob)["access_token"].startswith("at-bob-")  # not queued
    finally:
        gate.set()
        waiting.join(20)
    assert alice_result[0]["access_token"].startswith("at-alice-")


# ---- the confidential application's own and on-behalf-of tokens -------------------------------
def confidential(idp):
    return ConfidentialClientApplication(CONFIDENTIAL_CLIENT, CLIENT_SECRET, oidc_authority=idp.issuer,
                                         token_cache=TokenCache())


def test_sixteen_threads_asking_for_the_apps_token_send_one_request(idp):
    app = confidential(idp)
    before = idp.count("client_credentials")
    results = all_at_once(lambda: app.acquire_token_for_client(["api:write"]))
    assert idp.count("client_credentials") == before + 1
    assert len({r["access_token"] for r in results}) == 1


def test_sixteen_threads_on_behalf_of_one_user_send_one_request(idp):
    user = PublicClientApplication(NATIVE_CLIENT, oidc_authority=idp.issuer, token_cache=TokenCache())
    assertion = user.acquire_token_by_username_password("alice", "alice-pw", SCOPES)["access_token"]
    app = confidential(idp)
    before = idp.count("jwt_bearer")
    results = all_at_once(lambda: app.acquire_token_on_behalf_of(assertion, ["api:write"]))
    assert idp.count("jwt_bearer") == before + 1
    assert len({r["access_token"] for r in results}) == 1
