"""Where nbauth sends requests (RFC 9700 sections 2.6 and 4.11, RFC 9207, RFC 8252 section 8.3):
https only off loopback, no redirect ever followed, and authorization responses from the
right issuer.

Also covered: http authorities and a token_endpoint over http are refused (test_authority.py),
the transport answers a redirected POST with the 307 itself (test_transport.py), a wrong ``iss``
is refused (test_public_interactive.py, test_confidential_web.py, test_protocol_authcode.py).
"""
import threading
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
import requests

from support.fake_provider import CLIENT_ID, FakeProvider
from nbauth import PublicClientApplication
from nbauth.provider.authority import Discovery, parse_authority
from nbauth.exceptions import AuthorityError, DiscoveryError, FlowError, ProtocolError
from nbauth.transport import RetryPolicy, Transport
from support.fake_http import FakeServer

SCOPES = ["api:read"]
REDIRECT_URI = "http://localhost:5000/callback"


@pytest.fixture
def provider(fake_server):
    return FakeProvider(fake_server)


@pytest.fixture
def elsewhere():
    """Another host the provider's endpoints redirect to; it must never hear from nbauth."""
    with FakeServer() as server:
        server.route("POST", "/token", (200, {}, {"access_token": "stolen-grant", "token_type": "Bearer"}))
        server.route("GET", "/doc", (200, {}, {}))
        yield server


# ---- no redirect is followed ----------------------------------------------------------------------
@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
def test_a_token_endpoint_redirecting_elsewhere_gets_nothing_sent_there(provider, elsewhere, status):
    provider.server.route("POST", provider.mount + "/token", (status, {"Location": elsewhere.url + "/token"}, ""))
    with pytest.raises(ProtocolError, match=f"token endpoint answered HTTP {status}, a redirect .*not follow"):
        provider.app().acquire_token_by_username_password("alice", "alice-pw", SCOPES)
    assert elsewhere.requests == [] and len(provider.token_requests()) == 1


def test_a_redirect_carrying_a_token_body_is_not_taken_as_tokens(provider, elsewhere):
    body = {"access_token": "at", "token_type": "Bearer", "expires_in": 60}
    provider.server.route("POST", provider.mount + "/token", (302, {"Location": elsewhere.url + "/token"}, body))
    with pytest.raises(ProtocolError, match="redirect"):
        provider.app().acquire_token_by_username_password("alice", "alice-pw", SCOPES)


def test_a_device_authorization_endpoint_redirecting_elsewhere(provider, elsewhere):
    provider.server.route("POST", provider.mount + "/device", (307, {"Location": elsewhere.url + "/token"}, ""))
    with pytest.raises(ProtocolError, match="device authorization endpoint answered HTTP 307"):
        provider.app().initiate_device_flow(SCOPES)
    assert elsewhere.requests == []


def test_a_discovery_document_redirecting_elsewhere_is_not_fetched_there(fake_server, elsewhere):
    fake_server.route("GET", "/realm/.well-known/openid-configuration", (302, {"Location": elsewhere.url + "/doc"}, ""))
    with pytest.raises(DiscoveryError, match="HTTP 302"):
        Discovery().get(parse_authority(oidc_authority=fake_server.url + "/realm"),
                        Transport(retry=RetryPolicy(max_attempts=1)))
    assert elsewhere.requests == []


# ---- https only, except on loopback --------------------------------------------------------------------
@pytest.mark.parametrize("endpoint", ["token_endpoint", "jwks_uri", "authorization_endpoint",
                                      "device_authorization_endpoint", "revocation_endpoint", "userinfo_endpoint",
                                      "end_session_endpoint"])
def test_a_discovery_document_naming_an_http_endpoint_off_loopback_is_refused(provider, endpoint):
    provider.metadata = lambda: dict(FakeProvider.metadata(provider), **{endpoint: "http://idp.example/x"})
    with pytest.raises(DiscoveryError, match=f"{endpoint} must use https"):
        provider.app().acquire_token_by_username_password("alice", "alice-pw", SCOPES)
    assert provider.token_requests() == []


@pytest.mark.parametrize("authority", ["http://idp.example/oidc", "http://localhost.example/oidc",
                                       "http://127.0.0.1.nip.io/oidc", "http://0.0.0.0:8080/oidc", "http://[::]/oidc",
                                       "ws://127.0.0.1/oidc", "file:///etc/oidc"])
def test_http_authorities_off_loopback_are_refused_before_any_request(authority):
    with pytest.raises(AuthorityError, match="must use https|not an absolute URL"):
        PublicClientApplication(CLIENT_ID, oidc_authority=authority)


@pytest.mark.parametrize("authority", ["http://127.0.0.1:8080/oidc", "http://127.0.0.2/oidc",
                                       "http://[::1]:8080/oidc", "http://localhost/oidc"])
def test_http_on_loopback_is_allowed_for_local_providers(authority):
    assert PublicClientApplication(CLIENT_ID, oidc_authority=authority).authority.url == authority


# ---- RFC 9207: the authorization response's issuer ------------------------------------------------------
def advertise_iss(provider, supported):
    provider.metadata = lambda: dict(FakeProvider.metadata(provider),
                                     authorization_response_iss_parameter_supported=supported)


def redeem(app, provider, **answer):
    flow = app.initiate_auth_code_flow(SCOPES, redirect_uri=REDIRECT_URI)
    provider.nonce = flow["nonce"]
    fields = {"code": "c", "state": flow["state"], "iss": provider.issuer, **answer}
    return app.acquire_token_by_auth_code_flow(flow, {k: v for k, v in fields.items() if v is not None})


def test_an_advertised_iss_must_be_present(provider):
    advertise_iss(provider, True)
    with pytest.raises(FlowError, match="no iss"):
        redeem(provider.app(), provider, iss=None)
    assert provider.token_requests() == []


def test_without_the_advertisement_a_missing_iss_is_accepted_but_a_wrong_one_is_not(provider):
    advertise_iss(provider, False)
    app = provider.app()
    assert "access_token" in redeem(app, provider, iss=None)
    with pytest.raises(FlowError, match="issuer 'https://evil.test'"):
        redeem(app, provider, iss="https://evil.test")
    assert len(provider.token_requests()) == 1


def test_interactive_sign_in_refuses_a_missing_advertised_iss(provider):
    advertise_iss(provider, True)

    def browser(url):
        params = {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}
        back = f"{params['redirect_uri']}?{urlencode({'code': 'c', 'state': params['state']})}"
        threading.Thread(target=requests.get, args=(back,), kwargs={"timeout": 5}, daemon=True).start()

    with pytest.raises(FlowError, match="no iss"):
        provider.app().acquire_token_interactive(SCOPES, open_browser=browser, timeout=10)
    assert provider.token_requests() == []
