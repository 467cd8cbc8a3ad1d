"""Tokens on a real Dask LocalCluster (2 worker processes x 2 threads) against the local provider with
10-second access tokens and rotating refresh tokens: tasks call an API that verifies every JWT for
RUN_SECONDS, in both modes; every call is authorised, no refresh is refused, and the provider sees
at most one refresh per token lifetime, plus one."""
import pytest

pytest.importorskip("distributed")

import nbauth  # noqa: E402
import nbauth.cluster.dask  # noqa: E402
from distributed import Client, LocalCluster  # noqa: E402
from idp.server import NATIVE_CLIENT  # noqa: E402
from nbauth import BearerAuth, NbauthCredential, PersistedTokenCache, TokenCache  # noqa: E402
from nbauth.cluster import ClusterSignIn  # noqa: E402
from nbauth.cluster.bearer_middleware import BearerMiddleware  # noqa: E402
from support.clusters import (  # noqa: E402
    RUN_SECONDS,
    Window,
    assert_all_authorised_with_bounded_refreshes,
    call_api,
    protected_file,
)
from support.fake_http import FakeServer  # noqa: E402
from support.integrations import SCOPES, signed_in_app  # noqa: E402

pytestmark = pytest.mark.timeout(300)


@pytest.fixture(scope="module")
def client():
    with LocalCluster(processes=True, n_workers=2, threads_per_worker=2, dashboard_address=":0") as cluster:
        with Client(cluster) as connected:
            yield connected


def run_tasks(client, provider, api, auth, seconds=RUN_SECONDS):
    """One task per worker thread, each calling the API for ``seconds``; checks what they saw."""
    api.reset()
    with Window() as window:
        provider.reset_stats()
        futures = [client.submit(call_api, auth, api.url, seconds, pure=False) for _ in range(4)]
        reports = client.gather(futures)
    assert_all_authorised_with_bounded_refreshes(reports, provider, api, window.seconds, seconds)


def test_shared_cache_mode_one_refresh_per_lifetime(client, provider, api, tmp_path):
    path = tmp_path / "token_cache.json"
    signed_in_app(provider, cache=PersistedTokenCache(path))
    me = nbauth.login(NATIVE_CLIENT, oidc_authority=provider.issuer, scopes=SCOPES,
                      cache=PersistedTokenCache(path), ui="none")  # its refresher keeps the file fresh
    auth = BearerAuth(ClusterSignIn(me, mode="shared_cache"))
    run_tasks(client, provider, api, auth)


def test_driver_published_mode_only_access_tokens_travel(client, provider, api):
    app, _ = signed_in_app(provider, cache=TokenCache())  # in memory: workers cannot see it
    me = nbauth.login(NATIVE_CLIENT, oidc_authority=provider.issuer, scopes=SCOPES, cache=app.token_cache, ui="none")
    publication = nbauth.cluster.dask.publish(me, client)
    try:
        run_tasks(client, provider, api, BearerAuth(me))  # auto: no cache to see, so published
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
