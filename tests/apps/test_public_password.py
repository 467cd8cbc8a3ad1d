"""Username and password sign-in (the resource-owner password grant), and Entra's extra steps."""
import base64
import json

import pytest
import requests

from support.fake_provider import CLIENT_ID, FakeProvider
from idp.server import NATIVE_CLIENT
from nbauth import PublicClientApplication
from nbauth.exceptions import ConfigurationError
from support.fake_http import FakeServer

SCOPES = ["api:read"]
ENTRA = "https://login.microsoftonline.com"


def test_good_credentials_sign_in_and_the_account_is_kept(idp):
    app = PublicClientApplication(NATIVE_CLIENT, oidc_authority=idp.issuer)
    result = app.acquire_token_by_username_password("alice", "alice-pw", SCOPES)
    assert result["token_source"] == "identity_provider" and result["id_token_claims"]["sub"] == "alice"
    assert "refresh_token" in result and "alice-pw" not in repr(result)
    assert [a["account_source"] for a in app.get_accounts()] == ["password"]


def test_a_wrong_password_is_the_providers_error_result(idp):
    app = PublicClientApplication(NATIVE_CLIENT, oidc_authority=idp.issuer)
    result = app.acquire_token_by_username_password("alice", "wrong", SCOPES)
    assert result["error"] == "invalid_grant" and "access_token" not in result
    assert "wrong" not in str(result) and app.get_accounts() == []


def test_credentials_must_be_strings(idp):
    app = PublicClientApplication(NATIVE_CLIENT, oidc_authority=idp.issuer)
    with pytest.raises(ConfigurationError, match="username and password"):
        app.acquire_token_by_username_password("alice", None, SCOPES)


def test_other_providers_get_no_entra_steps(fake_server):
    provider = FakeProvider(fake_server)
    app = PublicClientApplication(CLIENT_ID, oidc_authority=provider.issuer)
    assert "access_token" in app.acquire_token_by_username_password("alice", "pw", SCOPES)
    assert "client_info" not in provider.token_requests()[0].form
    assert [r.path for r in fake_server.requests if "userrealm" in r.path] == []


# ---- Entra ID, played on loopback behind a session that routes its host there ---------------
class RoutedSession(requests.Session):
    """MSAL's injectable http_client: a requests.Session sending Entra's host to a FakeServer."""

    def __init__(self, target: str):
        super().__init__()
        self.target = target

    def request(self, method, url, *args, **kwargs):
        return super().request(method, url.replace(ENTRA, self.target, 1), *args, **kwargs)


@pytest.fixture
def entra(session_ca):
    with FakeServer(ca=session_ca) as server:
        provider = FakeProvider(server, mount="/tenant-1", public_base=ENTRA, issuer=f"{ENTRA}/tenant-1/v2.0")
        client_info = json.dumps({"uid": "oid-1", "utid": "tenant-1"}).encode()
        provider.extra_response = {"client_info": base64.urlsafe_b64encode(client_info).decode().rstrip("=")}
        yield provider


def entra_app(entra):
    return PublicClientApplication(CLIENT_ID, authority=f"{ENTRA}/tenant-1", http_client=RoutedSession(entra.server.url))


def test_entra_asks_for_client_info_and_checks_the_user_realm(entra):
    entra.server.route("GET", "/common/userrealm/alice@contoso.test", (200, {}, {"account_type": "Managed"}))
    app = entra_app(entra)
    result = app.acquire_token_by_username_password("alice@contoso.test", "pw", SCOPES)
    assert result["token_source"] == "identity_provider"
    assert entra.token_requests()[0].form["client_info"] == "1"
    (account,) = app.get_accounts()
    assert (account["home_account_id"], account["environment"]) == ("oid-1.tenant-1", "login.microsoftonline.com")


def test_entra_federated_accounts_are_refused_before_sending_the_password(entra):
    entra.server.route("GET", "/common/userrealm/bob@fabrikam.test", (200, {}, {"account_type": "Federated"}))
    with pytest.raises(ConfigurationError, match="federated"):
        entra_app(entra).acquire_token_by_username_password("bob@fabrikam.test", "pw", SCOPES)
    assert entra.token_requests() == []
