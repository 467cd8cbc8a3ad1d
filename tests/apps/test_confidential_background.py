"""A confidential app's own token (client credentials) and on-behalf-of tokens past their refresh
time (the provider's ``refresh_in``, else nine tenths of their life) but still valid are served
at once while one refresh runs in the background, as user tokens are: the call never waits on the
provider, threads asking at once share that one refresh, and a failed one is tried again only
after ``RETRY_AFTER`` seconds. Against a scripted provider on loopback, with the fake clock."""
import threading

import pytest

from nbauth import ConfidentialClientApplication
from nbauth.tokens.refresh import RETRY_AFTER
from support.fake_http import FakeServer

ISSUED = {"token_type": "Bearer", "expires_in": 3600}


class Provider:
    """Discovery and a token endpoint whose answers the test holds back (``hold``) or scripts."""

    def __init__(self, server: FakeServer) -> None:
        self.server, self.issuer = server, server.url + "/op"
        self.issued = 0
        self.release = threading.Event()
        self.release.set()
        server.route("GET", "/op/.well-known/openid-configuration",
                     (200, {}, {"issuer": self.issuer, "token_endpoint": self.issuer + "/token"}))
        server.route("POST", "/op/token", self._token)

    def _token(self, request) -> tuple:
        assert self.release.wait(10), "the test never released the token endpoint"
        self.issued += 1
        return 200, {}, dict(ISSUED, access_token=f"at-{self.issued}")

    def requests(self) -> list:
        return self.server.requests_to("/op/token")


@pytest.fixture
def provider(fake_server):
    return Provider(fake_server)


@pytest.fixture
def app(provider, clock):
    return ConfidentialClientApplication("app", "secret", oidc_authority=provider.issuer, clock=clock)


ACQUIRE = {
    "client_credentials": lambda app: app.acquire_token_for_client(["api"]),
    "on_behalf_of": lambda app: app.acquire_token_on_behalf_of("the-users-token", ["api"]),
}


@pytest.mark.parametrize("grant", sorted(ACQUIRE))
def test_a_due_token_is_served_at_once_while_the_provider_is_still_answering(app, provider, clock, grant):
    acquire = ACQUIRE[grant]
    assert acquire(app)["access_token"] == "at-1"
    clock.advance(3300)  # past nine tenths of its hour (3,240 s), before its expiry margin (3,420 s)
    provider.release.clear()  # the provider now holds every answer back
    served = acquire(app)
    assert (served["access_token"], served["token_source"]) == ("at-1", "cache")
    provider.server.wait_for_requests(2, path="/op/token")  # the refresh is in flight, behind the caller
    assert acquire(app)["access_token"] == "at-1"
    provider.release.set()
    app.service.wait_for_background(10)
    renewed = acquire(app)
    assert (renewed["access_token"], renewed["token_source"]) == ("at-2", "cache")
    assert len(provider.requests()) == 2


def test_before_its_refresh_time_a_token_is_not_renewed(app, provider, clock):
    app.acquire_token_for_client(["api"])
    clock.advance(3200)  # before nine tenths of its hour (3,240 s)
    assert app.acquire_token_for_client(["api"])["token_source"] == "cache"
    app.service.wait_for_background(10)
    assert len(provider.requests()) == 1


def test_threads_asking_at_once_share_one_background_refresh(app, provider, clock):
    app.acquire_token_for_client(["api"])
    clock.advance(3300)
    provider.release.clear()
    start, served = threading.Barrier(8), []

    def ask() -> None:
        start.wait()
        served.append(app.acquire_token_for_client(["api"])["access_token"])

    threads = [threading.Thread(target=ask) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert served == ["at-1"] * 8
    provider.release.set()
    app.service.wait_for_background(10)
    assert len(provider.requests()) == 2


def test_refresh_on_starts_the_renewal_and_a_failure_waits_before_the_next(provider, clock):
    provider.server.enqueue("POST", "/op/token", (200, {}, dict(ISSUED, access_token="at-0", refresh_in=1800)),
                            (400, {}, {"error": "temporarily_unavailable", "error_description": "try later"}))
    app = ConfidentialClientApplication("app", "secret", oidc_authority=provider.issuer, clock=clock)
    assert app.acquire_token_for_client(["api"])["access_token"] == "at-0"
    clock.advance(1000)
    assert app.acquire_token_for_client(["api"])["token_source"] == "cache"
    app.service.wait_for_background(10)
    assert len(provider.requests()) == 1
    clock.advance(1000)  # past refresh_on, long before nine tenths of its life
    assert app.acquire_token_for_client(["api"])["access_token"] == "at-0"  # a renewal fails behind it
    app.service.wait_for_background(10)
    assert app.acquire_token_for_client(["api"])["access_token"] == "at-0"
    app.service.wait_for_background(10)
    assert len(provider.requests()) == 2  # no new attempt right after a failure
    clock.advance(RETRY_AFTER)
    assert app.acquire_token_for_client(["api"])["access_token"] == "at-0"
    app.service.wait_for_background(10)
    assert app.acquire_token_for_client(["api"])["access_token"] == "at-1"
    assert len(provider.requests()) == 3


def test_an_expired_token_is_asked_for_in_the_call(app, provider, clock):
    app.acquire_token_for_client(["api"])
    clock.advance(3600)
    renewed = app.acquire_token_for_client(["api"])
    assert (renewed["access_token"], renewed["token_source"]) == ("at-2", "identity_provider")
