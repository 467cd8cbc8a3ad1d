"""Real processes sharing one cache file: concurrent sign-ins merge, a killed writer tears nothing."""
import json
import warnings

import pytest

from idp.server import CLIENT_SECRET, CONFIDENTIAL_CLIENT, CONFIDENTIAL_POST_CLIENT, NATIVE_CLIENT, USERS
from nbauth.cache import CredentialType, PersistedTokenCache
from nbauth.exceptions import CacheWarning
from support.processes import expect_line, kill, python_child, run_together

pytestmark = pytest.mark.timeout(120)

#: Signs one user in at the provider (password grant), refreshes once, storing both in the cache.
SIGN_IN_AND_REFRESH = """
import sys, requests
from nbauth.cache import PersistedTokenCache
path, token_endpoint, client_id, secret, user, password = sys.argv[1:]
cache = PersistedTokenCache(path)
auth = (client_id, secret) if secret else None
scope = "openid profile offline_access api:read"

def grant(**data):
    data.setdefault("client_id", client_id)
    response = requests.post(token_endpoint, data=dict(data, scope=scope), auth=auth, timeout=20).json()
    cache.add({"client_id": client_id, "scope": response["scope"].split(), "token_endpoint": token_endpoint,
               "grant_type": data["grant_type"], "response": response, "data": {}})
    return response

print("ready", flush=True)
sys.stdin.readline()
grant(grant_type="password", username=user, password=password)
(rt,) = cache.search("RefreshToken", query={"client_id": client_id, "home_account_id": user})
final = grant(grant_type="refresh_token", refresh_token=rt["secret"])
print("done", final["refresh_token"], flush=True)
"""

#: Adds ``count`` made-up accounts, one save each.
ADD_ACCOUNTS = """
import sys
from nbauth.cache import PersistedTokenCache
from support.cache import oidc_event
path, prefix, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
cache = PersistedTokenCache(path)
print("ready", flush=True)
sys.stdin.readline()
for i in range(count):
    cache.add(oidc_event(f"{prefix}-{i}"))
    print("saved", i, flush=True)
"""


@pytest.fixture(autouse=True)
def cache_warnings_are_errors():
    with warnings.catch_warnings():
        warnings.simplefilter("error", CacheWarning)
        yield



def test_processes_signing_in_and_refreshing_at_once_all_keep_their_tokens(idp, tmp_path):
    path = tmp_path / "token_cache.json"
    token_endpoint = idp.metadata()["token_endpoint"]
    clients = {NATIVE_CLIENT: "", CONFIDENTIAL_CLIENT: CLIENT_SECRET, CONFIDENTIAL_POST_CLIENT: CLIENT_SECRET}
    runs = [(client, user) for client in clients for user in USERS]
    children = [python_child(SIGN_IN_AND_REFRESH, str(path), token_endpoint, client, clients[client], user,
                             USERS[user]) for client, user in runs]
    outputs = run_together(children)
    latest = {run: output.split()[-1] for run, output in zip(runs, outputs)}

    cache = PersistedTokenCache(path)
    assert sorted(a["home_account_id"] for a in cache.search(CredentialType.ACCOUNT)) == sorted(USERS)
    stored = {(rt["client_id"], rt["home_account_id"]): rt["secret"]
              for rt in cache.search(CredentialType.REFRESH_TOKEN)}
    assert stored == latest  # every process's rotated refresh token, none lost to another's write
    assert len(list(cache.search(CredentialType.ACCESS_TOKEN, ["api:read"]))) == len(runs)


def test_many_writers_at_once_lose_no_account(tmp_path):
    path = tmp_path / "token_cache.json"
    writers, each = 6, 15
    run_together([python_child(ADD_ACCOUNTS, str(path), f"p{w}", str(each)) for w in range(writers)])
    accounts = {a["home_account_id"] for a in PersistedTokenCache(path).search(CredentialType.ACCOUNT)}
    assert accounts == {f"p{w}-{i}" for w in range(writers) for i in range(each)}


#: Saves alice, then pauses inside the save of bob at ``where`` until killed.
PAUSE_MID_WRITE = """
import os, sys
from nbauth.cache import PersistedTokenCache
from support.cache import oidc_event
path, where = sys.argv[1:]
cache = PersistedTokenCache(path)
cache.add(oidc_event("alice"))
real_write, real_fsync, real_replace = os.write, os.fsync, os.replace

def pause():
    print("paused", flush=True)
    sys.stdin.readline()

def half_write(fd, data):
    if len(data) < 100:  # the lock file's pid
        return real_write(fd, data)
    written = real_write(fd, bytes(data[: len(data) // 2]))
    pause()
    return written

patches = {
    "mid-data": ("write", half_write),
    "before-replace": ("fsync", lambda fd: (real_fsync(fd), pause())[0]),
    "after-replace": ("replace", lambda *a, **kw: (real_replace(*a, **kw), pause())[0]),
}
name, patch = patches[where]
setattr(os, name, patch)
cache.add(oidc_event("bob"))
"""


@pytest.mark.parametrize("where, survivors", [
    ("mid-data", ["alice"]), ("before-replace", ["alice"]), ("after-replace", ["alice", "bob"]),
])
def test_a_writer_killed_mid_write_leaves_the_old_or_the_new_cache(tmp_path, where, survivors):
    path = tmp_path / "token_cache.json"
    child = python_child(PAUSE_MID_WRITE, str(path), where)
    try:
        expect_line(child, "paused")
    finally:
        kill(child)
    cache = PersistedTokenCache(path, lock_timeout=5)  # the dead writer's lock is gone with it
    assert sorted(a["home_account_id"] for a in cache.search(CredentialType.ACCOUNT)) == survivors
    cache.add({"client_id": "c", "scope": ["s"], "token_endpoint": "https://h/t/token",
               "response": {"access_token": "a"}})
    assert sorted(p.name for p in tmp_path.iterdir()) == ["token_cache.json", "token_cache.json.lock"]


@pytest.mark.parametrize("kill_after", [1, 4, 9, 17])
def test_a_writer_killed_at_any_moment_leaves_a_readable_cache(tmp_path, kill_after):
    path = tmp_path / "token_cache.json"
    child = python_child(ADD_ACCOUNTS, str(path), "user", "1000")
    try:
        expect_line(child, "ready")
        child.stdin.write("go\n")
        child.stdin.flush()
        expect_line(child, f"saved {kill_after - 1}")
    finally:
        kill(child)
    document = json.loads(path.read_text())  # whole JSON, whatever moment the kill hit
    assert {f"user-{i}-127.0.0.1-oidc" for i in range(kill_after)} <= set(document["Account"])
