"""The background refresher: renews tokens before anyone needs them (callers keep getting cache
hits), backs off after a failure, stops on a revoked refresh token, and ends with its process.
Its timing runs on a fake clock; one test renews 3-second tokens in real time."""
import os
import queue
import threading
import time

import pytest

from support.fake_provider import CLIENT_ID, FakeProvider
from idp.server import NATIVE_CLIENT
from nbauth import ConfigurationError, OAuthError, PublicClientApplication
from nbauth.protocol.lifecycle import RenewalWindow, TokenState, entry_times, renewal_window
from nbauth.tokens import refresher as refresher_module
from nbauth.tokens.refresher import MAX_BACKOFF, Outcome, Refresher, backoff, needs_sign_in
from support.processes import python_child

SCOPES = ["api:read"]
#: Far under one provider round trip (a refresh here takes tens of milliseconds).
CACHE_HIT_BOUND = 0.05
pytestmark = pytest.mark.timeout(90)


# ---- when to renew (pure) --------------------------------------------------------------------------
def test_a_token_is_renewed_from_two_margins_before_its_expiry_until_it_counts_as_expired():
    assert renewal_window(1300, cached_at=1000) == RenewalWindow(1270, 1285)  # nine tenths through its life
    assert renewal_window(4600, cached_at=1000) == RenewalWindow(4240, 4420)  # an hour: 6 and 3 minutes ahead
    assert renewal_window(88400, cached_at=2000) == RenewalWindow(87800, 88100)  # MSAL's 5-minute margin, twice
    assert renewal_window(1300, cached_at=1000, refresh_on=1100) == RenewalWindow(1100, 1285)
    assert renewal_window(1300, cached_at=1000, refresh_on=1290) == RenewalWindow(1285, 1285)
    assert renewal_window(5000) == RenewalWindow(4400, 4700)  # lifetime unknown: ten minutes ahead


def test_ahead_of_need_a_token_in_its_window_is_due():
    entry = {"expires_on": "1300", "cached_at": "1000"}
    assert entry_times(entry).state(1275) is TokenState.FRESH
    assert entry_times(entry).state(1275, ahead=True) is TokenState.REFRESH_DUE
    assert entry_times(entry).state(1265, ahead=True) is TokenState.FRESH
    assert entry_times(entry).state(1290, ahead=True) is TokenState.EXPIRED


def test_backoff_doubles_from_about_two_seconds_up_to_five_minutes():
    assert (backoff(1, 0.0), backoff(2, 0.0), backoff(3, 0.999)) == (1.0, 2.0, pytest.approx(8, rel=0.01))
    assert backoff(40, 0.999) <= MAX_BACKOFF


def test_only_a_refused_grant_needs_a_person():
    assert needs_sign_in(OAuthError("invalid_grant")) and needs_sign_in(OAuthError("interaction_required"))
    assert not needs_sign_in(OAuthError("temporarily_unavailable")) and not needs_sign_in(TimeoutError())


# ---- renewing at the local provider ------------------------------------------------------------
@pytest.fixture
def refresher():
    refresher = Refresher()
    yield refresher
    refresher.stop(10)


def signed_in(issuer, client_id=NATIVE_CLIENT, password="alice-pw", clock=None):
    app = PublicClientApplication(client_id, oidc_authority=issuer, **({"clock": clock} if clock else {}))
    assert "access_token" in app.acquire_token_by_username_password("alice", password, SCOPES)
    return app, app.get_accounts()[0]


class Caller(threading.Thread):
    """Asks for the token every 10 ms, as busy notebook cells would, timing each call."""

    def __init__(self, app, account):
        super().__init__(daemon=True)
        self.app, self.account = app, account
        self.stop, self.slowest, self.sources = threading.Event(), 0.0, set()

    def run(self):
        while not self.stop.wait(0.01):
            started = time.perf_counter()
            result = self.app.acquire_token_silent(SCOPES, self.account)
            self.slowest = max(self.slowest, time.perf_counter() - started)
            self.sources.add(result["token_source"])


class Statuses(queue.Queue):
    """A listener keeping what it hears; after the ``last``-th status it stops the refresher, so a
    fake clock's instant waits cannot renew on for ever."""

    def __init__(self, refresher, last):
        super().__init__()
        self.refresher, self.left = refresher, last

    def __call__(self, status):
        self.put(status)
        self.left -= 1
        if self.left == 0:
            self.refresher.stop(0)

    def take(self, n):
        return [self.get(timeout=10) for _ in range(n)]


@pytest.fixture
def fake_refresher(clock):
    refresher = Refresher(clock=clock, wait=clock.wait)
    yield refresher
    refresher.stop(10)


def test_three_second_tokens_stay_fresh_in_real_time_and_callers_only_meet_the_cache(make_idp, refresher):
    provider = make_idp(access_token_ttl=3)
    app, account = signed_in(provider.issuer)
    statuses = queue.Queue()
    caller = Caller(app, account)
    provider.reset_stats()
    renewal = refresher.keep_fresh(app.service, account, SCOPES, statuses.put)
    caller.start()
    try:
        outcomes = [statuses.get(timeout=10) for _ in range(3)]  # at once, then two renewals (~4.5 s)
    finally:
        caller.stop.set()
        caller.join(10)
    assert [s.outcome for s in outcomes] == [Outcome.FRESH] * 3 and renewal.status == outcomes[-1]
    assert provider.count("refresh_token") == 2 and provider.count("refresh_token", "invalid_grant") == 0
    assert caller.sources == {"cache"} and caller.slowest < CACHE_HIT_BOUND
    renewal.cancel()
    assert not renewal.active


def test_each_renewal_is_due_in_the_tokens_window_and_callers_only_meet_the_cache(fake_server, clock,
                                                                                  fake_refresher):
    provider = FakeProvider(fake_server)
    provider.extra_response = {"expires_in": 3}
    app, account = signed_in(provider.issuer, CLIENT_ID, "pw", clock)
    signed_in_at, statuses = clock(), Statuses(fake_refresher, 5)
    caller = Caller(app, account)
    caller.start()
    try:
        fake_refresher.keep_fresh(app.service, account, SCOPES, statuses)
        outcomes = statuses.take(5)  # at once, then four renewals
    finally:
        caller.stop.set()
        caller.join(10)
    assert [s.outcome for s in outcomes] == [Outcome.FRESH] * 5 and len(provider.token_requests()) == 5
    # each renewal is due in its token's window: from 2.25 s of its 3 s (token times are whole seconds,
    # so up to 1 s earlier), jittered by up to 0.225 s
    due = [signed_in_at] + [status.next_at for status in outcomes]
    assert all(1.25 < later - earlier <= 2.475 for earlier, later in zip(due, due[1:])), due
    assert caller.sources == {"cache"}


def test_a_failed_renewal_is_retried_after_a_backoff(fake_server, clock):
    provider = FakeProvider(fake_server)
    provider.extra_response = {"refresh_in": 1}  # renew after a second
    app, account = signed_in(provider.issuer, CLIENT_ID, "pw", clock)
    refresher = Refresher(clock=clock, wait=clock.wait, draw=lambda: 0.0)  # no jitter: renew at refresh_on
    statuses = Statuses(refresher, 3)
    fake_server.enqueue("POST", provider.mount + "/token", (400, {}, {"error": "temporarily_unavailable"}))
    refresher.keep_fresh(app.service, account, SCOPES, statuses)
    fresh, failed, retried = statuses.take(3)
    assert fresh.outcome is Outcome.FRESH
    assert failed.outcome is Outcome.RETRYING and failed.error.error == "temporarily_unavailable"
    assert failed.next_at - fresh.next_at == 1.0  # the first backoff, without jitter, from the failure
    assert retried.outcome is Outcome.FRESH  # the retry renewed it
    refresher.stop(10)
    assert len(provider.token_requests()) == 3  # sign-in, the failure, the retry


def test_a_revoked_refresh_token_ends_the_renewal_with_sign_in_needed(idp, clock, fake_refresher):
    app, account = signed_in(idp.issuer, clock=clock)
    idp.revoke_user_refresh_tokens("alice")  # before the renewal that finds out
    statuses = queue.Queue()
    renewal = fake_refresher.keep_fresh(app.service, account, SCOPES, statuses.put)
    assert statuses.get(timeout=10).outcome is Outcome.FRESH  # not due yet
    ended = statuses.get(timeout=10)
    assert ended.outcome is Outcome.SIGN_IN_NEEDED and ended.next_at is None
    assert isinstance(ended.error, OAuthError) and ended.error.error == "invalid_grant"
    assert not renewal.active and idp.count("refresh_token", "invalid_grant") >= 1
    result = app.acquire_token_silent_with_error(SCOPES, account, force_refresh=True)
    assert result["error"] == "invalid_grant"  # MSAL's answer to the application


def test_a_signed_out_account_ends_its_renewal(idp, refresher):
    app, account = signed_in(idp.issuer)
    app.remove_account(account)
    statuses = queue.Queue()
    refresher.keep_fresh(app.service, account, SCOPES, statuses.put)
    ended = statuses.get(timeout=10)
    assert ended.outcome is Outcome.SIGN_IN_NEEDED and ended.error.error == "interaction_required"


def test_stop_ends_every_renewal_and_the_thread_and_keep_fresh_starts_it_again(idp, refresher):
    app, account = signed_in(idp.issuer)
    renewal = refresher.keep_fresh(app.service, account, SCOPES)
    thread = refresher.thread
    refresher.stop(10)
    assert not thread.is_alive() and not renewal.active
    statuses = queue.Queue()
    refresher.keep_fresh(app.service, account, SCOPES, statuses.put)
    assert statuses.get(timeout=10).outcome is Outcome.FRESH


def test_bad_registrations_are_named(idp):
    app, account = signed_in(idp.issuer)
    with pytest.raises(ConfigurationError, match="scopes"):
        app.keep_fresh(account, "api:read")
    with pytest.raises(ConfigurationError, match="account"):
        app.keep_fresh(None, SCOPES)


def test_a_forked_child_starts_without_its_parents_renewals(idp):
    app, account = signed_in(idp.issuer)
    renewal = app.keep_fresh(account, SCOPES)
    pid = os.fork()
    if pid == 0:  # the child: exit at once, saying whether it kept the parent's refresher
        os._exit(0 if refresher_module.background_refresher().renewals == [] else 1)
    assert os.waitpid(pid, 0)[1] == 0
    assert renewal.active and refresher_module.background_refresher().renewals == [renewal]


KEEP_FRESH_THEN_EXIT = """
import sys
from nbauth import PublicClientApplication
app = PublicClientApplication("nbauth-native", oidc_authority=sys.argv[1])
app.acquire_token_by_username_password("alice", "alice-pw", ["api:read"])
renewal = app.keep_fresh(app.get_accounts()[0], ["api:read"])
print("kept fresh", flush=True)
"""


def test_the_refresher_ends_with_its_process(idp):
    child = python_child(KEEP_FRESH_THEN_EXIT, idp.issuer, stderr=-1)
    out, err = child.communicate(timeout=30)
    assert (child.returncode, out, err) == (0, "kept fresh\n", "")
