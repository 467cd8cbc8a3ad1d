"""nbauth and msal-extensions on one cache file: nbauth takes msal-extensions' lock file
(``<file>.lockfile``) while it writes, and a file read empty or cut short while msal-extensions
rewrites it in place is read again under that lock, never taken as an empty or damaged cache."""
import json
import threading
import warnings

import msal
import pytest

from nbauth.cache import CredentialType, PersistedTokenCache
from nbauth.exceptions import CacheWarning
from support.cache import NOW, expect_line, kill, oidc_event, python_child

pytestmark = pytest.mark.timeout(60)
ACCOUNT = CredentialType.ACCOUNT

#: msal-extensions' writer, stopped half-way: it takes its lock, truncates the file in place (as
#: its FilePersistence.save does) and writes ``part`` of the new content; on a line from the
#: test it writes the rest and lets the lock go.
MSAL_EXTENSIONS_WRITER = """
import sys
from msal_extensions.token_cache import CrossPlatLock
path, content, part = sys.argv[1], sys.argv[2], float(sys.argv[3])
with CrossPlatLock(path + ".lockfile"):
    with open(path, "w+") as handle:
        cut = int(len(content) * part)
        handle.write(content[:cut])
        handle.flush()
        print("writing", flush=True)
        sys.stdin.readline()
        handle.write(content[cut:])
print("done", flush=True)
"""


@pytest.fixture(autouse=True)
def cache_warnings_are_errors():
    with warnings.catch_warnings():
        warnings.simplefilter("error", CacheWarning)
        yield


@pytest.fixture
def path(tmp_path):
    folder = tmp_path / "nbauth"
    folder.mkdir(mode=0o700)
    return folder / "token_cache.json"


def users(cache) -> list:
    return sorted(a["home_account_id"] for a in cache.search(ACCOUNT))


def in_thread(call):
    """Run ``call`` in a thread; (event set when it returned, list that receives its result)."""
    done, result = threading.Event(), []
    threading.Thread(target=lambda: (result.append(call()), done.set()), daemon=True).start()
    return done, result


def msal_document(*subjects) -> str:
    cache = msal.SerializableTokenCache()
    for subject in subjects:
        cache.add(oidc_event(subject), now=NOW)
    return cache.serialize()


@pytest.mark.parametrize("part", [0.0, 0.5], ids=["read empty", "read cut short"])
def test_a_file_msal_extensions_is_rewriting_is_read_again_under_its_lock(path, part):
    writer = PersistedTokenCache(path, clock=lambda: NOW)
    writer.add(oidc_event("alice"))
    reader = PersistedTokenCache(path, clock=lambda: NOW)
    assert users(reader) == ["alice"]
    child = python_child(MSAL_EXTENSIONS_WRITER, str(path), msal_document("alice", "bob"), str(part))
    try:
        expect_line(child, "writing")
        done, result = in_thread(lambda: users(reader))
        assert not done.wait(0.5), f"read {result} while msal-extensions was writing"
        child.stdin.write("go\n")
        child.stdin.flush()
        expect_line(child, "done")
        assert done.wait(10) and result == [["alice", "bob"]]
    finally:
        kill(child)
    assert [p.name for p in path.parent.iterdir() if ".damaged-" in p.name] == []


#: msal-extensions' lock held until the test sends a line.
MSAL_EXTENSIONS_LOCK = """
import sys
from msal_extensions.token_cache import CrossPlatLock
with CrossPlatLock(sys.argv[1] + ".lockfile"):
    print("locked", flush=True)
    sys.stdin.readline()
print("released", flush=True)
"""


def test_nbauth_waits_for_msal_extensions_lock_to_write(path):
    cache = PersistedTokenCache(path, clock=lambda: NOW)
    cache.add(oidc_event("alice"))
    child = python_child(MSAL_EXTENSIONS_LOCK, str(path))
    try:
        expect_line(child, "locked")
        done, _ = in_thread(lambda: cache.add(oidc_event("bob")))
        assert not done.wait(0.5), "nbauth wrote while msal-extensions held its lock"
        child.stdin.write("go\n")
        child.stdin.flush()
        expect_line(child, "released")
        assert done.wait(10)
    finally:
        kill(child)
    assert users(PersistedTokenCache(path, clock=lambda: NOW)) == ["alice", "bob"]


def test_nbauth_holds_msal_extensions_lock_file_while_it_writes(path):
    cache = PersistedTokenCache(path, clock=lambda: NOW)
    lock_file = path.with_name(path.name + ".lockfile")
    with cache.batch():
        cache.add(oidc_event("alice"))
        pid, program = lock_file.read_text().split(" ", 1)  # as msal-extensions writes it
        assert int(pid) == __import__("os").getpid()
    assert not lock_file.exists()  # deleted, as msal-extensions does
    assert json.loads(path.read_text())["Account"]


def test_a_lock_file_left_by_a_crashed_process_is_removed(path):
    lock_file = path.with_name(path.name + ".lockfile")
    child = python_child("print('ready', flush=True)")
    expect_line(child, "ready")
    kill(child)  # its pid names no process now
    lock_file.write_text(f"{child.pid} crashed.py")
    cache = PersistedTokenCache(path, clock=lambda: NOW, lock_timeout=0.5)
    cache.add(oidc_event("alice"))
    assert users(PersistedTokenCache(path, clock=lambda: NOW)) == ["alice"] and not lock_file.exists()
