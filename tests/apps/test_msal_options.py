"""MSAL's constructor options that once were accepted and dropped now work as msal 1.39's do, side
by side with the real msal against Entra ID played on loopback: ``app_name`` / ``app_version``
(the ``x-app-name`` / ``x-app-ver`` headers), ``validate_authority=False`` (the host is vouched
for: no alias groups, Entra's protocol on a host nbauth does not know), ``http_cache`` (a new
process spared the discovery). ``enable_pii_log`` and an instance-discovery URL are refused by name."""
import pickle
import time

import msal
import pytest

import nbauth
from nbauth.provider.authority import discovery
from support.cache import entra_event
from support.entra import EntraCloud
from support.fake_http import FakeServer

SCOPES = ["User.Read"]
MODULES = pytest.mark.parametrize("module", [nbauth, msal], ids=["nbauth", "msal"])


@pytest.fixture
def server(session_ca):
    with FakeServer(ca=session_ca) as server:
        yield server


@pytest.fixture
def cloud(server):
    return EntraCloud(server)


def app(module, cloud, **options):
    return module.PublicClientApplication(cloud.client_id, authority=cloud.authority(), http_client=cloud.session(),
                                          **options)


@MODULES
def test_app_name_and_version_go_with_token_requests_as_headers(cloud, module):
    app(module, cloud, app_name="notebook-tool", app_version="1.2").acquire_token_by_refresh_token("rt-0", SCOPES)
    app(module, cloud).acquire_token_by_refresh_token("rt-0", SCOPES)
    named, plain = cloud.token_requests()
    assert (named.headers["x-app-name"], named.headers["x-app-ver"]) == ("notebook-tool", "1.2")
    assert "x-app-name" not in plain.headers and "x-app-ver" not in plain.headers


def test_an_app_name_that_cannot_be_a_header_is_refused_by_name(cloud):
    with pytest.raises(ValueError, match="app_version.*x-app-ver"):
        app(nbauth, cloud, app_version="1.2\r\nX-Injected: 1")


def test_enable_pii_log_is_refused_by_name_saying_why(cloud):
    with pytest.raises(ValueError, match="enable_pii_log.*broker"):
        app(nbauth, cloud, enable_pii_log=True)
    app(nbauth, cloud, enable_pii_log=False)  # msal's default, and no-op, are fine


def test_an_instance_discovery_endpoint_is_refused_by_name(cloud):
    with pytest.raises(ValueError, match="instance_discovery.*endpoint"):
        app(nbauth, cloud, instance_discovery="https://login.microsoftonline.com/common/discovery/instance")


# ---- validate_authority=False -----------------------------------------------------------------
@MODULES
def test_validate_authority_false_speaks_entras_protocol_on_a_host_nbauth_does_not_know(server, module):
    stack = EntraCloud(server, hosts=("login.azurestack.test",))
    result = app(module, stack, validate_authority=False).acquire_token_by_refresh_token("rt-0", SCOPES)
    assert result["access_token"] == "at-login.azurestack.test-1", result
    assert server.requests_to("/login.azurestack.test/tenant-1/v2.0/.well-known/openid-configuration")


def test_without_validate_authority_false_such_a_host_is_a_plain_openid_provider(server):
    stack = EntraCloud(server, hosts=("login.azurestack.test",))
    assert app(nbauth, stack).authority.kind == "oidc"  # (msal would ask Microsoft's instance discovery)


def filed_under_an_alias(cloud) -> str:
    event = entra_event(uid=cloud.uid, tenant=cloud.tenant, client_id=cloud.client_id)
    event["token_endpoint"] = f"https://login.windows.net/{cloud.tenant}/oauth2/v2.0/token"
    cache = msal.SerializableTokenCache()
    cache.add(event, now=time.time())
    return cache.serialize()


@MODULES
def test_validate_authority_false_uses_no_alias_groups_as_in_msal(cloud, module):
    document = filed_under_an_alias(cloud)
    for validate, expected in ((True, 1), (False, 0)):
        cache = module.SerializableTokenCache()
        cache.deserialize(document)
        assert len(app(module, cloud, token_cache=cache, validate_authority=validate).get_accounts()) == expected


# ---- http_cache ------------------------------------------------------------------------------------
def discovery_requests(cloud) -> int:
    return len(cloud.server.requests_to(f"/{cloud.hosts[0]}/{cloud.tenant}/v2.0/.well-known/openid-configuration"))


@MODULES
def test_a_persisted_http_cache_spares_the_next_run_the_discovery(cloud, module):
    http_cache = {}
    app(module, cloud, http_cache=http_cache).acquire_token_by_refresh_token("rt-0", SCOPES)
    assert discovery_requests(cloud) == 1
    saved = pickle.dumps(http_cache)  # msal's recipe: pickled at exit, loaded at the next start
    discovery.clear()  # a new process
    next_run = app(module, cloud, http_cache=pickle.loads(saved))
    assert next_run.acquire_token_by_refresh_token("rt-0", SCOPES)["access_token"]
    assert discovery_requests(cloud) == 1


def test_nbauth_keeps_its_entries_beside_msals_in_one_http_cache(cloud):
    shared = {}
    app(msal, cloud, http_cache=shared)
    theirs = set(shared)
    app(nbauth, cloud, http_cache=shared).acquire_token_by_refresh_token("rt-0", SCOPES)
    assert theirs < set(shared)
    shared[next(k for k in shared if k.startswith("nbauth"))] = "damaged"  # anything else there is ignored
    discovery.clear()
    assert app(nbauth, cloud, http_cache=shared).acquire_token_by_refresh_token("rt-0", SCOPES)["access_token"]
    assert app(msal, cloud, http_cache=shared).acquire_token_by_refresh_token("rt-0", SCOPES)["access_token"]


def test_a_stored_document_that_does_not_fit_the_authority_is_not_used(cloud):
    http_cache = {}
    app(nbauth, cloud, http_cache=http_cache).acquire_token_by_refresh_token("rt-0", SCOPES)
    (key,) = [k for k in http_cache if k.startswith("nbauth")]
    http_cache[key]["document"]["issuer"] = "https://attacker.example/tenant-1/v2.0"
    discovery.clear()
    assert app(nbauth, cloud, http_cache=http_cache).acquire_token_by_refresh_token("rt-0", SCOPES)["access_token"]
    assert discovery_requests(cloud) == 2  # fetched again, and the good document stored over it
    assert http_cache[key]["document"]["issuer"] == cloud.issuer


def test_an_http_cache_that_is_not_dict_like_is_refused_by_name(cloud):
    with pytest.raises(ValueError, match="http_cache"):
        app(nbauth, cloud, http_cache=["not", "a", "mapping"])

