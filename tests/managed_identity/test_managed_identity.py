"""Managed identity as msal 1.39's ManagedIdentityClient: each source chosen from the environment
and spoken to in its own protocol (loopback servers check the headers, parameters and Arc's key
file), tokens cached (where msal caches them) and renewed at refresh_in, errors as msal's, throttling
answers kept in http_cache for their Retry-After as msal keeps them; and a
data-science script on a simulated Azure VM and on Azure ML compute gets a token in one line,
the second call served from the cache."""
import time

import msal
import pytest
import requests

import nbauth
from nbauth.cache import SerializableTokenCache
from support.processes import python_child
from support.clock import FakeClock

RESOURCE = "https://storage.azure.com"
SOURCE_VARIABLES = ("IDENTITY_ENDPOINT", "IDENTITY_HEADER", "IDENTITY_SERVER_THUMBPRINT", "MSI_ENDPOINT", "MSI_SECRET",
                    "IMDS_ENDPOINT", "AZURE_POD_IDENTITY_AUTHORITY_HOST")


@pytest.fixture(autouse=True)
def no_source_in_the_environment(monkeypatch):
    for name in SOURCE_VARIABLES:
        monkeypatch.delenv(name, raising=False)


def answer(**fields):
    return lambda request: (200, {}, {"access_token": f"mi-at-{len(request.query)}-{time.monotonic_ns()}",
                                      "token_type": "Bearer", "resource": request.query.get("resource"), **fields})


def on_vm(fake_server, monkeypatch, **fields):
    """The instance metadata service (IMDS), where AZURE_POD_IDENTITY_AUTHORITY_HOST points."""
    fake_server.route("GET", "/metadata/identity/oauth2/token", answer(expires_in="3599", **fields))
    monkeypatch.setenv("AZURE_POD_IDENTITY_AUTHORITY_HOST", fake_server.url)


def requests_to(fake_server, path):
    return fake_server.requests_to(path)


def test_vm_system_assigned(fake_server, monkeypatch):
    on_vm(fake_server, monkeypatch)
    result = nbauth.ManagedIdentityClient(nbauth.SystemAssignedManagedIdentity(), token_cache=SerializableTokenCache()) \
        .acquire_token_for_client(resource=RESOURCE)
    assert result["token_source"] == "identity_provider" and result["access_token"].startswith("mi-at-")
    (request,) = requests_to(fake_server, "/metadata/identity/oauth2/token")
    assert request.headers["Metadata"] == "true"
    assert request.query == {"api-version": "2018-02-01", "resource": RESOURCE}


@pytest.mark.parametrize("identity, param", [
    (dict(client_id="cid-1"), ("client_id", "cid-1")),
    (dict(resource_id="/subscriptions/s/rg/x"), ("msi_res_id", "/subscriptions/s/rg/x")),
    (dict(object_id="oid-1"), ("object_id", "oid-1")),
])
def test_vm_user_assigned(fake_server, monkeypatch, identity, param):
    on_vm(fake_server, monkeypatch)
    client = nbauth.ManagedIdentityClient(nbauth.UserAssignedManagedIdentity(**identity),
                                          token_cache=SerializableTokenCache())
    assert "access_token" in client.acquire_token_for_client(resource=RESOURCE)
    (request,) = requests_to(fake_server, "/metadata/identity/oauth2/token")
    assert request.query[param[0]] == param[1]


def test_app_service(fake_server, monkeypatch):
    fake_server.route("GET", "/msi/token", answer(expires_on=str(int(time.time()) + 3600)))
    monkeypatch.setenv("IDENTITY_ENDPOINT", fake_server.url + "/msi/token")
    monkeypatch.setenv("IDENTITY_HEADER", "app-service-secret")
    client = nbauth.ManagedIdentityClient(nbauth.UserAssignedManagedIdentity(resource_id="/sub/x"),
                                          token_cache=SerializableTokenCache())
    result = client.acquire_token_for_client(resource=RESOURCE)
    assert 3500 < result["expires_in"] <= 3600
    (request,) = requests_to(fake_server, "/msi/token")
    assert request.headers["X-IDENTITY-HEADER"] == "app-service-secret"
    assert request.query == {"api-version": "2019-08-01", "resource": RESOURCE, "mi_res_id": "/sub/x"}


def test_azure_arc_shows_the_agents_key(fake_server, monkeypatch, tmp_path):
    (tmp_path / "abc123.key").write_text("arc-key-secret")

    def arc(request):
        if request.headers.get("Authorization") != "Basic arc-key-secret":
            return 401, {"WWW-Authenticate": "Basic realm=/var/opt/azcmagent/tokens/abc123.key"}, ""
        return answer(expires_in="3600")(request)

    fake_server.route("GET", "/arc/token", arc)
    monkeypatch.setenv("IDENTITY_ENDPOINT", fake_server.url + "/arc/token")
    monkeypatch.setenv("IMDS_ENDPOINT", fake_server.url)
    client = nbauth.ManagedIdentityClient(nbauth.SystemAssignedManagedIdentity(), token_cache=SerializableTokenCache())
    client.arc_key_folder = str(tmp_path)
    assert client.acquire_token_for_client(resource=RESOURCE)["token_source"] == "identity_provider"
    first, second = requests_to(fake_server, "/arc/token")
    assert first.query["api-version"] == "2020-06-01" and "Authorization" not in first.headers


def test_azure_arc_answering_for_another_identity_is_refused(fake_server, monkeypatch, tmp_path):
    fake_server.route("GET", "/arc/token", answer(expires_in="3600", client_id="system-identity"))
    monkeypatch.setenv("IDENTITY_ENDPOINT", fake_server.url + "/arc/token")
    monkeypatch.setenv("IMDS_ENDPOINT", fake_server.url)
    client = nbauth.ManagedIdentityClient(nbauth.UserAssignedManagedIdentity(client_id="cid-1"),
                                          token_cache=SerializableTokenCache())
    with pytest.raises(nbauth.ManagedIdentityError, match="did not confirm"):
        client.acquire_token_for_client(resource=RESOURCE)


def test_the_sources_refusal_is_msals_error_dict(fake_server, monkeypatch):
    fake_server.route("GET", "/metadata/identity/oauth2/token", (400, {}, {
        "error": "invalid_resource", "error_description": "AADSTS500011: no such resource"}))
    monkeypatch.setenv("AZURE_POD_IDENTITY_AUTHORITY_HOST", fake_server.url)
    result = nbauth.ManagedIdentityClient(nbauth.SystemAssignedManagedIdentity(), token_cache=SerializableTokenCache()) \
        .acquire_token_for_client(resource="https://nowhere")
    assert result["error"] == "invalid_resource" and "AADSTS500011" in result["error_description"]


def test_long_tokens_are_renewed_at_half_life_and_kept_if_renewal_fails(fake_server, monkeypatch):
    on_vm(fake_server, monkeypatch)
    fake_server.route("GET", "/metadata/identity/oauth2/token", answer(expires_in="86400"))
    clock = FakeClock(time.time())
    client = nbauth.ManagedIdentityClient(nbauth.SystemAssignedManagedIdentity(), token_cache=SerializableTokenCache(),
                                          clock=clock)
    first = client.acquire_token_for_client(resource=RESOURCE)
    assert first["refresh_on"] == int(clock()) + 43200
    clock.advance(43201)
    fake_server.route("GET", "/metadata/identity/oauth2/token", (500, {}, {"error": "unavailable"}))
    kept = client.acquire_token_for_client(resource=RESOURCE)
    assert (kept["access_token"], kept["token_source"]) == (first["access_token"], "cache")


def test_msal_and_nbauth_share_the_cached_token(fake_server, monkeypatch):
    on_vm(fake_server, monkeypatch)
    theirs = msal.SerializableTokenCache()
    msal.ManagedIdentityClient(msal.UserAssignedManagedIdentity(client_id="cid-1"), http_client=requests.Session(),
                               token_cache=theirs).acquire_token_for_client(resource=RESOURCE)
    ours = SerializableTokenCache()
    ours.deserialize(theirs.serialize())
    served = nbauth.ManagedIdentityClient(nbauth.UserAssignedManagedIdentity(client_id="cid-1"), token_cache=ours) \
        .acquire_token_for_client(resource=RESOURCE)
    assert served["token_source"] == "cache" and len(requests_to(fake_server, "/metadata/identity/oauth2/token")) == 1


#: A data-science script: one line for a token, twice.
SCRIPT = """
import nbauth
for _ in range(2):
    token = nbauth.ManagedIdentityClient(nbauth.SystemAssignedManagedIdentity()).acquire_token_for_client(resource="https://storage.azure.com")
    print(token["token_source"], token["access_token"][:6], flush=True)
"""


@pytest.mark.parametrize("compute", ["vm", "azure_ml"])
def test_a_script_on_azure_compute_gets_a_token_in_one_line_then_from_the_cache(fake_server, compute):
    import os

    env = {k: v for k, v in os.environ.items() if k not in SOURCE_VARIABLES}
    if compute == "vm":
        fake_server.route("GET", "/metadata/identity/oauth2/token", answer(expires_in="3599"))
        env["AZURE_POD_IDENTITY_AUTHORITY_HOST"] = fake_server.url
        path = "/metadata/identity/oauth2/token"
    else:
        fake_server.route("GET", "/msi/token", answer(expires_on=str(int(time.time()) + 3600)))
        env.update(MSI_ENDPOINT=fake_server.url + "/msi/token", MSI_SECRET="ml-secret")
        path = "/msi/token"
    child = python_child(SCRIPT, env=env)
    output, _ = child.communicate(timeout=60)
    assert child.returncode == 0
    assert [line.split()[0] for line in output.splitlines()] == ["identity_provider", "cache"]
    (request,) = requests_to(fake_server, path)
    if compute == "azure_ml":
        assert request.headers["secret"] == "ml-secret" and request.query["api-version"] == "2017-09-01"
    else:
        assert request.headers["Metadata"] == "true"


@pytest.mark.parametrize("module", [nbauth, msal], ids=["nbauth", "msal"])
def test_a_throttling_answer_is_given_again_while_its_retry_after_lasts(fake_server, monkeypatch, module):
    on_vm(fake_server, monkeypatch)
    fake_server.enqueue("GET", "/metadata/identity/oauth2/token",
                        (429, {"Retry-After": "120"}, {"error": "too_many_requests", "error_description": "slow down"}))
    http_cache = {}

    def ask():
        return module.ManagedIdentityClient(module.SystemAssignedManagedIdentity(), http_client=requests.Session(),
                                            token_cache=module.SerializableTokenCache(), http_cache=http_cache) \
            .acquire_token_for_client(resource=RESOURCE)

    assert ask()["error"] == "too_many_requests"
    assert ask()["error"] == "too_many_requests"  # from the http_cache: the source is not asked
    assert len(requests_to(fake_server, "/metadata/identity/oauth2/token")) == 1
    http_cache.clear()
    assert "access_token" in ask()
