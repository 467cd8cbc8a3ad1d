"""AsyncNbauthCredential and the engine's no-wait path: a cache hit answered inline (a user's
token, and a confidential app's own), the network off the event loop (discovery included), one
refresh for every thread and coroutine asking at once, a token due for refresh served at once
while one refresh runs behind it; plain callables asked in a thread."""
import asyncio
import threading
import time

import pytest
from azure.core.credentials_async import AsyncSupportsTokenInfo, AsyncTokenCredential
from azure.core.exceptions import ClientAuthenticationError

from nbauth import ConfidentialClientApplication
from nbauth.cache import TokenCache
from nbauth.exceptions import ConfigurationError
from nbauth.integrations.aio import AsyncNbauthCredential
from nbauth.integrations.azure import AccessToken, AccessTokenInfo
from nbauth.integrations.source import Token
from nbauth.provider.authority import discovery
from nbauth.tokens.single_flight import SingleFlight
from support.clock import FakeClock
from support.fake_provider import CLIENT_ID, FakeProvider
from support.integrations import SCOPES, gated_refreshes

pytestmark = pytest.mark.timeout(60)
THREADS, COROUTINES = 8, 100
LIFETIME = 300


@pytest.fixture
def clock():
    return FakeClock()


@pytest.fixture
def provider(fake_server):
    provider = FakeProvider(fake_server)
    provider.extra_response = {"expires_in": LIFETIME}  # its ID tokens live as long, in real time
    return provider


@pytest.fixture
def gate():
    gate = threading.Event()
    yield gate
    gate.set()  # never leave the provider's handler waiting


def signed_in(provider, clock):
    app = provider.app(clock=clock)
    assert "access_token" in app.acquire_token_by_username_password("alice", "pw", SCOPES)
    (account,) = app.get_accounts()
    return app, account


def refreshed_token_requests(provider):
    return [r for r in provider.token_requests() if r.form["grant_type"] == "refresh_token"]


def completes_without_yielding(coroutine):
    """The coroutine's value, if it finishes in one step (never awaiting anything); else fails."""
    try:
        coroutine.send(None)
    except StopIteration as done:
        return done.value
    coroutine.close()
    pytest.fail("the coroutine waited on something")


def awaited_while_the_loop_ticks(coroutine, gate):
    """The coroutine's value, run beside a ticker that releases the provider (``gate``) only once
    the event loop went round five times meanwhile: a loop blocked on the provider fails."""
    ticks = []

    async def ticker():
        for _ in range(5):
            ticks.append(1)
            await asyncio.sleep(0)
        gate.set()

    async def main():
        return await asyncio.gather(coroutine, ticker())
    value, _ = asyncio.run(main())
    assert len(ticks) == 5
    return value


def threads_and_coroutines(sync_call, async_call, released):
    """``sync_call()`` from THREADS threads and ``async_call()`` from COROUTINES coroutines on one
    event loop, all started before ``released()`` is called; every outcome, exceptions included."""
    started, outcomes = threading.Barrier(THREADS + 1), []

    def in_thread():
        started.wait(10)
        try:
            outcomes.append(sync_call())
        except Exception as exc:  # collected: the test asserts on it
            outcomes.append(exc)

    async def on_loop():
        tasks = [asyncio.ensure_future(async_call()) for _ in range(COROUTINES)]
        await asyncio.sleep(0)  # every coroutine has asked (and awaits its flight)
        started.wait(10)
        released()
        return await asyncio.gather(*tasks, return_exceptions=True)

    threads = [threading.Thread(target=in_thread) for _ in range(THREADS)]
    for thread in threads:
        thread.start()
    outcomes.extend(asyncio.run(on_loop()))
    for thread in threads:
        thread.join(30)
    return outcomes


def test_a_hundred_coroutines_and_eight_threads_at_expiry_send_one_refresh(provider, clock, gate):
    app, account = signed_in(provider, clock)
    credential = AsyncNbauthCredential(app, account=account)
    refreshes = gated_refreshes(provider, gate)
    clock.advance(0.97 * LIFETIME)  # in its last twentieth: expired
    outcomes = threads_and_coroutines(lambda: app.acquire_token_silent(SCOPES, account)["access_token"],
                                      lambda: credential.get_token_info(*SCOPES), gate.set)
    tokens = {o if isinstance(o, str) else o.token for o in outcomes}
    assert len(outcomes) == THREADS + COROUTINES and len(refreshes) == 1
    assert len(tokens) == 1 and all(t.startswith("at-") for t in tokens), outcomes


def test_a_token_due_for_refresh_is_served_at_once_while_one_refresh_runs_behind(provider, clock, gate):
    app, account = signed_in(provider, clock)
    first = app.acquire_token_silent(SCOPES, account)["access_token"]
    credential = AsyncNbauthCredential(app, account=account)
    refreshes = gated_refreshes(provider, gate)
    clock.advance(0.92 * LIFETIME)  # in its renewal window (9/10 to 19/20 of its life), still valid
    # with the provider holding the refresh, every caller is answered: nobody waits on it
    outcomes = threads_and_coroutines(lambda: app.acquire_token_silent(SCOPES, account)["access_token"],
                                      lambda: credential.get_token(*SCOPES), lambda: None)
    assert {o if isinstance(o, str) else o.token for o in outcomes} == {first}
    gate.set()
    app.service.wait_for_background(10)
    assert len(refreshes) == 1
    renewed = completes_without_yielding(credential.get_token(*SCOPES))
    assert renewed.token != first and app.acquire_token_silent(SCOPES, account)["access_token"] == renewed.token


def test_a_cache_hit_is_answered_inline(provider, clock):
    app, account = signed_in(provider, clock)
    credential = AsyncNbauthCredential(app, account=account)
    token = completes_without_yielding(credential.get_token_info(*SCOPES))
    assert isinstance(token, AccessTokenInfo) and token.token.startswith("at-")
    assert isinstance(completes_without_yielding(credential.get_token(*SCOPES)), AccessToken)


def test_the_event_loop_runs_on_while_the_provider_is_asked(provider, clock, gate):
    app, account = signed_in(provider, clock)
    credential = AsyncNbauthCredential(app, account=account)
    gated_refreshes(provider, gate)
    clock.advance(0.97 * LIFETIME)
    assert awaited_while_the_loop_ticks(credential.get_token(*SCOPES), gate).token.startswith("at-")


def test_it_is_azure_cores_async_credential_and_an_async_context_manager(provider, clock):
    app, account = signed_in(provider, clock)

    async def main():
        async with AsyncNbauthCredential(app, account=account) as credential:
            assert isinstance(credential, AsyncTokenCredential) and isinstance(credential, AsyncSupportsTokenInfo)
            return await credential.get_token_info(*SCOPES, options={"claims": None})
    assert asyncio.run(main()).token.startswith("at-")


def test_failures_are_azure_errors_raised_in_the_awaiting_coroutine(provider, clock):
    app, account = signed_in(provider, clock)
    credential = AsyncNbauthCredential(app, account=account)
    app.remove_account(account)
    with pytest.raises(ClientAuthenticationError, match="interaction_required"):
        asyncio.run(credential.get_token(*SCOPES))
    with pytest.raises(ConfigurationError, match="tenant"):
        asyncio.run(credential.get_token(*SCOPES, tenant_id="another"))


# ---- what has a cache path inline, and what goes through a thread ------------------------------
@pytest.fixture
def thread_hops(monkeypatch):
    """The flights started in background threads (the one way off the event loop), by key."""
    hops, begin = [], SingleFlight.begin

    def counted(self, key, work):
        hops.append(key)
        return begin(self, key, work)
    monkeypatch.setattr(SingleFlight, "begin", counted)
    return hops


def app_token_answer(request):
    """A client-credentials answer (no ID token, no refresh token)."""
    return 200, {}, {"access_token": f"at-{time.monotonic_ns()}", "token_type": "Bearer", "expires_in": LIFETIME}


def confidential_app(provider, clock):
    provider.server.route("POST", provider.mount + "/token", app_token_answer)
    return ConfidentialClientApplication(CLIENT_ID, "secret", oidc_authority=provider.issuer, clock=clock,
                                         token_cache=TokenCache())


def test_a_confidential_apps_cache_hit_is_answered_inline_without_a_thread(provider, clock, thread_hops):
    credential = AsyncNbauthCredential(confidential_app(provider, clock))
    first = asyncio.run(credential.get_token(*SCOPES))  # nothing cached: asked in a thread
    assert len(thread_hops) == 1
    served = [completes_without_yielding(credential.get_token_info(*SCOPES)) for _ in range(3)]
    assert {token.token for token in served} == {first.token} and len(thread_hops) == 1


def test_a_plain_callable_is_asked_in_a_thread(thread_hops):
    asked_in = []

    def source(scopes, *, claims_challenge=None, force_refresh=False):
        asked_in.append(threading.current_thread())
        return Token("at-callable", 2_000_000_000)
    credential = AsyncNbauthCredential(source)
    assert asyncio.run(credential.get_token(*SCOPES)).token == "at-callable"
    assert len(thread_hops) == 1 and asked_in != [threading.main_thread()]


def test_a_confidential_apps_due_token_is_served_inline_while_one_refresh_runs_behind(provider, clock, gate):
    app = confidential_app(provider, clock)
    credential = AsyncNbauthCredential(app)
    first = asyncio.run(credential.get_token(*SCOPES))
    requests = gated_token_requests(provider, gate)
    clock.advance(0.92 * LIFETIME)  # in its renewal window (9/10 to 19/20 of its life), still valid
    assert completes_without_yielding(credential.get_token(*SCOPES)).token == first.token
    assert completes_without_yielding(credential.get_token(*SCOPES)).token == first.token
    gate.set()
    app.service.wait_for_background(10)
    assert len(requests) == 1
    assert completes_without_yielding(credential.get_token(*SCOPES)).token != first.token


@pytest.mark.parametrize("what", ["expired", "undiscovered"])
def test_the_event_loop_runs_on_while_a_confidential_app_asks(provider, clock, gate, what):
    app = confidential_app(provider, clock)
    asyncio.run(AsyncNbauthCredential(app).get_token(*SCOPES))
    if what == "expired":
        gated_token_requests(provider, gate)
        clock.advance(LIFETIME)
    else:  # a new application over the same cache, whose provider's configuration is not yet known
        discovery.clear()
        gated_discovery(provider, gate)
        app = ConfidentialClientApplication(CLIENT_ID, "secret", oidc_authority=provider.issuer, clock=clock,
                                            token_cache=app.token_cache)
    credential = AsyncNbauthCredential(app)
    assert awaited_while_the_loop_ticks(credential.get_token(*SCOPES), gate).token.startswith("at-")


def test_the_event_loop_runs_on_while_a_new_app_discovers_its_provider(provider, clock, gate):
    app, account = signed_in(provider, clock)
    discovery.clear()
    gated_discovery(provider, gate)
    credential = AsyncNbauthCredential(provider.app(clock=clock, token_cache=app.token_cache), account=account)
    assert awaited_while_the_loop_ticks(credential.get_token(*SCOPES), gate).token.startswith("at-")


def gated_token_requests(provider, gate):
    """Make ``provider`` hold every (client-credentials) token request until ``gate`` is set; the
    requests as they come."""
    requests = []

    def token(request):
        requests.append(request)
        assert gate.wait(30), "the test never released the provider"
        return app_token_answer(request)
    provider.server.route("POST", provider.mount + "/token", token)
    return requests


def gated_discovery(provider, gate):
    def document(request):
        assert gate.wait(5), "the event loop stood still while the provider was asked"
        return 200, {}, provider.metadata()
    provider.server.route("GET", provider.mount + "/.well-known/openid-configuration", document)
