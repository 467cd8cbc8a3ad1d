"""Fuzzing authorities and discovery documents: accepted only when safe, else a clear nbauth error."""
import json
from urllib.parse import urlsplit

from hypothesis import example, given
from hypothesis import strategies as st

from support.fuzzing import fuzz, json_texts, json_values, mutations, nbauth_error_or_nothing, texts
from nbauth.provider.authority import check_endpoint_url, fetch_metadata, parse_authority, parse_metadata
from nbauth.protocol.urls import is_loopback_host
from nbauth.transport import RetryPolicy, Transport

HOSTS = st.sampled_from(["idp.example", "127.0.0.1", "localhost", "[::1]", "[::1", "::1", "0.0.0.0", "127.1",
                         "login.microsoftonline.com", "x.b2clogin.com", "user:pw@idp.example", "", "a b",
                         "idp.example:99999", "idp.example:port", "[v1.x]", "%00", "évil.example"]) | texts
urls = st.builds("{}{}{}".format, st.sampled_from(["https://", "http://", "ftp://", "//", "", "https:/", "HTTPS://"]),
                 HOSTS, st.sampled_from(["", "/", "/oidc", "/common", "/adfs", "/tfp/t/p", "/a?x=1", "/a#f", "/a/../b"])
                 | texts) | texts


def safe(url: str) -> bool:
    parts = urlsplit(url)
    return parts.scheme == "https" or (parts.scheme == "http" and is_loopback_host(parts.hostname or ""))


@fuzz(max_examples=500)
@given(url=urls | json_values, what=st.sampled_from(["token_endpoint", "jwks_uri"]))
@example(url="https://[::1/token", what="token_endpoint")  # was "ValueError: Invalid IPv6 URL"
def test_endpoint_urls_are_https_or_loopback_http_or_refused(url, what):
    with nbauth_error_or_nothing():
        checked = check_endpoint_url(url, what)  # rebuilt from its one reading (test_security_urls.py)
        assert safe(checked) and urlsplit(checked).hostname == urlsplit(url).hostname


@fuzz(max_examples=500)
@given(authority=urls, as_oidc=st.booleans())
@example(authority="A://[", as_oidc=False)  # was "ValueError: Invalid IPv6 URL"
def test_authorities_parse_or_are_refused_with_a_reason(authority, as_oidc):
    with nbauth_error_or_nothing():
        parsed = parse_authority(oidc_authority=authority) if as_oidc else parse_authority(authority)
        assert safe(parsed.url) and parsed.discovery_url.startswith(parsed.url + "/")


AUTHORITY = parse_authority(oidc_authority="https://idp.example/realm")
ENDPOINTS = ("token_endpoint", "authorization_endpoint", "device_authorization_endpoint", "jwks_uri",
             "revocation_endpoint", "end_session_endpoint", "userinfo_endpoint")
DOCUMENT = {"issuer": AUTHORITY.url, "authorization_response_iss_parameter_supported": True,
            **{name: f"{AUTHORITY.url}/{name}" for name in ENDPOINTS}}


@fuzz(max_examples=300)
@given(document=mutations(DOCUMENT) | json_values | mutations(DOCUMENT).flatmap(
    lambda doc: st.fixed_dictionaries({name: urls for name in ENDPOINTS}).map(lambda bad: {**doc, **bad})))
@example(document=dict(DOCUMENT, jwks_uri="https://[x/jwks"))  # was "ValueError: Invalid IPv6 URL"
def test_discovery_documents_give_checked_metadata_or_a_discovery_error(document):
    with nbauth_error_or_nothing():
        metadata = parse_metadata(document, AUTHORITY)
        assert metadata.issuer == AUTHORITY.url and safe(metadata.token_endpoint)
        for name in ENDPOINTS:
            value = getattr(metadata, name)
            assert value is None or (value == document[name] and safe(value)), name
        assert isinstance(metadata.authorization_response_iss_supported, bool)


def test_a_discovery_endpoint_answering_anything(fake_server):
    authority = parse_authority(oidc_authority=fake_server.url + "/realm")
    good = {"issuer": authority.url, "token_endpoint": authority.url + "/token", "jwks_uri": authority.url + "/jwks"}
    transport = Transport(retry=RetryPolicy(max_attempts=1), timeout=(2, 2))

    @fuzz(max_examples=60, deadline_ms=2000)
    @given(status=st.sampled_from([200, 200, 200, 302, 404, 500]),
           body=mutations(good, ("authorization_endpoint",)).map(json.dumps) | json_texts)
    def check(status, body):
        fake_server.route("GET", "/realm/.well-known/openid-configuration", (status, {}, body))
        with nbauth_error_or_nothing():
            assert fetch_metadata(authority, transport).issuer == authority.url and status == 200

    check()
