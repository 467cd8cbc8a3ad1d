"""Caches cross between nbauth and the real msal package, both ways, and serve silently.

Against the local OpenID provider (msal's ``oidc_authority``) and against a fake Entra ID on
loopback (``client_info``, tenant realms). nbauth's entries come from ``TokenCache.add`` fed with
real token responses, as nbauth's flows store them.
"""
from urllib.parse import parse_qsl, urlsplit

import msal
import pytest
import requests

from idp import browser
from idp.server import NATIVE_CLIENT, USERS
from nbauth.cache import CredentialType, SerializableTokenCache, TokenCache
from support.fake_http import FakeServer
from support.cache import b64, unsigned_jwt

pytestmark = [pytest.mark.filterwarnings("ignore:response_mode:UserWarning"),
              pytest.mark.filterwarnings("ignore:Change your acquire_token_by_authorization_code:DeprecationWarning")]
API = ["api:read"]


@pytest.fixture
def idp(make_idp):
    """A provider whose access tokens outlive msal's 5-minute "about to expire" margin."""
    return make_idp(access_token_ttl=3600)


def token_requests(idp) -> int:
    return sum(idp.stats().values())


def password_grant(idp, user: str) -> dict:
    """A real token response from the provider, fetched with plain requests."""
    response = requests.post(idp.metadata()["token_endpoint"], timeout=10, data={
        "grant_type": "password", "client_id": NATIVE_CLIENT, "username": user,
        "password": USERS[user], "scope": "openid profile offline_access api:read"})
    response.raise_for_status()
    return response.json()


def store(cache: TokenCache, token_endpoint: str, response: dict, grant_type: str, client_id: str = NATIVE_CLIENT):
    """What a flow does with a successful token response (MSAL's event shape)."""
    cache.add({"client_id": client_id, "scope": response["scope"].split(), "token_endpoint": token_endpoint,
               "grant_type": grant_type, "response": response, "data": {}})


def msal_app(idp, cache) -> msal.PublicClientApplication:
    return msal.PublicClientApplication(NATIVE_CLIENT, oidc_authority=idp.issuer, token_cache=cache)


def msal_sign_in(app, user: str, verify) -> dict:
    """msal's own authorization-code flow, the browser played by the test."""
    flow = app.initiate_auth_code_flow(API, redirect_uri="http://127.0.0.1/callback")
    redirect = browser.login(flow["auth_uri"], user, verify=verify)
    result = app.acquire_token_by_auth_code_flow(flow, dict(parse_qsl(urlsplit(redirect).query)))
    assert "access_token" in result, result.get("error_description")
    return result


def test_msal_serves_silently_from_a_cache_nbauth_wrote(idp):
    response = password_grant(idp, "alice")
    ours = SerializableTokenCache()
    store(ours, idp.metadata()["token_endpoint"], response, "password")
    theirs = msal.SerializableTokenCache()
    theirs.deserialize(ours.serialize())
    app = msal_app(idp, theirs)

    (account,) = app.get_accounts()
    assert (account["home_account_id"], account["username"]) == ("alice", "alice@example.test")
    before = token_requests(idp)
    result = app.acquire_token_silent(API, account)
    assert result["access_token"] == response["access_token"] and result["token_source"] == "cache"
    assert token_requests(idp) == before  # no request reached the token endpoint

    refreshed = app.acquire_token_silent(API, account, force_refresh=True)  # nbauth's refresh token
    assert refreshed["token_source"] == "identity_provider"
    assert idp.count("refresh_token") >= 1 and refreshed["access_token"] != response["access_token"]


def test_nbauth_reads_msal_cache_refreshes_and_msal_serves_the_result(idp):
    theirs = msal.SerializableTokenCache()
    msal_sign_in(msal_app(idp, theirs), "bob", idp.ca_path)
    ours = SerializableTokenCache()
    ours.deserialize(theirs.serialize())

    (account,) = ours.search(CredentialType.ACCOUNT, query={"environment": "127.0.0.1"})
    assert (account["home_account_id"], account["account_source"]) == ("bob", "authorization_code")
    query = {"home_account_id": "bob", "environment": "127.0.0.1", "client_id": NATIVE_CLIENT}
    assert len(list(ours.search(CredentialType.ACCESS_TOKEN, API, dict(query, realm="oidc")))) == 1
    (rt,) = ours.search(CredentialType.REFRESH_TOKEN, query=query)

    token_endpoint = idp.metadata()["token_endpoint"]
    refreshed = requests.post(token_endpoint, timeout=10, data={
        "grant_type": "refresh_token", "client_id": NATIVE_CLIENT, "refresh_token": rt["secret"],
        "scope": "openid profile offline_access api:read"}).json()
    store(ours, token_endpoint, refreshed, "refresh_token")

    again = msal.SerializableTokenCache()
    again.deserialize(ours.serialize())
    app = msal_app(idp, again)
    (msal_account,) = app.get_accounts()
    before = token_requests(idp)
    result = app.acquire_token_silent(API, msal_account)
    assert result["access_token"] == refreshed["access_token"] and result["token_source"] == "cache"
    assert token_requests(idp) == before


def test_msal_application_runs_on_an_nbauth_cache_object(idp):
    """Drop-in: msal's own application takes nbauth's cache as its token_cache."""
    ours = SerializableTokenCache()
    app = msal_app(idp, ours)
    signed_in = msal_sign_in(app, "alice", idp.ca_path)
    (account,) = app.get_accounts()
    result = app.acquire_token_silent(API, account)
    assert result["access_token"] == signed_in["access_token"] and result["token_source"] == "cache"
    app.remove_account(account)
    assert app.get_accounts() == [] and list(ours.search(CredentialType.REFRESH_TOKEN)) == []


class FakeEntra:
    """Entra ID's v2.0 endpoints for one tenant on loopback: discovery, and a token endpoint
    answering code and refresh grants with Entra's response shape (client_info, tenant realm)."""

    def __init__(self, server: FakeServer, tenant: str = "tenant-1", uid: str = "oid-1"):
        self.server, self.tenant, self.uid = server, tenant, uid
        self.authority = f"{server.url}/{tenant}"
        self.token_endpoint = f"{self.authority}/oauth2/v2.0/token"
        self.issued = 0
        server.route("GET", f"/{tenant}/v2.0/.well-known/openid-configuration", (200, {}, {
            "issuer": f"{self.authority}/v2.0", "token_endpoint": self.token_endpoint,
            "authorization_endpoint": f"{self.authority}/oauth2/v2.0/authorize",
            "device_authorization_endpoint": f"{self.authority}/oauth2/v2.0/devicecode"}))
        server.route("POST", f"/{tenant}/oauth2/v2.0/token", self.token)

    def token(self, request):
        self.issued += 1
        return 200, {}, {
            "token_type": "Bearer", "scope": "User.Read profile openid email", "expires_in": 3600,
            "ext_expires_in": 3600, "access_token": f"entra-at-{self.issued}",
            "refresh_token": f"entra-rt-{self.issued}",
            "client_info": b64({"uid": self.uid, "utid": self.tenant}),
            "id_token": unsigned_jwt({"aud": "entra-client", "iss": f"{self.authority}/v2.0", "oid": self.uid,
                                      "tid": self.tenant, "sub": "pairwise", "preferred_username": "dana@contoso.test",
                                      "exp": 4_000_000_000, "iat": 1}),
        }

    def grants(self):
        return [r.form.get("grant_type") for r in self.server.requests if r.path.endswith("/token")]


@pytest.fixture
def entra(session_ca):
    with FakeServer(ca=session_ca) as server:
        yield FakeEntra(server)


def entra_app(entra, cache):
    return msal.PublicClientApplication("entra-client", authority=entra.authority, token_cache=cache,
                                        instance_discovery=False)


def test_entra_shaped_cache_nbauth_writes_msal_serves(entra):
    response = requests.post(entra.token_endpoint, data={"grant_type": "authorization_code"}, timeout=10).json()
    ours = SerializableTokenCache()
    store(ours, entra.token_endpoint, dict(response), "authorization_code", client_id="entra-client")
    theirs = msal.SerializableTokenCache()
    theirs.deserialize(ours.serialize())
    app = entra_app(entra, theirs)

    (account,) = app.get_accounts()
    assert account["home_account_id"] == "oid-1.tenant-1" and account["local_account_id"] == "oid-1"
    assert account["username"] == "dana@contoso.test"
    result = app.acquire_token_silent(["User.Read"], account)
    assert (result["access_token"], result["token_source"]) == ("entra-at-1", "cache")
    assert entra.grants() == ["authorization_code"]  # only the test's own request

    refreshed = app.acquire_token_silent(["User.Read"], account, force_refresh=True)
    assert refreshed["access_token"] == "entra-at-2"
    (refresh,) = [r for r in entra.server.requests if r.form.get("grant_type") == "refresh_token"]
    assert refresh.form["refresh_token"] == "entra-rt-1"  # the refresh token nbauth stored


def test_entra_shaped_cache_msal_writes_nbauth_reads(entra):
    theirs = msal.SerializableTokenCache()
    app = entra_app(entra, theirs)
    assert "access_token" in app.acquire_token_by_authorization_code(
        "a-code", ["User.Read"], redirect_uri="http://localhost/callback")
    ours = SerializableTokenCache()
    ours.deserialize(theirs.serialize())

    (account,) = ours.search(CredentialType.ACCOUNT, query={"home_account_id": "oid-1.tenant-1"})
    assert (account["realm"], account["authority_type"]) == ("tenant-1", "MSSTS")
    query = {"home_account_id": "oid-1.tenant-1", "environment": "127.0.0.1", "client_id": "entra-client",
             "realm": "tenant-1"}
    (at,) = ours.search(CredentialType.ACCESS_TOKEN, ["user.read"], query)
    assert at["secret"] == "entra-at-1"
    (rt,) = ours.search(CredentialType.REFRESH_TOKEN, query={k: v for k, v in query.items() if k != "realm"})
    assert rt["secret"] == "entra-rt-1"


def test_nbauth_application_and_msal_share_a_persisted_cache_file(idp, tmp_path):
    """nbauth's own application signs in into a PersistedTokenCache; msal serves from that file;
    msal's sign-in written back to the file is served silently by nbauth's application."""
    import nbauth
    from nbauth.cache import PersistedTokenCache

    path = tmp_path / "token_cache.json"
    app = nbauth.PublicClientApplication(NATIVE_CLIENT, oidc_authority=idp.issuer,
                                         token_cache=PersistedTokenCache(path))
    alice = app.acquire_token_by_username_password("alice", USERS["alice"], scopes=API)
    assert "access_token" in alice, alice.get("error_description")

    theirs = msal.SerializableTokenCache()
    theirs.deserialize(path.read_text())
    their_app = msal_app(idp, theirs)
    (their_alice,) = their_app.get_accounts()
    before = token_requests(idp)
    served = their_app.acquire_token_silent(API, their_alice)
    assert (served["access_token"], served["token_source"]) == (alice["access_token"], "cache")

    bob = msal_sign_in(their_app, "bob", idp.ca_path)
    path.write_text(theirs.serialize())  # msal's recipe: the whole cache written back
    path.chmod(0o600)
    accounts = {a["username"]: a for a in app.get_accounts()}
    assert sorted(accounts) == ["alice@example.test", "bob@example.test"]
    served = app.acquire_token_silent(API, accounts["bob@example.test"])
    assert (served["access_token"], served["token_source"]) == (bob["access_token"], "cache")
    assert token_requests(idp) == before + 1  # msal's sign-in of bob, nothing else
