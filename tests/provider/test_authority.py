"""Authority forms and discovery-document checks (pure parts; the network parts are in
test_discovery.py)."""
import pytest

from nbauth.provider.authority import parse_authority, parse_metadata
from nbauth.exceptions import AuthorityError, DiscoveryError


@pytest.mark.parametrize("url, kind, instance, tenant", [
    ("https://login.microsoftonline.com/common", "entra", "login.microsoftonline.com", "common"),
    ("https://login.microsoftonline.com/contoso.onmicrosoft.com/", "entra", "login.microsoftonline.com",
     "contoso.onmicrosoft.com"),
    ("https://login.microsoftonline.us/organizations", "entra", "login.microsoftonline.us", "organizations"),
    ("https://login.chinacloudapi.cn/consumers", "entra", "login.chinacloudapi.cn", "consumers"),
    ("https://contoso.b2clogin.com/contoso.onmicrosoft.com/B2C_1_signin", "b2c", "contoso.b2clogin.com",
     "contoso.onmicrosoft.com"),
    ("https://adfs.contoso.com/adfs", "adfs", "adfs.contoso.com", "adfs"),
    ("https://idp.example.org/realms/data", "oidc", "idp.example.org", "realms"),
    ("http://127.0.0.1:8080/oidc", "oidc", "127.0.0.1:8080", "oidc"),
    ("http://localhost:9000", "oidc", "localhost:9000", ""),
])
def test_authority_forms(url, kind, instance, tenant):
    authority = parse_authority(url)
    assert (authority.kind, authority.instance, authority.tenant) == (kind, instance, tenant)
    assert not authority.url.endswith("/")


def test_default_authority_is_entra_common():
    assert parse_authority().url == "https://login.microsoftonline.com/common"


def test_oidc_authority_is_always_generic_discovery():
    authority = parse_authority(oidc_authority="https://login.microsoftonline.com/tenant/v2.0")
    assert authority.kind == "oidc"
    assert authority.discovery_url == "https://login.microsoftonline.com/tenant/v2.0/.well-known/openid-configuration"


def test_entra_discovery_url_has_v2():
    assert parse_authority("https://login.microsoftonline.com/common").discovery_url == (
        "https://login.microsoftonline.com/common/v2.0/.well-known/openid-configuration")


@pytest.mark.parametrize("url, message", [
    ("http://idp.example.org/oidc", "https"),
    ("ftp://idp.example.org", "https"),
    ("login.microsoftonline.com/common", "absolute URL"),
    ("https://login.microsoftonline.com", "Entra ID authority"),
    ("https://login.microsoftonline.com/a/b", "Entra ID authority"),
    ("https://idp.example.org/oidc?x=1", "query"),
    ("https://contoso.b2clogin.com/contoso.onmicrosoft.com", "policy"),
])
def test_bad_authorities_are_refused_with_a_reason(url, message):
    with pytest.raises(AuthorityError, match=message):
        parse_authority(url)


def test_authority_and_oidc_authority_together_are_refused():
    with pytest.raises(AuthorityError, match="either"):
        parse_authority("https://a.example/x", oidc_authority="https://b.example/y")


def test_non_string_authority_is_refused():
    with pytest.raises(AuthorityError, match="not int"):
        parse_authority(42)


GOOD = {"issuer": "https://idp.example.org/realms/data", "token_endpoint": "https://idp.example.org/t",
        "jwks_uri": "https://idp.example.org/k"}


def test_metadata_is_checked_and_kept():
    metadata = parse_metadata(dict(GOOD, extra=1), parse_authority("https://idp.example.org/realms/data"))
    assert metadata.token_endpoint == "https://idp.example.org/t"
    assert metadata.raw["extra"] == 1 and metadata.device_authorization_endpoint is None


@pytest.mark.parametrize("document, message", [
    ([], "not a JSON object"),
    ({"token_endpoint": "https://idp.example.org/t"}, "no issuer"),
    (dict(GOOD, issuer="https://evil.example/realms/data"), "does not match"),
    ({"issuer": GOOD["issuer"]}, "no token_endpoint"),
    (dict(GOOD, token_endpoint="http://idp.example.org/t"), "token_endpoint must use https"),
    (dict(GOOD, jwks_uri=17), "jwks_uri must be a URL"),
])
def test_bad_metadata_names_the_fault_and_the_authority(document, message):
    with pytest.raises(DiscoveryError, match=message) as info:
        parse_metadata(document, parse_authority("https://idp.example.org/realms/data"))
    assert "idp.example.org/realms/data" in str(info.value)


@pytest.mark.parametrize("issuer, ok", [
    ("https://login.microsoftonline.com/{tenantid}/v2.0", True),
    ("https://login.microsoftonline.com/72f988bf-86f1-41af-91ab-2d7cd011db47/v2.0", True),
    ("https://login.windows.net/72f988bf-86f1-41af-91ab-2d7cd011db47/v2.0", True),
    ("https://evil.example/72f988bf-86f1-41af-91ab-2d7cd011db47/v2.0", False),
    ("http://login.microsoftonline.com/{tenantid}/v2.0", False),
])
def test_entra_issuer_rules_for_multi_tenant_authority(issuer, ok):
    assert parse_authority("https://login.microsoftonline.com/common").issuer_matches(issuer) is ok


def test_entra_guid_tenant_must_match_exactly():
    tenant = "72f988bf-86f1-41af-91ab-2d7cd011db47"
    authority = parse_authority(f"https://login.microsoftonline.com/{tenant}")
    assert authority.issuer_matches(f"https://login.microsoftonline.com/{tenant}/v2.0")
    assert not authority.issuer_matches("https://login.microsoftonline.com/00000000-0000-0000-0000-000000000000/v2.0")
