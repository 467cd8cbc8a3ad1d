"""A token's lifetime counts from when it was asked for, not from when the answer arrived:
the provider starts the clock when it issues the token, so time spent on the way back must not
extend how long nbauth serves it from the cache."""

import requests

from idp.server import NATIVE_CLIENT
from nbauth import PublicClientApplication
from nbauth.cache import TokenCache
from support.clock import FakeClock

NETWORK_DELAY = 40.0


class SlowAnswers(requests.Session):
    """Every answer arrives NETWORK_DELAY seconds (of the test's clock) after its request."""

    def __init__(self, clock):
        super().__init__()
        self.clock = clock

    def post(self, *args, **kwargs):
        try:
            return super().post(*args, **kwargs)
        finally:
            self.clock.now += NETWORK_DELAY


def test_expiry_counts_from_the_request(idp):
    clock = FakeClock()
    cache = TokenCache(clock=clock)
    app = PublicClientApplication(NATIVE_CLIENT, oidc_authority=idp.issuer, token_cache=cache, clock=clock,
                                  http_client=SlowAnswers(clock))
    asked_at = clock.now
    result = app.acquire_token_by_username_password("alice", "alice-pw", ["api:read"])
    assert clock.now == asked_at + NETWORK_DELAY
    (entry,) = cache.search(cache.CredentialType.ACCESS_TOKEN, target=["api:read"])
    assert int(entry["expires_on"]) == int(asked_at) + result["expires_in"]

    clock.now = int(asked_at) + result["expires_in"] + 1  # past the real expiry, inside the old error
    (account,) = app.get_accounts()
    renewed = app.acquire_token_silent(["api:read"], account)
    assert renewed["token_source"] == "identity_provider"
