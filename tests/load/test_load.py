"""Load, briefly (``bench/load.py`` runs the same for longer and reports rates).

Silent acquisitions from 8 threads against a warm cache all get the cached token and send
nothing; 8 processes refreshing through one cache file with 1-second access tokens lose no
refresh token, never reuse a rotated one, and never leave a torn file.
"""
import pytest

from nbauth.cache import CredentialType, PersistedTokenCache
from support.load import (SCOPES, counting_session, persisted_app, refresh_load, refresh_problems, signed_in_app,
                               silent_load)

pytestmark = pytest.mark.timeout(120)


def test_silent_acquisitions_from_8_threads_are_cache_hits_that_send_nothing(idp, tmp_path):
    session, sent = counting_session()
    app, account = signed_in_app(idp.issuer, tmp_path / "token_cache.json", http_client=session)
    assert app.acquire_token_silent(SCOPES, account)["token_source"] == "cache"
    sent_before, provider_before = len(sent), len(idp.request_log())
    load = silent_load(app, account, threads=8, seconds=1.0, rate=10_000)
    assert load.errors == []
    assert load.calls >= 1_000  # it really ran (the rate itself is bench/load.py's to report)
    assert sent[sent_before:] == [] and len(idp.request_log()) == provider_before


@pytest.mark.timeout(180)
def test_8_processes_refreshing_through_one_cache_lose_and_reuse_no_refresh_token(make_idp, tmp_path):
    provider = make_idp(access_token_ttl=1)
    path = tmp_path / "token_cache.json"
    signed_in_app(provider.issuer, path)
    provider.reset_stats()
    load = refresh_load(path, provider.issuer, processes=8, seconds=5)
    outcomes = [entry["outcome"] for entry in provider.token_log("refresh_token")]
    left = [entry["secret"] for entry in PersistedTokenCache(path).search(CredentialType.REFRESH_TOKEN)]
    assert refresh_problems(load, outcomes, left) == []
    assert load.count("identity_provider") >= 3  # the tokens really rolled over, about once a second
    app = persisted_app(provider.issuer, path)
    (account,) = app.get_accounts()
    renewed = app.acquire_token_silent(SCOPES, account, force_refresh=True)  # the refresh token left works
    assert renewed["token_source"] == "identity_provider"
