"""Tokens on a local Ray cluster (2 CPUs, one worker process per task) against local providers with
10-second access tokens and rotating refresh tokens: tasks call APIs that verify every JWT for
RUN_SECONDS, in both modes at once (each with its own provider and API); in each, every call is
authorised, no refresh is refused, and the provider sees at most one refresh per token lifetime,
plus one."""
import os
import pickle
from pathlib import Path

import cloudpickle

import pytest

ray = pytest.importorskip("ray")

import nbauth  # noqa: E402
import nbauth.cluster.ray  # noqa: E402
from idp.server import NATIVE_CLIENT  # noqa: E402
from nbauth import BearerAuth, PersistedTokenCache, TokenCache  # noqa: E402
from support.clusters import (  # noqa: E402
    PUBLISHED,
    SHARED_CACHE,
    Mode,
    assert_only_access_tokens_travel,
    call_apis,
    run_modes,
)
from support.integrations import SCOPES, signed_in_app  # noqa: E402

pytestmark = pytest.mark.timeout(300)
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def cluster():
    # Ray's workers get nbauth (this checkout) and the test helpers through PYTHONPATH.
    path = os.pathsep.join([str(ROOT), str(ROOT / "tests")])
    for attempt in (1, 2):
        try:
            ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False,
                     runtime_env={"env_vars": {"PYTHONPATH": path}})
            break
        except Exception:  # Ray's plain Exception when its agent starts slowly on a loaded machine (ray#65983)
            ray.shutdown()
            if attempt == 2:
                raise
    yield ray
    ray.shutdown()


def test_both_modes_at_once_every_call_authorised_one_refresh_per_lifetime_only_access_tokens_published(
        cluster, provider, api, published_provider, published_api, tmp_path):
    path = tmp_path / "token_cache.json"
    signed_in_app(provider, cache=PersistedTokenCache(path))
    me = nbauth.login(NATIVE_CLIENT, oidc_authority=provider.issuer, scopes=SCOPES,
                      cache=PersistedTokenCache(path), ui="none")
    app, _ = signed_in_app(published_provider, cache=TokenCache())  # in memory: workers cannot see it
    driver = nbauth.login(NATIVE_CLIENT, oidc_authority=published_provider.issuer, scopes=SCOPES,
                          cache=app.token_cache, ui="none")
    publication = nbauth.cluster.ray.publish(driver)
    published_auth = BearerAuth(driver)  # auto: no cache to see, so published
    task = ray.remote(num_cpus=1)(call_apis)
    try:
        run_modes(lambda calls, until: ray.get([task.remote(calls, until) for _ in range(2)]),
                  [Mode(SHARED_CACHE, BearerAuth(me), provider, api),  # auto: the cache is here, so shared
                   Mode(PUBLISHED, published_auth, published_provider, published_api)])
        latest = ray.get(nbauth.cluster.ray.actor().latest.remote(publication.recipe.channel, 0))
        assert_only_access_tokens_travel({"the task's auth": cloudpickle.dumps(published_auth),
                                          "the actor's token": pickle.dumps(latest)},
                                         latest, app.token_cache, published_provider)
    finally:
        publication.stop()
