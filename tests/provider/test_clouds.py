"""Every Microsoft cloud and authority kind msal 1.39 knows, found where msal finds it: the
sovereign clouds, CIAM, B2C and AD FS discovery URLs are msal's own (asked of the real msal
package), and ``authority=`` may be an ``AuthorityBuilder``."""
import json

import msal
import pytest

import nbauth
from nbauth.provider.authority import parse_authority
from support.entra import EntraCloud
from support.fake_http import FakeServer

AUTHORITIES = [
    "https://login.microsoftonline.com/contoso.onmicrosoft.com",
    "https://login.microsoftonline.us/tenant-1",
    "https://login-us.microsoftonline.com/tenant-1",
    "https://login.chinacloudapi.cn/tenant-1",
    "https://login.partner.microsoftonline.cn/tenant-1",
    "https://login.sovcloud-identity.fr/tenant-1",
    "https://login.sovcloud-identity.de/tenant-1",
    "https://login.sovcloud-identity.sg/tenant-1",
    "https://contoso.ciamlogin.com",
    "https://contoso.ciamlogin.com/contoso.onmicrosoft.com",
    "https://contoso.b2clogin.com/contoso.onmicrosoft.com/B2C_1_signin",
    "https://contoso.b2clogin.cn/contoso.partner.onmschina.cn/B2C_1_signin",
    "https://fs.contoso.com/adfs",
]


class Recorder:
    """msal's minimal http_client: answers every GET with a discovery document, records the URLs."""

    class Response:
        status_code, headers = 200, {}

        def __init__(self, text):
            self.text = text

    def __init__(self):
        self.urls = []

    def get(self, url, params=None, headers=None, **kwargs):
        self.urls.append(url)
        return self.Response(json.dumps({"issuer": "https://issuer.example/", "authorization_endpoint": "https://a/",
                                         "token_endpoint": "https://login.example/tenant/oauth2/v2.0/token"}))


def msal_discovery_url(authority: str) -> str:
    recorder = Recorder()
    msal.authority.Authority(authority, recorder)
    (url,) = recorder.urls
    return url


@pytest.mark.parametrize("authority", AUTHORITIES)
def test_discovery_is_asked_where_msal_asks(authority):
    assert parse_authority(authority).discovery_url == msal_discovery_url(authority)


@pytest.mark.parametrize("authority", AUTHORITIES)
def test_microsofts_authorities_are_not_taken_for_plain_openid_providers(authority):
    assert parse_authority(authority).kind != "oidc"


def test_an_authority_builder_is_an_authority():
    builder = nbauth.AuthorityBuilder(nbauth.AZURE_US_GOVERNMENT, "contoso.onmicrosoft.com")
    assert str(builder) == "https://login.microsoftonline.us/contoso.onmicrosoft.com"
    app = nbauth.PublicClientApplication("client", authority=builder)
    assert app.authority.url == str(builder) and app.authority.kind == "entra"
    for name in ("AZURE_PUBLIC", "AZURE_US_GOVERNMENT", "AZURE_GOV_FR", "AZURE_GOV_DE", "AZURE_GOV_SG"):
        assert getattr(nbauth, name) == getattr(msal.authority, name)


@pytest.mark.parametrize("hosts, issuer_host, authority", [
    (("login.sovcloud-identity.fr",), None, "https://login.sovcloud-identity.fr/tenant-1"),
    (("contoso.ciamlogin.com",), "0f5a-guid.ciamlogin.com", "https://contoso.ciamlogin.com"),
], ids=["sovereign", "ciam"])
def test_a_token_from_a_sovereign_cloud_and_from_ciam(session_ca, hosts, issuer_host, authority):
    tenant = "contoso.onmicrosoft.com" if "ciam" in authority else "tenant-1"
    with FakeServer(ca=session_ca) as server:
        cloud = EntraCloud(server, hosts=hosts, tenant=tenant, issuer_host=issuer_host)
        app = nbauth.PublicClientApplication("entra-client", authority=authority, http_client=cloud.session())
        cloud.server.route("GET", f"/{hosts[0]}/common/userrealm/dana@contoso.test", (200, {}, {"account_type": "Managed"}))
        result = app.acquire_token_by_username_password("dana@contoso.test", "pw", ["User.Read"])
        assert result.get("token_source") == "identity_provider", result
        (account,) = app.get_accounts()
        assert account["environment"] == hosts[0]
        assert app.acquire_token_silent(["User.Read"], account)["token_source"] == "cache"
