"""Tokens on a real Dask LocalCluster (2 worker processes x 2 threads) against local providers with
10-second access tokens and rotating refresh tokens: tasks call APIs that verify every JWT for
RUN_SECONDS, in both modes at once (each with its own provider and API); in each, every call is
authorised, no refresh is refused, and the provider sees at most one refresh per token lifetime,
plus one. Then dask.dataframe reads token-protected data on the cluster."""
import pickle

import cloudpickle
import pytest

pytest.importorskip("distributed")

import nbauth  # noqa: E402
import nbauth.cluster.dask  # noqa: E402
from distributed import Client, LocalCluster  # noqa: E402
from idp.server import NATIVE_CLIENT  # noqa: E402
from nbauth import BearerAuth, NbauthCredential, PersistedTokenCache, TokenCache  # noqa: E402
from nbauth.cluster.bearer_middleware import BearerMiddleware  # noqa: E402
from support.clusters import (  # noqa: E402
    PUBLISHED,
    SHARED_CACHE,
    Mode,
    assert_only_access_tokens_travel,
    call_apis,
    protected_file,
    run_modes,
)
from support.fake_http import FakeServer  # noqa: E402
from support.integrations import SCOPES, signed_in_app  # noqa: E402

pytestmark = pytest.mark.timeout(300)


@pytest.fixture(scope="module")
def client():
    with LocalCluster(processes=True, n_workers=2, threads_per_worker=2, dashboard_address=":0") as cluster:
        with Client(cluster) as connected:
            yield connected


def test_both_modes_at_once_every_call_authorised_one_refresh_per_lifetime_only_access_tokens_published(
        client, provider, api, published_provider, published_api, tmp_path):
    path = tmp_path / "token_cache.json"
    signed_in_app(provider, cache=PersistedTokenCache(path))
    me = nbauth.login(NATIVE_CLIENT, oidc_authority=provider.issuer, scopes=SCOPES,
                      cache=PersistedTokenCache(path), ui="none")  # its refresher keeps the file fresh
    app, _ = signed_in_app(published_provider, cache=TokenCache())  # in memory: workers cannot see it
    driver = nbauth.login(NATIVE_CLIENT, oidc_authority=published_provider.issuer, scopes=SCOPES,
                          cache=app.token_cache, ui="none")
    publication = nbauth.cluster.dask.publish(driver, client)
    published_auth = BearerAuth(driver)  # auto: no cache to see, so published
    try:
        run_modes(lambda calls, until: client.gather([client.submit(call_apis, calls, until, pure=False)
                                               for _ in range(4)]),
                  [Mode(SHARED_CACHE, BearerAuth(nbauth.ClusterSignIn(me, mode="shared_cache")), provider, api),
                   Mode(PUBLISHED, published_auth, published_provider, published_api)])
        channel = publication.recipe.channel
        plugin = client.run_on_scheduler(lambda dask_scheduler: dask_scheduler.worker_plugins[channel])  # pickled
        assert_only_access_tokens_travel({"the task's auth": cloudpickle.dumps(published_auth),
                                          "the worker plugin": plugin},
                                         pickle.loads(plugin).published, app.token_cache, published_provider)
    finally:
        publication.stop()


def test_read_csv_with_the_credential_in_storage_options_computes_on_the_cluster(client, provider, tmp_path):
    dd = pytest.importorskip("dask.dataframe")
    pytest.importorskip("aiohttp")
    path = tmp_path / "token_cache.json"
    signed_in_app(provider, cache=PersistedTokenCache(path))
    me = nbauth.login(NATIVE_CLIENT, oidc_authority=provider.issuer, scopes=SCOPES, cache=PersistedTokenCache(path),
                      ui="none", keep_fresh=False)
    parts = {"/part-0.csv": "x,y\n1,2\n3,4\n", "/part-1.csv": "x,y\n5,6\n"}
    with FakeServer() as source:
        for name, text in parts.items():
            source.route("GET", name, protected_file(provider, text))
            source.route("HEAD", name, protected_file(provider, text))
        frame = dd.read_csv([source.url + name for name in parts], blocksize=None,
                            storage_options={"client_kwargs": {"middlewares": (BearerMiddleware(me),)}})
        total = client.compute(frame.x.sum()).result()
        answered = [request.headers.get("Authorization", "")[:7] for request in source.requests]
    assert total == 9
    assert answered and set(answered) == {"Bearer "}


def test_read_csv_of_abfs_urls_with_the_credential_in_storage_options_on_the_cluster(client, provider, session_ca,
                                                                                     tmp_path):
    """The issue's case as data scientists write it: adlfs against Azurite (https, bearer tokens
    checked), ``storage_options={"credential": ...}``, computed by the workers."""
    dd = pytest.importorskip("dask.dataframe")
    blob = pytest.importorskip("azure.storage.blob")
    pytest.importorskip("adlfs")
    from nbauth.integrations.aio import AsyncNbauthCredential
    from support.azurite import ACCOUNT, STORAGE_SCOPE, Azurite

    path = tmp_path / "token_cache.json"
    signed_in_app(provider, cache=PersistedTokenCache(path), scopes=[STORAGE_SCOPE])
    me = nbauth.login(NATIVE_CLIENT, oidc_authority=provider.issuer, scopes=[STORAGE_SCOPE],
                      cache=PersistedTokenCache(path), ui="none", keep_fresh=False)
    with Azurite(session_ca) as azurite:
        service = blob.BlobServiceClient(azurite.account_url, credential=NbauthCredential(me))
        service.create_container("frames")
        for name, text in {"a.csv": b"x,y\n1,2\n3,4\n", "b.csv": b"x,y\n5,6\n"}.items():
            service.get_blob_client("frames", name).upload_blob(text)
        frame = dd.read_csv("abfs://frames/*.csv", storage_options={
            "account_name": ACCOUNT, "account_host": azurite.account_host, "credential": AsyncNbauthCredential(me)})
        assert client.compute(frame.x.sum()).result() == 9
