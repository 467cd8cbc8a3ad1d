"""MSAL's ``data=`` (extra body fields of a token request) on silent acquisition and on the device
flow: sent, and keying the cached access token as msal 1.39 keys it (a token asked with other
fields, or none, is not served for them), checked against the real msal on one cache document; and
the X-AnchorMailbox routing hint msal sends with a user federated identity credential."""
import json

import msal
import pytest

import nbauth
from support.entra import EntraCloud
from support.fake_http import FakeServer
from support.fake_provider import FakeProvider

SCOPES = ["User.Read"]
DATA = {"extra": "1"}


@pytest.fixture
def cloud(session_ca):
    with FakeServer(ca=session_ca) as server:
        yield EntraCloud(server)


def signed_in(module, cloud, cache=None):
    app = module.PublicClientApplication(cloud.client_id, authority=cloud.authority(), http_client=cloud.session(),
                                         token_cache=cache or module.SerializableTokenCache())
    if cache is None:
        app.acquire_token_by_refresh_token("rt-0", SCOPES)
    (account,) = app.get_accounts()
    return app, account


@pytest.mark.parametrize("module", [nbauth, msal], ids=["nbauth", "msal"])
def test_silent_with_data_refreshes_with_the_fields_and_serves_only_their_token(cloud, module):
    app, account = signed_in(module, cloud)
    plain = app.acquire_token_silent(SCOPES, account)
    with_data = app.acquire_token_silent(SCOPES, account, data=DATA)
    request = cloud.token_requests()[-1]
    assert (request.form["grant_type"], request.form["extra"]) == ("refresh_token", "1")
    assert with_data["access_token"] != plain["access_token"]
    again = app.acquire_token_silent(SCOPES, account, data=DATA)
    assert (again["access_token"], again["token_source"]) == (with_data["access_token"], "cache")
    assert app.acquire_token_silent(SCOPES, account)["access_token"] == plain["access_token"]
    assert app.acquire_token_silent_with_error(SCOPES, account, data=DATA)["access_token"] == with_data["access_token"]
    assert len(cloud.token_requests()) == 2


def test_msal_serves_the_token_nbauth_got_with_data_and_nbauth_msals(cloud):
    ours, account = signed_in(nbauth, cloud)
    got = ours.acquire_token_silent(SCOPES, account, data=DATA)
    theirs_cache = msal.SerializableTokenCache()
    theirs_cache.deserialize(ours.token_cache.serialize())
    theirs, their_account = signed_in(msal, cloud, theirs_cache)
    served = theirs.acquire_token_silent(SCOPES, their_account, data=DATA)
    assert (served["access_token"], served["token_source"]) == (got["access_token"], "cache")
    other = theirs.acquire_token_silent(SCOPES, their_account, data={"extra": "2"})
    back = nbauth.SerializableTokenCache()
    back.deserialize(theirs_cache.serialize())
    ours_again, account = signed_in(nbauth, cloud, back)
    assert ours_again.acquire_token_silent(SCOPES, account, data={"extra": "2"})["access_token"] == other["access_token"]
    assert len(cloud.token_requests()) == 3


def test_silent_data_cannot_replace_what_nbauth_sends(cloud):
    app, account = signed_in(nbauth, cloud)
    for field in ("refresh_token", "grant_type", "client_id"):
        with pytest.raises(ValueError, match=field):
            app.acquire_token_silent(SCOPES, account, data={field: "x"}, force_refresh=True)
    assert len(cloud.token_requests()) == 1


def test_the_device_flow_sends_data_and_keys_its_token(fake_server):
    provider = FakeProvider(fake_server)
    fake_server.route("POST", provider.mount + "/device", (200, {}, {
        "device_code": "dc-1", "user_code": "ABCD-EFGH", "verification_uri": provider.base + "/verify",
        "expires_in": 600, "interval": 1}))
    app = provider.app(token_cache=nbauth.SerializableTokenCache())
    flow = app.initiate_device_flow(["api:read"], data={"tenant_hint": "t1"})
    result = app.acquire_token_by_device_flow(flow, data=DATA)
    assert result["token_source"] == "identity_provider"
    (device,) = fake_server.requests_to(provider.mount + "/device")
    (poll,) = provider.token_requests()
    assert device.form["tenant_hint"] == "t1" and (poll.form["device_code"], poll.form["extra"]) == ("dc-1", "1")
    (entry,) = json.loads(app.token_cache.serialize())["AccessToken"].values()
    assert entry["ext_cache_key"] == msal.token_cache._compute_ext_cache_key(DATA)
    (account,) = app.get_accounts()
    assert app.acquire_token_silent(["api:read"], account, data=DATA)["token_source"] == "cache"


@pytest.mark.parametrize("user, anchor", [({"username": "dana@contoso.test"}, "upn:dana@contoso.test"),
                                          ({"user_object_id": "oid-7"}, "Oid:oid-7@tenant-1")])
def test_user_fic_sends_msals_anchor_mailbox(cloud, user, anchor):
    for module in (msal, nbauth):
        app = module.ConfidentialClientApplication(cloud.client_id, client_credential="secret",
                                                   authority=cloud.authority(), http_client=cloud.session())
        result = app.acquire_token_by_user_federated_identity_credential(SCOPES, "agent-token", **user)
        assert "access_token" in result, result
    theirs, ours = cloud.token_requests()
    assert theirs.headers["X-AnchorMailbox"] == ours.headers["X-AnchorMailbox"] == anchor
    assert ours.form["grant_type"] == theirs.form["grant_type"] == "user_fic"
