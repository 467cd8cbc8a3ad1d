"""AsyncNbauthCredential and the engine's no-wait path: a cache hit answered inline, the network
off the event loop, one refresh for every thread and coroutine asking at once, and a token due
for refresh served at once while one refresh runs behind it."""
import asyncio
import threading

import pytest
from azure.core.credentials_async import AsyncSupportsTokenInfo, AsyncTokenCredential
from azure.core.exceptions import ClientAuthenticationError

from nbauth.exceptions import ConfigurationError
from nbauth.integrations.aio import AsyncNbauthCredential
from nbauth.integrations.azure import AccessToken, AccessTokenInfo
from support.clock import FakeClock
from support.fake_provider import FakeProvider
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
    clock.advance(0.95 * LIFETIME)  # in its last tenth: expired
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
    clock.advance(0.8 * LIFETIME)  # in its renewal window, still valid
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
    clock.advance(0.95 * LIFETIME)
    ticks = []

    async def ticker():  # releases the provider only if the loop kept running meanwhile
        for _ in range(5):
            ticks.append(1)
            await asyncio.sleep(0)
        gate.set()

    async def main():
        return await asyncio.gather(credential.get_token(*SCOPES), ticker())
    token, _ = asyncio.run(main())
    assert token.token.startswith("at-") and len(ticks) == 5


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
