"""nbauth and msal-extensions on one cache file: nbauth takes msal-extensions' lock file
(``<file>.lockfile``) while it writes, and a file read empty or cut short while msal-extensions
rewrites it in place is read again under that lock, never taken as an empty or damaged cache."""
import json
import os
import threading

import msal
import pytest

from nbauth.cache import CredentialType, PersistedTokenCache
from support.cache import NOW, oidc_event
from support.processes import expect_line, kill, python_child

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


pytestmark = [pytestmark, pytest.mark.filterwarnings("error::nbauth.exceptions.CacheWarning")]


@pytest.fixture
def path(cache_path):
    return cache_path


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
        assert int(pid) == os.getpid()
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


#: One process refreshing one account through the shared file for ``seconds``: nbauth's
#: PersistedTokenCache, or msal with msal-extensions' (msal refreshes at every call, since it
#: treats tokens with under 5 minutes left as expired). Each call checks that every account is
#: in the file and that a token comes back; at the end it prints what it saw.
REFRESHING_PROCESS = """
import json, sys, time
kind, path, issuer, client_id, secret, user, password, seconds = sys.argv[1:]
SCOPES = ["api:read"]
if kind == "msal":
    import msal, msal_extensions
    cache = msal_extensions.PersistedTokenCache(msal_extensions.FilePersistence(path))
    app = msal.ConfidentialClientApplication(client_id, client_credential=secret, oidc_authority=issuer,
                                             token_cache=cache)
else:
    import nbauth
    cache = nbauth.PersistedTokenCache(path)
    app = nbauth.PublicClientApplication(client_id, oidc_authority=issuer, token_cache=cache)
if kind == "msal":  # msal's password flow asks Entra's user realm first: sign in with requests, then
    import requests  # let msal redeem the refresh token (it files the tokens in its cache its way)
    endpoint = app.authority.token_endpoint
    signed_in = requests.post(endpoint, auth=(client_id, secret), timeout=20, data={
        "grant_type": "password", "username": user, "password": password,
        "scope": "openid profile offline_access " + " ".join(SCOPES)}).json()
    first = app.acquire_token_by_refresh_token(signed_in["refresh_token"], SCOPES)
else:
    first = app.acquire_token_by_username_password(user, password, SCOPES)
assert "access_token" in first, first.get("error_description")
print("ready", flush=True)
sys.stdin.readline()
seen = {"calls": 0, "refreshes": 0, "failures": [], "missing": []}
deadline = time.monotonic() + float(seconds)
while time.monotonic() < deadline:
    present = {a["home_account_id"] for a in cache.search("Account", query={})}
    if not {"alice", "bob"} <= present:
        seen["missing"].append(sorted(present))
    mine = [a for a in app.get_accounts() if a["home_account_id"] == user]
    result = app.acquire_token_silent(SCOPES, mine[0]) if mine else {"error": "no account"}
    seen["calls"] += 1
    if not result or "access_token" not in result:
        seen["failures"].append(result and result.get("error"))
    elif result.get("token_source") == "identity_provider":
        seen["refreshes"] += 1
    time.sleep(0.2)  # pacing, not waiting for a state
seen["rt"] = [rt["secret"] for rt in cache.search("RefreshToken", query={"client_id": client_id, "home_account_id": user})]
print("seen", json.dumps(seen), flush=True)
"""


@pytest.mark.timeout(180)
def test_two_nbauth_and_one_msal_extensions_process_refresh_through_one_file_for_a_minute(make_idp, path):
    from idp.server import CLIENT_SECRET, CONFIDENTIAL_CLIENT, NATIVE_CLIENT, USERS

    idp = make_idp(access_token_ttl=3)  # rotating refresh tokens: one used twice revokes the grant
    runs = [("nbauth", NATIVE_CLIENT, "", "alice"), ("nbauth", NATIVE_CLIENT, "", "bob"),
            ("msal", CONFIDENTIAL_CLIENT, CLIENT_SECRET, "alice")]
    env = dict(os.environ, PYTHONWARNINGS="error::UserWarning")  # a CacheWarning fails a child
    children = [python_child(REFRESHING_PROCESS, kind, str(path), idp.issuer, client, secret, user, USERS[user], "60",
                             env=env) for kind, client, secret, user in runs]
    try:
        for child in children:  # signed in one after the other, so every account is there from now on
            expect_line(child, "ready")
        for child in children:
            child.stdin.write("go\n")
            child.stdin.flush()
        seen = [json.loads(expect_line(child, "seen").split(" ", 1)[1]) for child in children]
        assert [child.wait(30) for child in children] == [0, 0, 0]
    finally:
        for child in children:
            kill(child)
    for (kind, client, _, user), mine in zip(runs, seen):
        assert mine["missing"] == [] and mine["failures"] == [], (kind, user, mine)
        assert mine["refreshes"] >= 10, (kind, user, mine)  # the tokens were short: refreshes went on
    assert idp.stats().get("refresh_token:error", 0) == 0  # no refresh token refused
    final = PersistedTokenCache(path)
    for (kind, client, _, user), mine in zip(runs, seen):  # each process's last refresh token is the file's
        (rt,) = final.search(CredentialType.REFRESH_TOKEN, query={"client_id": client, "home_account_id": user})
        assert [rt["secret"]] == mine["rt"], (kind, user)
    assert [p.name for p in path.parent.iterdir() if ".damaged-" in p.name] == []
