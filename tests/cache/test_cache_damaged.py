"""Damaged or unsafe cache files: a warning naming the file, a backup, and a working cache."""
import json
import os
import stat
import subprocess

import pytest

from nbauth.cache import CredentialType, PersistedTokenCache
from nbauth.exceptions import CacheWarning
from support.cache import NOW, oidc_event

ACCOUNT = CredentialType.ACCOUNT


@pytest.fixture
def path(tmp_path):
    folder = tmp_path / "nbauth"
    folder.mkdir(mode=0o700)
    return folder / "token_cache.json"


def backups(path):
    return sorted(p for p in path.parent.iterdir() if p.name.startswith(path.name + ".damaged-"))


def still_works(path):
    """Every operation an acquire call makes succeeds, and the file is a valid cache again."""
    cache = PersistedTokenCache(path, clock=lambda: NOW)
    cache.add(oidc_event("alice"))
    assert [a["home_account_id"] for a in cache.search(ACCOUNT)] == ["alice"]
    assert stat.S_ISREG(os.lstat(path).st_mode)
    assert list(json.loads(path.read_text())["Account"]) == ["alice-127.0.0.1-oidc"]


def first_use_warns(path, match):
    cache = PersistedTokenCache(path, clock=lambda: NOW)
    with pytest.warns(CacheWarning, match=match) as caught:
        assert list(cache.search(ACCOUNT)) == []
    assert len(caught) == 1 and str(path) in str(caught[0].message)
    return str(caught[0].message)


DAMAGED_CONTENTS = {
    "truncated JSON": b'{"AccessToken": {"k": {"secret": "s", "expi',
    "binary garbage": bytes(range(256)) * 4,
    "a JSON list": b"[1, 2, 3]",
}  # a JSON object with parts nbauth cannot use is kept: see test_cache_lenient


@pytest.mark.parametrize("content", DAMAGED_CONTENTS.values(), ids=DAMAGED_CONTENTS.keys())
def test_damaged_content_is_moved_aside(path, content):
    path.write_bytes(content)
    message = first_use_warns(path, "is damaged")
    (backup,) = backups(path)
    assert backup.read_bytes() == content  # kept, byte for byte
    assert f"moved to {backup}" in message
    still_works(path)


def test_a_directory_in_its_place(path):
    path.mkdir()
    (path / "inside").write_text("kept")
    first_use_warns(path, "is a directory")
    (backup,) = backups(path)
    assert (backup / "inside").read_text() == "kept"
    still_works(path)


def test_a_planted_symlink_is_not_followed(path, tmp_path):
    target = tmp_path / "elsewhere.json"
    target.write_text('{"AccessToken": {}}')
    path.symlink_to(target)
    first_use_warns(path, "symbolic link")
    (backup,) = backups(path)
    assert os.readlink(backup) == str(target)  # the link itself was moved
    still_works(path)
    assert target.read_text() == '{"AccessToken": {}}'  # never written through the link


def test_a_fifo_in_its_place_does_not_hang(path):
    os.mkfifo(path)
    first_use_warns(path, "not a regular file")
    still_works(path)


def test_open_permissions_are_narrowed_and_the_tokens_kept(path):
    PersistedTokenCache(path, clock=lambda: NOW).add(oidc_event("bob"))
    path.chmod(0o644)
    cache = PersistedTokenCache(path, clock=lambda: NOW)
    with pytest.warns(CacheWarning, match="open to other users; it is now owner-only"):
        assert [a["home_account_id"] for a in cache.search(ACCOUNT)] == ["bob"]
    assert stat.S_IMODE(path.stat().st_mode) == 0o600 and backups(path) == []


@pytest.mark.skipif(os.geteuid() != 0, reason="making a file of another user needs root")
def test_a_file_of_another_user_is_refused(path):
    PersistedTokenCache(path, clock=lambda: NOW).add(oidc_event("mallory"))
    os.chown(path, 65534, 65534)
    first_use_warns(path, "belongs to another user")
    still_works(path)


def test_an_empty_file_is_an_empty_cache(path, recwarn):
    path.write_bytes(b"")
    path.chmod(0o600)
    still_works(path)
    assert not [w for w in recwarn if issubclass(w.category, CacheWarning)] and backups(path) == []


def test_damage_appearing_later_is_handled_too(path):
    cache = PersistedTokenCache(path, clock=lambda: NOW)
    cache.add(oidc_event("alice"))
    path.write_bytes(b"\x00garbage")  # another program overwrote it
    with pytest.warns(CacheWarning, match="is damaged.*the tokens this process holds are saved in a new file"):
        cache.add(oidc_event("bob"))
    assert [a["home_account_id"] for a in cache.search(ACCOUNT)] == ["alice", "bob"]  # alice was in memory
    assert list(json.loads(path.read_text())["Account"]) == ["alice-127.0.0.1-oidc", "bob-127.0.0.1-oidc"]
    assert len(backups(path)) == 1


def test_backups_never_overwrite_each_other(path):
    for _ in range(3):
        path.write_bytes(b"{")
        first_use_warns(path, "is damaged")
    assert len(backups(path)) == 3  # same second, distinct names


DAMAGE = {
    "garbage": lambda path: path.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(100)),
    "directory": lambda path: path.mkdir(),
    "symlink": lambda path: path.symlink_to("/etc/passwd"),
}


@pytest.mark.parametrize("damage", DAMAGE.values(), ids=DAMAGE.keys())
def test_applications_sign_in_over_a_damaged_cache(idp, path, damage):
    import nbauth
    from idp.server import NATIVE_CLIENT, USERS

    damage(path)
    app = nbauth.PublicClientApplication(NATIVE_CLIENT, oidc_authority=idp.issuer,
                                         token_cache=PersistedTokenCache(path))
    with pytest.warns(CacheWarning, match=str(path)):
        assert app.get_accounts() == []
    result = app.acquire_token_by_username_password("bob", USERS["bob"], scopes=["api:read"])
    assert "access_token" in result, result.get("error_description")
    assert [a["username"] for a in app.get_accounts()] == ["bob@example.test"]
    assert len(backups(path)) == 1


def test_import_and_first_use_with_a_damaged_default_cache(path):
    from support.processes import python_child

    path.write_bytes(b"{not json")
    code = "import nbauth; print(list(nbauth.PersistedTokenCache().search('Account')))"
    child = python_child(code, env=dict(os.environ, NBAUTH_CACHE_PATH=str(path)), stderr=subprocess.PIPE)
    out, err = child.communicate(timeout=60)
    assert (child.returncode, out.strip()) == (0, "[]")
    assert "CacheWarning" in err and str(path) in err
