"""The cache's file system failing under a working application: read-only, full, locked by a hung
process, the cache file or its lock replaced mid-session.

Each case: every call returns its token (a ``CacheWarning`` names the file and what happened, no
exception), the refresh token the file held is still there, the rotated one is kept in memory,
and the next call after the fault clears saves it. The folders here are real mounts (a tmpfs, a
read-only bind mount), as root ignores permission bits; without mount rights those tests skip.
"""
import os
import time

import pytest

from support.fake_provider import FakeProvider
from nbauth.exceptions import CacheWarning
from support.cache import HOLD_LOCK
from support.processes import expect_line, kill, python_child
from support.faults import (SCOPES, fill, make_app, read_only, refresh_tokens_in_memory, refresh_tokens_on_disk,
                                 sign_in, tmpfs)

#: Any CacheWarning a test does not expect fails it.
pytestmark = [pytest.mark.timeout(60), pytest.mark.filterwarnings("error::nbauth.exceptions.CacheWarning")]


@pytest.fixture
def provider(fake_server):
    return FakeProvider(fake_server)


@pytest.fixture
def folder(tmp_path):
    folder = tmp_path / "nbauth"
    folder.mkdir(mode=0o700)
    return folder


def signed_in(provider, path, clock, **options):
    """(app, account, refresh token in the file) after a sign-in saved at ``path``."""
    app = make_app(provider, path, clock, **options)
    first, account = sign_in(app)
    assert refresh_tokens_on_disk(path) == [first["refresh_token"]]
    return app, account, first["refresh_token"]


def refresh_during_fault(app, account, path, saved_rt, warning):
    """A refresh while the file cannot be written: the token comes back, a warning says why, the
    file keeps what it had, memory keeps the rotated refresh token. Returns that token."""
    with pytest.warns(CacheWarning, match=warning):
        result = app.acquire_token_silent(SCOPES, account, force_refresh=True)
    assert result["token_source"] == "identity_provider"
    assert refresh_tokens_on_disk(path) == [saved_rt]
    assert refresh_tokens_in_memory(app) == [result["refresh_token"]] != [saved_rt]
    assert app.acquire_token_silent(SCOPES, account)["access_token"] == result["access_token"]
    return result["refresh_token"]


def recovers(app, account, path, rotated_rt):
    """The next call once the fault cleared saves what memory held (no warning)."""
    assert app.acquire_token_silent(SCOPES, account)["token_source"] == "cache"
    assert refresh_tokens_on_disk(path) == [rotated_rt]
    assert not [p.name for p in path.parent.iterdir() if p.name.endswith(".tmp")]


def test_a_read_only_cache_folder(provider, folder, clock):
    path = folder / "token_cache.json"
    app, account, saved_rt = signed_in(provider, path, clock)
    with read_only(folder):
        with pytest.raises(OSError, match="Read-only file system"):
            (folder / "probe").touch()  # really read-only, to root too
        rotated = refresh_during_fault(app, account, path, saved_rt, rf"{path}.*Read-only file system")
    recovers(app, account, path, rotated)


def test_a_full_disk(provider, tmp_path, clock):
    with tmpfs(tmp_path / "small", "256k") as disk:
        path = disk / "nbauth" / "token_cache.json"
        app, account, saved_rt = signed_in(provider, path, clock)
        filler = fill(disk)
        rotated = refresh_during_fault(app, account, path, saved_rt, rf"{path}.*No space left on device")
        filler.unlink()
        recovers(app, account, path, rotated)


def test_the_lock_held_by_a_hung_process(provider, folder, clock):
    path = folder / "token_cache.json"
    app, account, saved_rt = signed_in(provider, path, clock, lock_timeout=0.3)
    holder = python_child(HOLD_LOCK, str(path) + ".lock")  # takes the lock, then never lets go
    try:
        expect_line(holder, "locked")
        rotated = refresh_during_fault(app, account, path, saved_rt, rf"held by process {holder.pid} for more than")
        started = time.monotonic()
        app.acquire_token_silent(SCOPES, account)
        assert time.monotonic() - started < 0.3  # once known stuck, the lock is only tried, not waited for
    finally:
        kill(holder)
    recovers(app, account, path, rotated)


def test_the_lock_file_replaced_by_a_symlink(provider, folder, clock, tmp_path):
    path = folder / "token_cache.json"
    app, account, saved_rt = signed_in(provider, path, clock)
    lock = folder / "token_cache.json.lock"
    lock.unlink()
    lock.symlink_to(tmp_path / "elsewhere.lock")
    rotated = refresh_during_fault(app, account, path, saved_rt, rf"cannot lock the token cache file {path}")
    assert not (tmp_path / "elsewhere.lock").exists()  # never created through the link
    lock.unlink()
    recovers(app, account, path, rotated)


def plant_symlink(path, tmp_path):
    (tmp_path / "planted.json").write_text("{}")
    path.unlink()
    path.symlink_to(tmp_path / "planted.json")


def plant_directory(path, tmp_path):
    path.unlink()
    path.mkdir()


@pytest.mark.parametrize("plant, warning", [(plant_symlink, "is a symbolic link"),
                                            (plant_directory, "is a directory")], ids=["symlink", "directory"])
def test_the_cache_file_replaced_mid_session(provider, folder, clock, tmp_path, plant, warning):
    path = folder / "token_cache.json"
    app, account, saved_rt = signed_in(provider, path, clock)
    cached = app.acquire_token_silent(SCOPES, account)
    plant(path, tmp_path)
    with pytest.warns(CacheWarning, match=rf"{path} {warning}.*the tokens this process holds are saved"):
        assert app.acquire_token_silent(SCOPES, account)["access_token"] == cached["access_token"]
    assert os.path.isfile(path) and not os.path.islink(path)
    assert refresh_tokens_on_disk(path) == [saved_rt] == refresh_tokens_in_memory(app)
    if plant is plant_symlink:
        assert (tmp_path / "planted.json").read_text() == "{}"  # nothing written through the link
    (backup,) = [p for p in folder.iterdir() if ".damaged-" in p.name]
    assert backup.is_symlink() or backup.is_dir()
    assert app.acquire_token_silent(SCOPES, account, force_refresh=True)["token_source"] == "identity_provider"
