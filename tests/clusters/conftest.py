"""Fixtures of the cluster tests: providers with 10-second tokens (from the top conftest's pool,
which retries a start that hangs) and a JWT-checking API for each. Both modes of an engine run at
once, so the published mode has a provider and an API of its own: each mode's refreshes and calls
are counted apart."""
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


@pytest.fixture
def published_provider(make_idp):
    return make_idp(access_token_ttl=TOKEN_SECONDS, mount="/published")


@pytest.fixture
def published_api(published_provider):
    served = CountingAPI(published_provider)
    yield served
    served.stop()
