"""Fixtures of the fault tests: the fake provider whose token endpoint the faults take over."""
import pytest

from support.fake_provider import FakeProvider
from support.faults import TOKEN_LIFETIME


@pytest.fixture
def provider(fake_server) -> FakeProvider:
    """A fake provider on loopback whose access tokens last ``TOKEN_LIFETIME`` seconds."""
    provider = FakeProvider(fake_server)
    provider.extra_response = {"expires_in": TOKEN_LIFETIME}
    return provider
