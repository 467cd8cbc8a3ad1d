"""Fixtures of the cluster tests: the provider with 10-second tokens (one for the session, from the
top conftest's pool, which retries a start that hangs) and a JWT-checking API for each test."""
import pytest

from support.clusters import TOKEN_SECONDS, CountingAPI


@pytest.fixture
def provider(make_idp):
    return make_idp(access_token_ttl=TOKEN_SECONDS)


@pytest.fixture
def api(provider):
    served = CountingAPI(provider)
    yield served
    served.stop()
