"""Tokens that msal, azure-cli or an older app filed under an alias of the app's Entra cloud
(login.windows.net for login.microsoftonline.com, ...) serve silent acquisition, access and
refresh tokens both, as the real msal serves them from the same cache document."""
import json
import time

import msal
import pytest

import nbauth
from nbauth.cache import SerializableTokenCache
from support.cache import entra_event
from support.entra import EntraCloud
from support.fake_http import FakeServer

SCOPES = ["User.Read"]
ALIAS = "login.windows.net"


@pytest.fixture
def cloud(session_ca):
    with FakeServer(ca=session_ca) as server:
        yield EntraCloud(server)


def filed_under(host: str, *, age: float = 0) -> str:
    """A cache document msal wrote after a sign-in at ``host``, ``age`` seconds ago (the access
    token lives an hour)."""
    event = entra_event(uid="oid-1", tenant="tenant-1", client_id="entra-client")
    event["token_endpoint"] = f"https://{host}/tenant-1/oauth2/v2.0/token"
    cache = msal.SerializableTokenCache()
    cache.add(event, now=time.time() - age)
    return cache.serialize()


def nbauth_app(cloud, document: str):
    cache = SerializableTokenCache()
    cache.deserialize(document)
    return nbauth.PublicClientApplication("entra-client", authority=cloud.authority(), token_cache=cache,
                                          http_client=cloud.session())


def msal_app(cloud, document: str):
    cache = msal.SerializableTokenCache()
    cache.deserialize(document)
    return msal.PublicClientApplication("entra-client", authority=cloud.authority(), token_cache=cache,
                                        http_client=cloud.session())


@pytest.mark.parametrize("make_app", [nbauth_app, msal_app], ids=["nbauth", "msal"])
def test_an_access_token_filed_under_an_alias_is_served_from_the_cache(cloud, make_app):
    app = make_app(cloud, filed_under(ALIAS))
    (account,) = app.get_accounts()
    assert account["environment"] == ALIAS
    result = app.acquire_token_silent(SCOPES, account)
    assert result and result["access_token"] == "at-oid-1-User.Read"
    assert result.get("token_source", "cache") == "cache" and cloud.token_requests() == []


@pytest.mark.parametrize("make_app", [nbauth_app, msal_app], ids=["nbauth", "msal"])
def test_a_refresh_token_filed_under_an_alias_is_redeemed(cloud, make_app):
    app = make_app(cloud, filed_under(ALIAS, age=7200))  # its access token expired an hour ago
    (account,) = app.get_accounts()
    result = app.acquire_token_silent(SCOPES, account)
    assert result and result["access_token"].startswith("at-"), result
    (request,) = cloud.token_requests()
    assert (request.form["grant_type"], request.form["refresh_token"]) == ("refresh_token", "rt-oid-1")
    again = app.acquire_token_silent(SCOPES, account)  # and the new token is found the next time
    assert again["access_token"] == result["access_token"] and len(cloud.token_requests()) == 1


def test_nbauth_files_the_refresh_where_msal_finds_it(cloud):
    app = nbauth_app(cloud, filed_under(ALIAS, age=7200))
    (account,) = app.get_accounts()
    refreshed = app.acquire_token_silent(SCOPES, account)
    theirs = msal_app(cloud, app.token_cache.serialize())
    (their_account,) = theirs.get_accounts()
    served = theirs.acquire_token_silent(SCOPES, their_account)
    assert served["access_token"] == refreshed["access_token"] and len(cloud.token_requests()) == 1
    rts = json.loads(app.token_cache.serialize())["RefreshToken"]
    assert [rt["secret"] for rt in rts.values()] == [f"rt-{cloud.hosts[0]}-1"]  # rotated over the old one


def test_without_instance_discovery_aliases_are_not_used(cloud):
    cache = SerializableTokenCache()
    cache.deserialize(filed_under(ALIAS))
    app = nbauth.PublicClientApplication("entra-client", authority=cloud.authority(), token_cache=cache,
                                         http_client=cloud.session(), instance_discovery=False)
    assert app.get_accounts() == []  # as msal: instance_discovery=False means no alias groups


def test_another_clouds_tokens_are_not_used(cloud):
    app = nbauth_app(cloud, filed_under("login.microsoftonline.us"))
    assert app.get_accounts() == []
