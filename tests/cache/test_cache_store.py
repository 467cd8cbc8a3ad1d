"""TokenCache: MSAL's search, modify and removal semantics, served from the index."""
import threading

import msal
import pytest

from nbauth.cache import CredentialType, TokenCache
from nbauth.exceptions import ConfigurationError
from support.cache import NOW, app_event, entra_event, oidc_event

AT, RT, IDT, ACCOUNT = (CredentialType.ACCESS_TOKEN, CredentialType.REFRESH_TOKEN,
                        CredentialType.ID_TOKEN, CredentialType.ACCOUNT)


@pytest.fixture
def cache():
    cache = TokenCache(clock=lambda: NOW)
    cache.add(oidc_event("alice", scopes=("openid", "profile", "api.read", "offline_access")))
    cache.add(oidc_event("bob", scopes=("openid", "api.write")))
    cache.add(entra_event("u1", "t1"))
    cache.add(entra_event("u1", "t2", scopes=("Mail.Read",)))
    cache.add(app_event())
    return cache


def secrets(entries):
    return sorted(entry["secret"] for entry in entries)


def test_scope_subset_matches_case_insensitively(cache):
    query = {"client_id": "nbauth-native", "home_account_id": "alice"}
    assert secrets(cache.search(AT, ["API.READ"], query)) == ["at-alice-openid.profile.api.read.offline_access"]
    assert secrets(cache.search(AT, ["api.read", "api.write"], query)) == []
    assert secrets(cache.search(AT, ["openid"], {"client_id": "nbauth-native"})) == [
        "at-alice-openid.profile.api.read.offline_access", "at-bob-openid.api.write"]


def test_query_is_a_sub_dict_with_none_distinct_from_missing(cache):
    assert secrets(cache.search(AT, query={"home_account_id": None})) == ["app-at"]
    accounts = list(cache.search(ACCOUNT, query={"environment": "LOGIN.microsoftonline.com"}))
    assert sorted(a["realm"] for a in accounts) == ["t1", "t2"]
    assert list(cache.search(RT, query={"no_such_field": None})) == []


def test_refresh_tokens_are_found_across_tenants(cache):
    query = {"environment": "login.microsoftonline.com", "home_account_id": "u1.t1", "client_id": "client-1"}
    assert secrets(cache.search(RT, query=query)) == ["rt-u1"]  # one RT: t2 overwrote t1's (same key)


def test_expired_access_tokens_are_removed_on_search(cache):
    query = {"home_account_id": "bob"}
    assert len(list(cache.search(AT, query=query, now=NOW + 599))) == 1
    assert list(cache.search(AT, query=query, now=NOW + 601)) == []
    assert list(cache.search(AT, query=query, now=NOW)) == []  # gone, not just hidden
    assert len(list(cache.search(RT, query=query, now=NOW + 601))) == 1  # refresh tokens stay


def test_isolated_tokens_need_their_field_in_the_query():
    cache = TokenCache(clock=lambda: NOW)
    cache.add(dict(app_event(), data={"fmi_path": "p"}))
    cache.add(dict(entra_event(), data={"user_assertion_hash": "h"}))
    assert list(cache.search(AT, query={"client_id": "daemon"})) == []
    (fmi,) = cache.search(AT, query={"client_id": "daemon", "ext_cache_key": fmi_key()})
    assert fmi["secret"] == "app-at"
    assert list(cache.search(AT, query={"home_account_id": "uid-1.tenant-1"})) == []
    assert len(list(cache.search(AT, query={"home_account_id": "uid-1.tenant-1", "user_assertion_hash": "h"}))) == 1
    assert len(list(cache.search(RT, query={"home_account_id": "uid-1.tenant-1"}))) == 1


def fmi_key():
    return msal.token_cache._compute_ext_cache_key({"fmi_path": "p"})


def test_search_returns_copies_over_a_snapshot(cache):
    for entry in cache.search(AT, query={"home_account_id": "alice"}):
        entry["secret"] = "tampered"
        cache.remove_at(entry)  # changing the cache while iterating is allowed
    assert list(cache.search(AT, query={"home_account_id": "alice"})) == []
    assert "tampered" not in secrets(cache.search(AT))


def test_update_and_remove(cache):
    (rt,) = cache.search(RT, query={"home_account_id": "alice"})
    cache.update_rt(rt, "rt-rotated")
    (rotated,) = cache.search(RT, query={"home_account_id": "alice"})
    assert (rotated["secret"], rotated["last_modification_time"]) == ("rt-rotated", str(NOW))
    cache.remove_rt(rotated)
    (idt,) = cache.search(IDT, query={"home_account_id": "alice"})
    cache.remove_idt(idt)
    (account,) = cache.search(ACCOUNT, query={"home_account_id": "alice"})
    cache.remove_account(account)
    for credential_type in (RT, IDT, ACCOUNT):
        assert list(cache.search(credential_type, query={"home_account_id": "alice"})) == []
    assert len(list(cache.search(ACCOUNT, query={"home_account_id": "bob"}))) == 1


def test_modify_merges_fields_and_removes_without_new_values(cache):
    (account,) = cache.search(ACCOUNT, query={"home_account_id": "bob"})
    cache.modify(ACCOUNT, account, {"username": "robert"})
    assert [a["username"] for a in cache.search(ACCOUNT, query={"username": "robert"})] == ["robert"]
    cache.modify(ACCOUNT, account)
    assert list(cache.search(ACCOUNT, query={"home_account_id": "bob"})) == []


def test_misuse_gets_clear_errors(cache):
    (rt,) = cache.search(RT, query={"home_account_id": "bob"})
    with pytest.raises(ConfigurationError, match="expected a AccessToken entry"):
        cache.remove_at(rt)
    with pytest.raises(ConfigurationError, match="no authority_type"):
        cache.remove_account(rt)
    with pytest.raises(ConfigurationError, match="list of scopes"):
        list(cache.search(AT, "openid profile"))


def test_find_is_deprecated_alias(cache):
    with pytest.deprecated_call():
        assert secrets(cache.find(AT, query={"home_account_id": "bob"})) == ["at-bob-openid.api.write"]


def test_unknown_credential_type_finds_nothing(cache):
    assert list(cache.search("Appointment")) == []


def test_app_metadata_accessor_as_msal_applications_use_it(cache):
    cache.add(entra_event(client_id="family-app", foci="1"))
    assert cache._get_app_metadata("login.microsoftonline.com", "family-app") == {
        "client_id": "family-app", "environment": "login.microsoftonline.com", "family_id": "1"}
    assert cache._get_app_metadata("elsewhere", "family-app", default={}) == {}


def test_repr_counts_without_secrets(cache):
    text = repr(cache)
    assert "AccessToken: 5" in text and "rt-" not in text and "at-" not in text


def test_concurrent_adds_from_threads_all_land():
    cache = TokenCache(clock=lambda: NOW)
    start = threading.Barrier(8)

    def sign_in(worker):
        start.wait(timeout=10)
        for i in range(50):
            cache.add(oidc_event(f"user-{worker}-{i}"))
            list(cache.search(AT, ["api"], {"home_account_id": f"user-{worker}-{i}"}))

    threads = [threading.Thread(target=sign_in, args=(w,)) for w in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert len(list(cache.search(ACCOUNT))) == 400
    assert len(list(cache.search(AT, ["openid"]))) == 400


def test_found_entries_print_without_their_secret(cache):
    (rt,) = cache.search(RT, query={"home_account_id": "bob"})
    assert rt["secret"] == "rt-bob" and "rt-bob" not in repr(rt) and "rt-bob" not in str([rt])
