"""Keeping up with a cache file cheaply: another process's change is read, checked and indexed
entry by entry (only what differs from memory), and a change of several entries is saved once."""
import json

import msal
import pytest

import nbauth.cache.schema
from nbauth.cache import CredentialType, PersistedTokenCache, SerializableTokenCache
from nbauth.cache.index import Section
from nbauth.exceptions import CacheWarning
from support.cache import NOW, oidc_event

#: Any CacheWarning a test does not expect fails it.
pytestmark = pytest.mark.filterwarnings("error::nbauth.exceptions.CacheWarning")

AT, RT = CredentialType.ACCESS_TOKEN, CredentialType.REFRESH_TOKEN


@pytest.fixture
def indexed(monkeypatch):
    """Counts the entries sections index (put) and forget (pop), and the entries checked."""
    counts = {"put": 0, "pop": 0, "checked": 0}
    for owner, name, counter in ((Section, "put", "put"), (Section, "pop", "pop"),
                                 (nbauth.cache.schema, "_check_entry", "checked")):
        real = getattr(owner, name)

        def counting(*args, real=real, counter=counter):
            counts[counter] += 1
            return real(*args)

        monkeypatch.setattr(owner, name, counting)
    return counts


def secrets(cache, kind, user):
    return sorted(e["secret"] for e in cache.search(kind, query={"home_account_id": user}))


def filled(path, users=200):
    cache = PersistedTokenCache(path, clock=lambda: NOW)
    with cache.batch():
        for i in range(users):
            cache.add(oidc_event(f"user-{i}"))
    return cache


def test_another_process_refreshing_one_token_is_indexed_as_two_entries(path, indexed):
    filled(path)
    reader, writer = PersistedTokenCache(path, clock=lambda: NOW), PersistedTokenCache(path, clock=lambda: NOW)
    assert secrets(reader, AT, "user-7") == ["at-user-7-openid.profile.api"]
    indexed.update(put=0, pop=0, checked=0)
    writer.add(oidc_event("user-7", access_token="at-new", refresh_token="rt-new"))
    indexed.update(put=0, pop=0, checked=0)  # the writer's own work
    assert secrets(reader, AT, "user-7") == ["at-new"] and secrets(reader, RT, "user-7") == ["rt-new"]
    assert indexed == {"put": 2, "pop": 2, "checked": 2}  # the access and refresh token replaced, nothing else


def test_entries_another_process_removed_are_forgotten(path, indexed):
    filled(path, users=20)
    reader, writer = PersistedTokenCache(path, clock=lambda: NOW), PersistedTokenCache(path, clock=lambda: NOW)
    assert secrets(reader, RT, "user-3") == ["rt-user-3"]
    (rt,) = writer.search(RT, query={"home_account_id": "user-3"})
    writer.remove_rt(rt)
    indexed.update(put=0, pop=0, checked=0)
    assert secrets(reader, RT, "user-3") == [] and secrets(reader, RT, "user-4") == ["rt-user-4"]
    assert indexed == {"put": 0, "pop": 1, "checked": 0}


def test_a_document_with_one_bad_entry_loads_the_rest_and_skips_it():
    cache = SerializableTokenCache(clock=lambda: NOW)
    cache.add(oidc_event("alice"))
    document = json.loads(cache.serialize())
    document[RT]["bob-rt"] = dict(next(iter(document[RT].values())), home_account_id="bob", secret="rt-bob")
    document[AT] = {key: dict(entry, expires_on="soon") for key, entry in document[AT].items()}
    with pytest.warns(CacheWarning, match="expires_on"):
        cache.deserialize(json.dumps(document))
    assert secrets(cache, RT, "bob") == ["rt-bob"] and secrets(cache, AT, "alice") == []  # no longer usable
    assert json.loads(cache.serialize()) == document


def test_a_batch_of_changes_is_saved_once_in_a_file_msal_reads(path):
    cache = PersistedTokenCache(path, clock=lambda: NOW)
    writes = []
    real_write = cache.file.write
    cache.file.write = lambda data: writes.append(data) or real_write(data)
    with cache.batch():
        cache.add(oidc_event("alice"))
        (rt,) = cache.search(RT)
        cache.update_rt(rt, "rt-rotated")
    assert len(writes) == 1 and b"\n" not in writes[0]  # compact JSON
    theirs = msal.SerializableTokenCache()
    theirs.deserialize(path.read_text())
    assert [e["secret"] for e in theirs.search(RT)] == ["rt-rotated"]


def test_a_refresh_at_the_provider_saves_the_file_once(idp, path):
    from idp.server import NATIVE_CLIENT
    from nbauth import PublicClientApplication

    app = PublicClientApplication(NATIVE_CLIENT, oidc_authority=idp.issuer, token_cache=PersistedTokenCache(path))
    assert "access_token" in app.acquire_token_by_username_password("alice", "alice-pw", ["api:read"])
    (account,) = app.get_accounts()
    writes = []
    real_write = app.token_cache.file.write
    app.token_cache.file.write = lambda data: writes.append(data) or real_write(data)
    result = app.acquire_token_silent(["api:read"], account, force_refresh=True)
    assert result["token_source"] == "identity_provider"
    assert len(writes) == 1  # the new tokens and the rotated refresh token together
    assert secrets(PersistedTokenCache(path), RT, account["home_account_id"]) == \
        [e["secret"] for e in app.token_cache.search(RT)]
