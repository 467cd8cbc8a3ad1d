"""The ``X-AnchorMailbox`` routing hint on requests for a user's tokens, as msal 1.39 sends it,
side by side with the real msal against Entra ID played on loopback: ``upn:<username>`` with a
password, ``Oid:<uid>@<utid>`` on a silent refresh (from the account's ``home_account_id``) and on
an authorization code's redemption (from the redirect's ``client_info``, which the sign-in URL asks
for). A value that cannot be an ASCII header is left out."""
from urllib.parse import parse_qs, urlsplit

import msal
import pytest

import nbauth
from support.entra import EntraCloud, b64
from support.fake_http import FakeServer

SCOPES = ["User.Read"]
pytestmark = [pytest.mark.filterwarnings("ignore:This API has been deprecated:DeprecationWarning"),  # msal's, on passwords
              pytest.mark.filterwarnings("ignore:response_mode:UserWarning")]
USER = "dana@contoso.test"


@pytest.fixture
def cloud(session_ca):
    with FakeServer(ca=session_ca) as server:
        cloud = EntraCloud(server)
        for host in cloud.hosts:
            server.route("GET", f"/{host}/common/userrealm/{USER}", (200, {}, {"account_type": "Managed"}))
        yield cloud


def public_app(module, cloud):
    return module.PublicClientApplication(cloud.client_id, authority=cloud.authority(), http_client=cloud.session())


def anchors(cloud) -> list:
    return [request.headers.get("X-AnchorMailbox") for request in cloud.token_requests()]


def test_a_password_sign_in_is_anchored_by_username(cloud):
    for module in (msal, nbauth):
        assert "access_token" in public_app(module, cloud).acquire_token_by_username_password(USER, "pw", SCOPES)
    assert anchors(cloud) == [f"upn:{USER}"] * 2


def test_a_silent_refresh_is_anchored_by_the_accounts_home_account_id(cloud):
    for module in (msal, nbauth):
        app = public_app(module, cloud)
        app.acquire_token_by_refresh_token("rt-0", SCOPES)
        (account,) = app.get_accounts()
        assert app.acquire_token_silent(SCOPES, account, force_refresh=True)["token_source"] == "identity_provider"
    assert anchors(cloud) == [None, "Oid:oid-1@tenant-1"] * 2


def test_an_auth_code_is_redeemed_anchored_by_the_redirects_client_info(cloud):
    redirect = {"code": "code-1", "client_info": b64({"uid": "oid-9", "utid": "tenant-9"})}
    for module in (msal, nbauth):
        app = public_app(module, cloud)
        flow = app.initiate_auth_code_flow(SCOPES, redirect_uri="http://localhost/cb")
        query = parse_qs(urlsplit(flow["auth_uri"]).query)
        assert query["client_info"] == ["1"]
        cloud.nonce = query["nonce"][0]
        assert "access_token" in app.acquire_token_by_auth_code_flow(flow, dict(redirect, state=flow["state"]))
    assert anchors(cloud) == ["Oid:oid-9@tenant-9"] * 2


@pytest.mark.parametrize("client_info", [b64({"uid": "oid-\u00f8", "utid": "tenant-1"}),
                                         b64({"uid": "oid-1\r\nX-Injected: 1", "utid": "tenant-1"}),
                                         b64({"uid": "oid-1"}), "not base64 JSON"],
                         ids=["non-ascii", "line-break", "no-utid", "malformed"])
def test_no_anchor_from_a_client_info_that_cannot_make_one(cloud, client_info):
    app = public_app(nbauth, cloud)
    flow = app.initiate_auth_code_flow(SCOPES, redirect_uri="http://localhost/cb")
    cloud.nonce = parse_qs(urlsplit(flow["auth_uri"]).query)["nonce"][0]
    result = app.acquire_token_by_auth_code_flow(flow, {"code": "c", "state": flow["state"], "client_info": client_info})
    assert "access_token" in result, result
    (request,) = cloud.token_requests()
    assert "X-AnchorMailbox" not in request.headers and "X-Injected" not in request.headers
