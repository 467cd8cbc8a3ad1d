"""The click relay's files (``nbauth.ui.relay``): what the server may append, what the kernel reads."""
from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
import time

import pytest
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from nbauth.cache.folder import Refused
from nbauth.ui.relay import Inbox, deliver, new_key, unseal


@pytest.fixture
def folder(tmp_path):
    return tmp_path / "runtime" / "nbauth-relay"


@pytest.fixture
def taken():
    return []


@pytest.fixture
def inbox(folder, taken):
    return Inbox(taken.append, folder)


def click(action="cancel", id="c1", **extra) -> bytes:
    return json.dumps({"action": action, "id": id, **extra}).encode()


def test_the_kernel_makes_an_owner_only_file_in_an_owner_only_folder(inbox, folder):
    assert inbox.open
    assert oct(os.stat(folder).st_mode & 0o777) == "0o700"
    assert oct(os.stat(folder / inbox.id).st_mode & 0o777) == "0o600"
    assert len(inbox.id) >= 22


def test_a_delivered_click_is_taken_once_whichever_path_brings_it_first(inbox, folder, taken):
    assert deliver(folder, inbox.id, click("cancel", "abc"))
    inbox.poll()
    inbox.take({"action": "cancel", "id": "abc"})  # the comm's copy, later
    inbox.poll()
    assert taken == [{"action": "cancel", "id": "abc"}] and inbox.heard.is_set()
    inbox.take({"action": "cancel"})  # a core button's click (comm only) has no id: it always acts
    assert len(taken) == 2


def test_hello_says_the_relay_reaches_the_kernel_and_acts_on_nothing(inbox, folder, taken):
    deliver(folder, inbox.id, click("hello", "h1"))
    assert not inbox.heard.is_set()
    inbox.poll()
    assert inbox.heard.is_set() and taken == []


def test_a_click_for_no_waiting_kernel_is_not_delivered(folder, inbox):
    assert deliver(folder, "x" * 24, click()) is False
    assert not (folder / ("x" * 24)).exists()  # the server never creates a file


@pytest.mark.parametrize("relay_id, body, words", [
    ("../../etc/passwd-xxxxxxxxxxxxxxx", click(), "not a relay id"),
    ("short", click(), "not a relay id"),
    ("y" * 24, b"not json", "must be JSON"),
    ("y" * 24, click("rm -rf"), "unknown action"),
    ("y" * 24, click(id="a b"), "needs an id"),
    ("y" * 24, click(code="SECRET"), "unexpected field 'code'"),
    ("y" * 24, click(cut_off="yes"), "unexpected field 'cut_off'"),
    ("y" * 24, click(redirect_uri="x" * 5000), "at most 4096 bytes"),
])
def test_the_server_refuses_what_is_not_a_click(folder, relay_id, body, words):
    with pytest.raises(ValueError, match=words):
        deliver(folder, relay_id, body)


def test_files_and_folders_someone_else_controls_are_refused(inbox, folder, tmp_path):
    os.chmod(folder / inbox.id, 0o644)
    with pytest.raises(Refused, match="is open to other users"):
        deliver(folder, inbox.id, click())
    os.chmod(folder / inbox.id, 0o600)
    os.chown(folder / inbox.id, 12345, -1)
    with pytest.raises(Refused, match="belongs to another user"):
        deliver(folder, inbox.id, click())
    os.unlink(folder / inbox.id)
    (tmp_path / "elsewhere").write_text("")
    os.symlink(tmp_path / "elsewhere", folder / inbox.id)
    with pytest.raises(Refused, match="symbolic link"):
        deliver(folder, inbox.id, click())
    inbox.poll()
    assert not inbox.open  # the kernel stops reading a file it did not make
    os.chown(folder, 12345, -1)
    with pytest.raises(Refused, match="belongs to another user"):
        deliver(folder, "z" * 24, click())
    assert not Inbox(list().append, folder).open  # nor does a kernel use such a folder


def test_a_line_still_being_written_waits_for_the_next_poll(inbox, folder, taken):
    with open(folder / inbox.id, "ab") as file:
        file.write(click("cancel", "part")[:10])
    inbox.poll()
    assert taken == []
    with open(folder / inbox.id, "ab") as file:
        file.write(click("cancel", "part")[10:] + b"\n")
    inbox.poll()
    assert [c["id"] for c in taken] == ["part"]


def test_a_sealed_answer_opens_only_with_its_key_and_relay_id():
    key, params = new_key(), {"code": "the-code", "state": "s1"}
    nonce = os.urandom(12)
    sealed = base64.urlsafe_b64encode(nonce + AESGCM(key).encrypt(nonce, json.dumps(params).encode(), b"relay-1"))
    sealed = sealed.decode().rstrip("=")
    assert unseal(key, sealed, "relay-1") == params
    for wrong in ((new_key(), sealed, "relay-1"), (key, sealed, "relay-2"), (key, sealed[:-4], "relay-1")):
        with pytest.raises(ValueError, match="did not seal"):
            unseal(*wrong)


CHILD = ("import sys\nfrom pathlib import Path\nfrom nbauth.ui.relay import Inbox\n"
         "inbox = Inbox(lambda click: None, Path(sys.argv[1]))\nprint(inbox.id, flush=True)\nsys.stdin.read()\n")


def kernel_with_a_relay(folder):
    """A process holding a relay in ``folder`` until its stdin closes; it and its relay's id."""
    child = subprocess.Popen([sys.executable, "-c", CHILD, str(folder)], stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE, text=True)
    return child, child.stdout.readline().strip()


def backdate(path, seconds=120):
    stamp = time.time() - seconds
    os.utime(path, (stamp, stamp))


def test_a_new_relay_sweeps_the_files_of_killed_kernels_and_leaves_live_ones(folder, inbox, taken):
    killed, killed_id = kernel_with_a_relay(folder)
    live, live_id = kernel_with_a_relay(folder)
    try:
        killed.kill()
        killed.wait(10)
        for name in (killed_id, live_id, inbox.id):
            backdate(folder / name)
        abandoned = "y" * 24  # no holder, but made just now: perhaps a kernel about to lock it
        (folder / abandoned).touch(mode=0o600)
        Inbox(taken.append, folder)
        left = set(os.listdir(folder))
        assert killed_id not in left, "the killed kernel's relay file stayed"
        assert {live_id, inbox.id, abandoned} <= left
        assert deliver(folder, live_id, click()) and deliver(folder, inbox.id, click())
    finally:
        live.stdin.close()
        live.wait(10)
        killed.stdout.close()
        live.stdout.close()
    assert live_id not in os.listdir(folder)  # a kernel that ends removes its own
