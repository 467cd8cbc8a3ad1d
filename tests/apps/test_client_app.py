"""ClientApplication's constructor: MSAL's options, checked up front, and no I/O."""
import pytest

from support.fake_provider import CLIENT_ID, FakeProvider
from nbauth import PublicClientApplication
from nbauth.exceptions import ConfigurationError, DiscoveryError


def test_constructing_does_no_io_and_first_use_discovers(fake_server):
    app = PublicClientApplication("c", oidc_authority=fake_server.url + "/nowhere")
    assert fake_server.requests == []
    assert repr(app) == f"PublicClientApplication(client_id='c', authority='{fake_server.url}/nowhere')"
    with pytest.raises(DiscoveryError, match="HTTP 404"):
        app.initiate_device_flow(["api:read"])
    assert [r.path for r in fake_server.requests] == ["/nowhere/.well-known/openid-configuration"]


@pytest.mark.parametrize("options, complaint", [
    ({"verify": False}, "verify"),
    ({"proxies": {"https": "http://proxy"}}, "proxies"),
    ({"azure_region": "westus"}, "azure_region"),
    ({"enable_broker_on_windows": True}, "enable_broker_on_windows"),
    ({"client_credential": "secret"}, "ConfidentialClientApplication"),
    ({"exclude_scopes": "offline_access"}, "exclude_scopes must be a list"),
    ({"exclude_scopes": ["openid"]}, "cannot exclude openid"),
])
def test_options_nbauth_cannot_honour_are_refused_by_name(options, complaint):
    with pytest.raises(ConfigurationError, match=complaint):
        PublicClientApplication("c", oidc_authority="https://idp.test/x", **options)


def test_msals_no_op_values_are_accepted():
    PublicClientApplication("c", oidc_authority="https://idp.test/x", allow_broker=False, verify=True,
                            enable_broker_on_windows=False, app_name="demo", http_cache={})


@pytest.mark.parametrize("client_id", ["", None, 42])
def test_a_client_id_is_required(client_id):
    with pytest.raises(ConfigurationError, match="client_id"):
        PublicClientApplication(client_id, oidc_authority="https://idp.test/x")


def test_excluding_offline_access_stops_asking_for_it(fake_server):
    provider = FakeProvider(fake_server)
    app = PublicClientApplication(CLIENT_ID, oidc_authority=provider.issuer, exclude_scopes=["offline_access"])
    app.acquire_token_by_username_password("alice", "pw", ["api:read"])
    assert provider.token_requests()[0].form["scope"].split() == ["api:read", "openid", "profile"]
