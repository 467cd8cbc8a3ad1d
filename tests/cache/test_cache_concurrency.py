"""Threads sharing a PersistedTokenCache: a cache hit never waits for another thread's file I/O
(a save's write and fsyncs, a wait for another process's lock), and no change is lost between
threads or processes."""
import threading

import pytest

from nbauth.cache import CredentialType, PersistedTokenCache, SerializableTokenCache, TokenCache
from nbauth.cache.cachefile import CacheFile
from nbauth.exceptions import CacheWarning
from support.cache import HOLD_LOCK, NOW, oidc_event, on_disk, users
from support.processes import expect_line, kill, python_child, run_together

pytestmark = [pytest.mark.timeout(120), pytest.mark.filterwarnings("error::nbauth.exceptions.CacheWarning")]
ACCOUNT, AT, RT = CredentialType.ACCOUNT, CredentialType.ACCESS_TOKEN, CredentialType.REFRESH_TOKEN
WAIT = 10  # seconds: only ever reached when something is wrong


def cache_at(path, **kwargs):
    return PersistedTokenCache(path, clock=lambda: NOW, **kwargs)


def in_thread(call):
    """Run ``call`` in a daemon thread; (event set when it returned or raised, its outcome list)."""
    done, outcome = threading.Event(), []

    def run():
        try:
            outcome.append(call())
        except BaseException as error:  # noqa: B036 - handed to the test
            outcome.append(error)
        finally:
            done.set()
    threading.Thread(target=run, daemon=True).start()
    return done, outcome


def hit(cache, user="alice"):
    """A cache hit on ``user``'s access token: its secret."""
    (entry,) = cache.search(AT, ["api"], query={"home_account_id": user})
    return entry["secret"]


def test_a_cache_hit_does_not_wait_for_another_threads_save(path):
    cache = cache_at(path)
    cache.add(oidc_event("alice"))
    inside, release = threading.Event(), threading.Event()
    real_write = cache.file.write

    def held_write(data):
        inside.set()
        assert release.wait(WAIT)
        return real_write(data)
    cache.file.write = held_write
    saved, outcome = in_thread(lambda: cache.add(oidc_event("bob")))
    try:
        assert inside.wait(WAIT)
        read, found = in_thread(lambda: (hit(cache), users(cache)))
        assert read.wait(WAIT), "a cache hit waited for another thread's save"
        assert found == [("at-alice-openid.profile.api", ["alice", "bob"])]  # bob is in memory already
        assert not saved.is_set() and list(on_disk(path)["Account"]) == ["alice-127.0.0.1-oidc"]
    finally:
        release.set()
    assert saved.wait(WAIT) and outcome == [None]
    assert list(on_disk(path)["Account"]) == ["alice-127.0.0.1-oidc", "bob-127.0.0.1-oidc"]


def test_a_search_beside_an_edit_moving_a_damaged_file_aside_loses_no_token(path):
    cache = cache_at(path)
    cache.add(oidc_event("alice"))
    path.write_bytes(b"\x00garbage")  # another program overwrote it
    inside, release = threading.Event(), threading.Event()
    real_move_aside = cache.file.move_aside

    def held_move_aside(now):
        backup = real_move_aside(now)
        inside.set()  # the file is gone; memory's tokens not yet marked to be written to a new one
        assert release.wait(WAIT)
        return backup
    cache.file.move_aside = held_move_aside

    def add_bob():
        with pytest.warns(CacheWarning, match="is damaged.*the tokens this process holds are saved in a new file"):
            cache.add(oidc_event("bob"))
    saved, outcome = in_thread(add_bob)
    try:
        assert inside.wait(WAIT)
        read, found = in_thread(lambda: users(cache))
        assert read.wait(WAIT) and found == [["alice"]]  # memory served, the missing file left to the edit
    finally:
        release.set()
    assert saved.wait(WAIT) and outcome == [None]
    assert sorted(on_disk(path)["Account"]) == ["alice-127.0.0.1-oidc", "bob-127.0.0.1-oidc"]
    assert users(cache) == ["alice", "bob"]


#: Takes the cache's lock, writes ``carol`` into the file under it, and holds it until a line comes.
WRITE_AND_HOLD = """
import sys
from pathlib import Path
from nbauth.cache import SerializableTokenCache
from nbauth.cache.cachefile import CacheFile
from nbauth.cache.lock import FileLock
from support.cache import NOW, oidc_event
path = Path(sys.argv[1])
with FileLock(path.with_name(path.name + ".lock")).hold(timeout=10):
    theirs = SerializableTokenCache()
    theirs.deserialize(path.read_text())
    theirs.add(oidc_event("carol"), now=NOW)
    CacheFile(path).write(theirs.serialize().encode())
    print("written", flush=True)
    sys.stdin.readline()
print("released", flush=True)
"""


def test_a_cache_hit_does_not_wait_while_another_thread_awaits_another_process_lock(path):
    """...and it sees what that process wrote meanwhile, read beside the waiting edit."""
    cache = cache_at(path, lock_timeout=WAIT)
    cache.add(oidc_event("alice"))
    assert hit(cache) == "at-alice-openid.profile.api"
    child = python_child(WRITE_AND_HOLD, str(path))
    try:
        expect_line(child, "written")
        saved, outcome = in_thread(lambda: cache.add(oidc_event("bob")))
        assert not saved.wait(0.2)  # waiting for the child's lock
        read, found = in_thread(lambda: (hit(cache, "carol"), users(cache)))
        assert read.wait(WAIT), "a cache hit waited while another thread awaited a lock"
        assert found == [("at-carol-openid.profile.api", ["alice", "carol"])]
        child.stdin.write("go\n")
        child.stdin.flush()
        expect_line(child, "released")
        assert saved.wait(WAIT) and outcome == [None]
    finally:
        kill(child)
    assert sorted(on_disk(path)["Account"]) == [f"{user}-127.0.0.1-oidc" for user in ("alice", "bob", "carol")]
    assert users(cache_at(path)) == ["alice", "bob", "carol"]


@pytest.mark.parametrize("make", [lambda path: TokenCache(clock=lambda: NOW), cache_at], ids=["memory", "persisted"])
def test_an_expired_token_replaced_after_the_search_saw_it_is_kept(path, make):
    """A search removes the expired tokens it met after letting its lock go: one that another
    thread replaced with a fresh token in between (same key) stays."""
    cache = make(path)
    cache.add(oidc_event("alice", expires_in=60), now=NOW)
    real_remove = cache._remove_expired

    def racing_refresh(*args):  # another thread files the refreshed token just then
        in_thread(lambda: cache.add(oidc_event("alice", access_token="at-fresh"), now=NOW + 100))[0].wait(WAIT)
        real_remove(*args)
    cache._remove_expired = racing_refresh
    assert list(cache.search(AT, ["api"], now=NOW + 100)) == []  # the expired one is not served
    del cache._remove_expired
    assert [e["secret"] for e in cache.search(AT, ["api"], now=NOW + 100)] == ["at-fresh"]


def test_an_expired_token_met_while_another_process_holds_the_file_is_not_removed_over_its_refresh(path):
    """The removal is skipped, not kept unsaved: laid over the file that process writes, it would
    remove the token it refreshed."""
    cache = cache_at(path)
    cache.add(oidc_event("alice", expires_in=60), now=NOW)
    child = python_child(HOLD_LOCK, str(path) + ".lock")
    try:
        expect_line(child, "locked")
        assert list(cache.search(AT, ["api"], now=NOW + 100)) == []  # expired: not served, not waited for
        theirs = SerializableTokenCache()
        theirs.deserialize(path.read_text())
        theirs.add(oidc_event("alice", access_token="at-fresh"), now=NOW + 100)
        CacheFile(path).write(theirs.serialize().encode())  # as the lock's holder would
        child.stdin.close()
        assert child.wait(WAIT) == 0
    finally:
        kill(child)
    assert [e["secret"] for e in cache.search(AT, ["api"], now=NOW + 100)] == ["at-fresh"]
    assert [e["secret"] for e in on_disk(path)[AT].values()] == ["at-fresh"]


#: Threads of one process add accounts (one save each, some in a batch with a rotation) while a
#: thread reads; prints how many reads it made and the slowest read's share of the writes' time.
THREADS_WRITING = """
import sys, threading
from nbauth.cache import CredentialType, PersistedTokenCache
from support.cache import oidc_event
path, prefix, threads, each = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
cache = PersistedTokenCache(path)
cache.add(oidc_event(f"{prefix}-reader"))
print("ready", flush=True)
sys.stdin.readline()
stop, misses = threading.Event(), []

def write(t):
    for i in range(each):
        user = f"{prefix}-{t}-{i}"
        if i % 3:
            cache.add(oidc_event(user))
            continue
        with cache.batch():
            cache.add(oidc_event(user))
            (rt,) = cache.search(CredentialType.REFRESH_TOKEN, query={"home_account_id": user})
            cache.update_rt(rt, f"rt-{user}-rotated")

def read():
    while not stop.is_set():
        found = list(cache.search(CredentialType.ACCESS_TOKEN, ["api"], query={"home_account_id": f"{prefix}-reader"}))
        if len(found) != 1:
            misses.append(found)

reader = threading.Thread(target=read)
reader.start()
writers = [threading.Thread(target=write, args=(t,)) for t in range(threads)]
for writer in writers:
    writer.start()
for writer in writers:
    writer.join()
stop.set()
reader.join()
print("done", len(misses), flush=True)
"""


def test_threads_of_several_processes_editing_at_once_lose_nothing(tmp_path):
    path = tmp_path / "token_cache.json"
    processes, threads, each = 3, 3, 6
    outputs = run_together([python_child(THREADS_WRITING, str(path), f"p{p}", str(threads), str(each))
                            for p in range(processes)])
    assert [output.split()[-2:] for output in outputs] == [["done", "0"]] * processes  # every read a hit
    cache = cache_at(path)
    users_written = {f"p{p}-{t}-{i}" for p in range(processes) for t in range(threads) for i in range(each)}
    assert set(users(cache)) == users_written | {f"p{p}-reader" for p in range(processes)}
    rotated = {rt["home_account_id"] for rt in cache.search(RT) if rt["secret"].endswith("-rotated")}
    assert rotated == {user for user in users_written if int(user.rsplit("-", 1)[1]) % 3 == 0}
