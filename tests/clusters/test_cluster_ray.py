"""Tokens on a local Ray cluster (2 CPUs, one worker process per task) against the local provider with
10-second access tokens and rotating refresh tokens: tasks call an API that verifies every JWT for
RUN_SECONDS, in both modes; every call is authorised, no refresh is refused, and the provider sees
at most one refresh per token lifetime, plus one."""
import os
from pathlib import Path

import pytest

ray = pytest.importorskip("ray")

import nbauth  # noqa: E402
import nbauth.cluster.ray  # noqa: E402
from idp.server import NATIVE_CLIENT  # noqa: E402
from nbauth import BearerAuth, PersistedTokenCache, TokenCache  # noqa: E402
from support.clusters import RUN_SECONDS, Window, assert_all_authorised_with_bounded_refreshes, call_api  # noqa: E402
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


def run_tasks(provider, api, auth, seconds=RUN_SECONDS):
    api.reset()
    task = ray.remote(num_cpus=1)(call_api)
    with Window() as window:
        provider.reset_stats()
        reports = ray.get([task.remote(auth, api.url, seconds) for _ in range(2)])
    assert_all_authorised_with_bounded_refreshes(reports, provider, api, window.seconds, seconds)


def test_shared_cache_mode_on_ray(cluster, provider, api, tmp_path):
    path = tmp_path / "token_cache.json"
    signed_in_app(provider, cache=PersistedTokenCache(path))
    me = nbauth.login(NATIVE_CLIENT, oidc_authority=provider.issuer, scopes=SCOPES,
                      cache=PersistedTokenCache(path), ui="none")
    run_tasks(provider, api, BearerAuth(me))


def test_driver_published_mode_on_ray(cluster, provider, api):
    app, _ = signed_in_app(provider, cache=TokenCache())  # in memory: workers cannot see it
    me = nbauth.login(NATIVE_CLIENT, oidc_authority=provider.issuer, scopes=SCOPES, cache=app.token_cache, ui="none")
    publication = nbauth.cluster.ray.publish(me)
    try:
        run_tasks(provider, api, BearerAuth(me))
    finally:
        publication.stop()
