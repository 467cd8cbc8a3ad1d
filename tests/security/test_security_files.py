"""Files no one else may control: the cache folder, the lock files beside the cache, the CLI's
saved settings.

We run as root, so another user is simulated by ``chown`` to ``OTHER_UID``; nbauth compares a
file's owner with ``os.geteuid()``. Refused folders and lock files leave the cache in memory
(a ``CacheWarning`` says why, once); refused settings end the command with status 2.
"""
import json
import logging
import os
import stat

import pytest

from nbauth.cache import PersistedTokenCache
from nbauth.exceptions import CacheWarning, ConfigurationError
from nbauth.cli.settings import load, settings_path
from support.cache import NOW, oidc_event, on_disk, users
from support.cli import cache_path, env, nbauth_command  # noqa: F401 - fixtures

#: Any CacheWarning a test does not expect fails it.
pytestmark = pytest.mark.filterwarnings("error::nbauth.exceptions.CacheWarning")

OTHER_UID = 12345
MEMORY_ONLY = "nbauth keeps tokens in memory only"


def cache_at(path):
    return PersistedTokenCache(path, clock=lambda: NOW, lock_timeout=1)


def mode(path):
    return stat.S_IMODE(os.stat(path, follow_symlinks=False).st_mode)


@pytest.fixture
def folder(tmp_path):
    folder = tmp_path / "nbauth"
    folder.mkdir(mode=0o700)
    return folder


def kept_in_memory_only(cache, warning):
    """Two sign-ins with the cache refused: one warning, both accounts served from memory."""
    with pytest.warns(CacheWarning, match=warning) as said:
        cache.add(oidc_event("alice"))
        cache.add(oidc_event("bob"))
    assert len(said) == 1
    assert {"alice", "bob"} <= set(users(cache))


# ---- the cache folder --------------------------------------------------------------------------
def test_folders_nbauth_creates_are_owner_only_whatever_the_umask(tmp_path):
    path = tmp_path / "home" / ".cache" / "nbauth" / "token_cache.json"
    old_umask = os.umask(0o022)
    try:
        cache_at(path).add(oidc_event("alice"))
    finally:
        os.umask(old_umask)
    assert [mode(folder) for folder in (path.parent.parent.parent, path.parent.parent, path.parent)] == [0o700] * 3
    assert users(cache_at(path)) == ["alice"]


def test_a_cache_folder_open_to_others_is_narrowed_with_a_warning(folder):
    folder.chmod(0o755)
    path = folder / "token_cache.json"
    with pytest.warns(CacheWarning, match=rf"the token cache folder {folder} was open to other users; it is now "
                                          r"owner-only \(0700\)"):
        cache_at(path).add(oidc_event("alice"))
    assert mode(folder) == 0o700
    assert users(cache_at(path)) == ["alice"]


def test_a_cache_folder_that_is_a_symbolic_link_is_refused(tmp_path):
    real = tmp_path / "real"
    real.mkdir(mode=0o700)
    link = tmp_path / "nbauth"
    link.symlink_to(real)
    cache = cache_at(link / "token_cache.json")
    kept_in_memory_only(cache, rf"the token cache folder {link} is a symbolic link, which nbauth does not follow; "
                               + MEMORY_ONLY)
    assert os.listdir(real) == []  # nothing written through the link


def test_a_cache_folder_of_another_user_is_refused(folder):
    os.chown(folder, OTHER_UID, -1)
    cache = cache_at(folder / "token_cache.json")
    kept_in_memory_only(cache, rf"the token cache folder {folder} belongs to another user \(uid {OTHER_UID}\); "
                               + MEMORY_ONLY)
    assert os.listdir(folder) == []
    assert (os.stat(folder).st_uid, mode(folder)) == (OTHER_UID, 0o700)


def test_a_cache_folder_swapped_for_a_symbolic_link_mid_session_is_refused(folder, tmp_path):
    path = folder / "token_cache.json"
    cache = cache_at(path)
    cache.add(oidc_event("alice"))
    folder.rename(tmp_path / "moved")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir(mode=0o700)
    folder.symlink_to(elsewhere)
    with pytest.warns(CacheWarning, match=rf"the token cache folder {folder} is a symbolic link.*{MEMORY_ONLY}"):
        cache.add(oidc_event("bob"))
    assert users(cache) == ["alice", "bob"]
    assert os.listdir(elsewhere) == []
    assert list(on_disk(tmp_path / "moved" / "token_cache.json")["Account"]) == ["alice-127.0.0.1-oidc"]


# ---- lock files ----------------------------------------------------------------------------------
def test_a_cache_lock_file_of_another_user_is_refused(folder):
    path = folder / "token_cache.json"
    cache = cache_at(path)
    cache.add(oidc_event("carol"))
    lock = folder / "token_cache.json.lock"
    os.chown(lock, OTHER_UID, -1)
    kept_in_memory_only(cache, rf"the token cache lock file {lock} belongs to another user \(uid {OTHER_UID}\); "
                               + MEMORY_ONLY)
    assert users(cache) == ["alice", "bob", "carol"]
    assert list(on_disk(path)["Account"]) == ["carol-127.0.0.1-oidc"]  # the file was not written without its lock


def test_a_lock_file_open_to_others_is_narrowed(folder):
    path = folder / "token_cache.json"
    lock = folder / "token_cache.json.lock"
    lock.touch()
    lock.chmod(0o666)
    cache_at(path).add(oidc_event("alice"))
    assert mode(lock) == 0o600


def test_a_refresh_lock_file_of_another_user_is_not_used(folder, caplog):
    cache = cache_at(folder / "token_cache.json")
    cache.add(oidc_event("alice"))
    account = ("client", "127.0.0.1", "alice")
    with cache.refresh_lock(account, timeout=1):
        pass
    (lock,) = folder.glob("token_cache.json.refresh-*.lock")
    lock.write_text("99999")
    os.chown(lock, OTHER_UID, -1)
    with caplog.at_level(logging.WARNING, logger="nbauth"):
        with cache.refresh_lock(account, timeout=1):
            held = True
    assert held
    assert f"the refresh lock file {lock} belongs to another user (uid {OTHER_UID}); refreshing without it" \
        in caplog.text
    assert lock.read_text() == "99999"  # not locked, not written: not used


# ---- the CLI's saved settings -------------------------------------------------------------------
def plant_link(settings, tmp_path):
    planted = tmp_path / "planted.cli.json"
    planted.write_text(json.dumps({"client_id": "planted", "oidc_authority": "https://idp.example"}))
    settings.symlink_to(planted)
    return "is a symbolic link, which nbauth does not follow"


def plant_other_users(settings, tmp_path):
    settings.write_text(json.dumps({"client_id": "planted", "oidc_authority": "https://idp.example"}))
    settings.chmod(0o600)
    os.chown(settings, OTHER_UID, -1)
    return rf"belongs to another user \(uid {OTHER_UID}\)"


@pytest.mark.parametrize("plant", [plant_link, plant_other_users], ids=["symlink", "another user"])
def test_saved_settings_nbauth_must_not_trust_end_the_command_with_status_2(env, cache_path, tmp_path, plant):
    cache_path.parent.mkdir(mode=0o700)
    settings = settings_path(cache_path)
    why = plant(settings, tmp_path)
    with pytest.raises(ConfigurationError, match=rf"the saved settings {settings} {why}"):
        load(settings)
    run = nbauth_command("cache", env=env)
    assert (run.returncode, run.stdout) == (2, "")
    assert f"nbauth: error: the saved settings {settings} " in run.stderr
    assert "planted" not in run.stderr


def test_saved_settings_open_to_others_are_narrowed_with_a_warning(folder):
    settings = settings_path(folder / "token_cache.json")
    settings.write_text(json.dumps({"client_id": "mine"}))
    settings.chmod(0o644)
    with pytest.warns(CacheWarning, match=rf"the saved settings {settings} were open to other users; they are "
                                          r"now owner-only \(0600\)"):
        assert load(settings) == {"client_id": "mine"}
    assert mode(settings) == 0o600


def test_saved_settings_in_a_folder_of_another_user_are_refused(folder):
    settings = settings_path(folder / "token_cache.json")
    settings.write_text(json.dumps({"client_id": "planted"}))
    os.chown(folder, OTHER_UID, -1)
    with pytest.raises(ConfigurationError, match=rf"the saved settings' folder {folder} belongs to another user"):
        load(settings)
