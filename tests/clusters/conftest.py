"""Fixtures of the cluster tests: one provider with 10-second tokens and one JWT-checking API per module."""
import pytest

from support.clusters import CountingAPI, short_lived_provider


@pytest.fixture(scope="module")
def provider(session_ca):
    started = short_lived_provider(session_ca)
    yield started
    started.stop()


@pytest.fixture(scope="module")
def api(provider):
    served = CountingAPI(provider)
    yield served
    served.stop()
