"""Fixtures the requests and httpx auth tests share."""
import pytest

from support.integrations import api_on, signed_in_handle


@pytest.fixture
def handle(idp):
    return signed_in_handle(idp)


@pytest.fixture
def api(fake_server, idp):
    """Routes GET and POST /data to an API that takes only the local provider's tokens."""
    return api_on(fake_server, idp)
