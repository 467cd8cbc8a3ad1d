"""PersistedTokenCache in one process: where it lives, owner-only, atomic, merged, locked."""
import os
import stat

import pytest

from nbauth.cache import CredentialType, PersistedTokenCache, SerializableTokenCache
from nbauth.cache.persistence import PATH_VARIABLE
from nbauth.exceptions import CacheWarning
from support.cache import HOLD_LOCK, NOW, oidc_event, on_disk, users
from support.processes import expect_line, kill, python_child

ACCOUNT, RT, AT = CredentialType.ACCOUNT, CredentialType.REFRESH_TOKEN, CredentialType.ACCESS_TOKEN
#: Any CacheWarning a test does not expect fails it.
pytestmark = pytest.mark.filterwarnings("error::nbauth.exceptions.CacheWarning")


def cache_at(path, **kwargs):
    return PersistedTokenCache(path, clock=lambda: NOW, **kwargs)


def test_default_path_environment_variable_and_argument(tmp_path, monkeypatch):
    monkeypatch.delenv(PATH_VARIABLE, raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert PersistedTokenCache().path == tmp_path / "xdg" / "nbauth" / "token_cache.json"
    monkeypatch.setenv(PATH_VARIABLE, str(tmp_path / "env.json"))
    assert PersistedTokenCache().path == tmp_path / "env.json"
    assert PersistedTokenCache(tmp_path / "arg.json").path == tmp_path / "arg.json"
    assert not (tmp_path / "xdg").exists() and not (tmp_path / "env.json").exists()  # no I/O yet


def test_saved_owner_only_and_atomically(path):
    cache = cache_at(path)
    cache.add(oidc_event("alice"))
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert sorted(p.name for p in path.parent.iterdir()) == ["token_cache.json", "token_cache.json.lock"]
    msal_reader = SerializableTokenCache()
    msal_reader.deserialize(path.read_text())
    assert users(msal_reader) == ["alice"]
    assert repr(cache) == f"<PersistedTokenCache {str(path)!r}>"


def test_every_change_is_saved_and_seen_by_another_instance(path):
    first, second = cache_at(path), cache_at(path)
    first.add(oidc_event("alice"))
    second.add(oidc_event("bob"))  # merges with alice, who is on disk
    assert users(first) == users(second) == ["alice", "bob"]

    (rt,) = first.search(RT, query={"home_account_id": "bob"})
    first.update_rt(rt, "rt-bob-2")
    assert [r["secret"] for r in second.search(RT, query={"home_account_id": "bob"})] == ["rt-bob-2"]
    (account,) = second.search(ACCOUNT, query={"home_account_id": "alice"})
    second.remove_account(account)
    assert users(first) == ["bob"]
    assert list(on_disk(path)["Account"]) == ["bob-127.0.0.1-oidc"]


def test_stale_view_changes_merge_with_the_file(path):
    """A removal made from an old view does not bring back what others added meanwhile."""
    first, second = cache_at(path), cache_at(path)
    first.add(oidc_event("alice"))
    (alice_rt,) = first.search(RT)
    second.add(oidc_event("bob"))
    first.remove_rt(alice_rt)  # first has not searched since bob arrived
    assert sorted(r["home_account_id"] for r in first.search(RT)) == ["bob"]
    assert sorted(r["home_account_id"] for r in second.search(RT)) == ["bob"]


def test_reads_reload_only_when_the_file_changed(path, monkeypatch):
    reader, writer = cache_at(path), cache_at(path)
    writer.add(oidc_event("alice"))
    reads = []
    real_read = reader.file.read
    monkeypatch.setattr(reader.file, "read", lambda: reads.append(1) or real_read())
    for _ in range(5):
        assert users(reader) == ["alice"]
    assert len(reads) == 1
    writer.add(oidc_event("bob"))
    assert users(reader) == ["alice", "bob"] and len(reads) == 2


def test_deleting_the_file_empties_the_cache(path):
    cache = cache_at(path)
    cache.add(oidc_event("alice"))
    path.unlink()
    assert users(cache) == []


def test_expired_tokens_removed_by_search_are_saved(path):
    cache = cache_at(path)
    cache.add(oidc_event("alice"))
    assert list(cache.search(AT, now=NOW + 10_000)) == []
    assert on_disk(path)["AccessToken"] == {}


def test_serialize_and_deserialize_follow_the_file(path):
    first, second = cache_at(path), cache_at(path)
    first.add(oidc_event("alice"))
    assert "alice" in second.serialize()
    other = SerializableTokenCache()
    other.add(oidc_event("carol"), now=NOW)
    second.deserialize(other.serialize())
    assert users(first) == ["carol"] and not second.has_state_changed


def test_unwritable_folder_keeps_tokens_in_memory_then_saves_them(tmp_path):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the cache folder should be")
    cache = cache_at(blocker / "token_cache.json")
    with pytest.warns(CacheWarning, match="cannot lock the token cache file .*not-a-folder"):
        cache.add(oidc_event("alice"))
    assert users(cache) == ["alice"]  # still served
    blocker.unlink()
    cache.add(oidc_event("bob"))
    assert list(on_disk(blocker / "token_cache.json")["Account"]) == [
        "alice-127.0.0.1-oidc", "bob-127.0.0.1-oidc"]


def test_hung_lock_holder_times_out_with_a_warning_and_loses_nothing(path):
    cache = cache_at(path, lock_timeout=0.2)
    cache.add(oidc_event("alice"))
    holder = python_child(HOLD_LOCK, str(path) + ".lock")
    try:
        expect_line(holder, "locked")
        with pytest.warns(CacheWarning, match=rf"held by process {holder.pid} for more than 0.2 s"):
            cache.add(oidc_event("bob"))
        assert users(cache) == ["alice", "bob"]
        assert list(on_disk(path)["Account"]) == ["alice-127.0.0.1-oidc"]  # not written without the lock
        holder.stdin.close()  # the holder lets go
        assert holder.wait(10) == 0
    finally:
        kill(holder)
    assert users(cache) == ["alice", "bob"]  # the search saved bob once the lock was free
    assert len(on_disk(path)["Account"]) == 2


def test_lock_of_a_killed_process_does_not_block(path):
    holder = python_child(HOLD_LOCK, str(path) + ".lock")
    path.parent.mkdir()
    try:
        expect_line(holder, "locked")
    finally:
        kill(holder)
    cache_at(path, lock_timeout=5).add(oidc_event("alice"))  # a warning would fail the test
    assert len(on_disk(path)["Account"]) == 1


def test_file_descriptors_do_not_accumulate(path):
    cache, writer = cache_at(path), cache_at(path)
    before = len(os.listdir("/proc/self/fd"))
    for i in range(20):
        writer.add(oidc_event(f"user-{i}"))
        list(cache.search(ACCOUNT))
    assert len(os.listdir("/proc/self/fd")) <= before + 2  # one held version per cache
