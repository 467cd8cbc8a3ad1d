"""Service Fabric's managed identity, as msal 1.39 speaks it: the endpoint (IDENTITY_ENDPOINT, https)
is trusted by the certificate thumbprint IDENTITY_SERVER_THUMBPRINT alone, checked before the Secret
header (IDENTITY_HEADER) is sent. A loopback https server with a certificate no CA on this machine
trusts plays the cluster's endpoint; the real msal is asked the same way."""
import hashlib
import ssl
import time

import msal
import pytest
import requests

import nbauth
from idp.certs import TestCA
from nbauth.cache import SerializableTokenCache
from support.fake_http import FakeServer

RESOURCE = "https://vault.azure.net"
PATH = "/metadata/identity/oauth2/token"
OTHER_SOURCES = ("MSI_ENDPOINT", "MSI_SECRET", "IMDS_ENDPOINT", "AZURE_POD_IDENTITY_AUTHORITY_HOST")


@pytest.fixture(scope="module")
def cluster_ca(tmp_path_factory):
    """A CA nothing trusts: only the thumbprint can vouch for the endpoint."""
    return TestCA(tmp_path_factory.mktemp("cluster-ca"))


@pytest.fixture
def endpoint(cluster_ca, monkeypatch):
    for name in OTHER_SOURCES:
        monkeypatch.delenv(name, raising=False)
    with FakeServer(ca=cluster_ca) as server:
        server.route("GET", PATH, lambda request: (200, {}, {
            "access_token": f"sf-at-{time.monotonic_ns()}", "expires_on": str(int(time.time()) + 3600),
            "token_type": "Bearer", "resource": request.query.get("resource")}))
        monkeypatch.setenv("IDENTITY_ENDPOINT", server.url + PATH)
        monkeypatch.setenv("IDENTITY_HEADER", "sf-secret")
        monkeypatch.setenv("IDENTITY_SERVER_THUMBPRINT", thumbprint_of(server, separator=":").upper())
        yield server


def thumbprint_of(server: FakeServer, separator: str = "") -> str:
    der = ssl.PEM_cert_to_DER_cert(ssl.get_server_certificate(("127.0.0.1", server.port)))
    return separator.join(f"{b:02x}" for b in hashlib.sha1(der).digest())


def client(identity=None, **options):
    return nbauth.ManagedIdentityClient(identity or nbauth.SystemAssignedManagedIdentity(),
                                        token_cache=SerializableTokenCache(), **options)


def test_a_token_from_the_pinned_endpoint_then_from_the_cache(endpoint):
    mi = client(nbauth.UserAssignedManagedIdentity(client_id="cid-1"), client_capabilities=["CP1"])
    first = mi.acquire_token_for_client(resource=RESOURCE)
    assert first["token_source"] == "identity_provider" and first["access_token"].startswith("sf-at-")
    (request,) = endpoint.requests_to(PATH)
    assert request.headers["Secret"] == "sf-secret"
    assert request.query == {"api-version": "2019-07-01-preview", "resource": RESOURCE, "xms_cc": "CP1"}
    again = mi.acquire_token_for_client(resource=RESOURCE)
    assert (again["token_source"], again["access_token"]) == ("cache", first["access_token"])


def test_msal_asks_the_same_way(endpoint):
    msal.ManagedIdentityClient(msal.SystemAssignedManagedIdentity(), http_client=requests.Session(),
                               client_capabilities=["CP1"]).acquire_token_for_client(resource=RESOURCE)
    client(client_capabilities=["CP1"]).acquire_token_for_client(resource=RESOURCE)
    theirs, ours = endpoint.requests_to(PATH)
    assert theirs.query == ours.query and theirs.headers["Secret"] == ours.headers["Secret"]


def test_another_certificate_gets_no_request_and_no_secret(endpoint, monkeypatch):
    monkeypatch.setenv("IDENTITY_SERVER_THUMBPRINT", "0" * 40)
    with pytest.raises(nbauth.TransportError, match="TLS"):
        client().acquire_token_for_client(resource=RESOURCE)
    assert endpoint.requests == []


def test_a_claims_challenge_names_the_refused_token_by_its_hash(endpoint):
    mi = client()
    refused = mi.acquire_token_for_client(resource=RESOURCE)["access_token"]
    renewed = mi.acquire_token_for_client(resource=RESOURCE, claims_challenge='{"access_token": {"nbf": {}}}')
    assert renewed["access_token"] != refused
    assert endpoint.requests_to(PATH)[-1].query["token_sha256_to_refresh"] == hashlib.sha256(refused.encode()).hexdigest()


def test_the_endpoints_refusal_is_msals_error(endpoint):
    endpoint.route("GET", PATH, (401, {}, {"error": {"code": "SecretHeaderNotFound", "message": "no secret"}}))
    result = client().acquire_token_for_client(resource=RESOURCE)
    assert result["error"] == "unauthorized_client" and "SecretHeaderNotFound" in result["error_description"]


@pytest.mark.parametrize("variable, value, message", [
    ("IDENTITY_SERVER_THUMBPRINT", "not-a-thumbprint", "SHA-1"),
    ("IDENTITY_ENDPOINT", "http://127.0.0.1:1" + PATH, "https"),
])
def test_a_misconfigured_cluster_is_refused_naming_what(endpoint, monkeypatch, variable, value, message):
    monkeypatch.setenv(variable, value)
    with pytest.raises(nbauth.ManagedIdentityError, match=message):
        client().acquire_token_for_client(resource=RESOURCE)
    assert endpoint.requests == []
