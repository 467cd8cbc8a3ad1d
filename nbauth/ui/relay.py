"""The click relay: a widget's clicks reach its kernel while a cell waits (issue 17).

A cell waiting in ``token()`` holds the kernel's shell channel, and the kernel reads no widget message
until the cell ends (ipykernel 6, and 7.4 on; ``jupyter-ui-poll`` does nothing on 7.1 and later). So
the widget's front end sends each click twice: over the widget's comm, and as a POST to nbauth's
server extension (``nbauth.serverext.relay``), which appends it as one JSON line to
``<Jupyter runtime dir>/nbauth-relay/<id>``, a file the kernel made for this widget (``id`` is random
per widget). While a sign-in is pending the presenter's thread reads new lines (``Inbox.poll``); each
click carries an id, and the first copy to arrive acts (``Inbox.take``).

The folder must be the user's alone (0700, not a link, not another user's; see ``cache.folder``), the
files are owner-only, and the server appends only to a file that already exists there, so it can
neither create files nor write where no kernel listens. A kernel holds a read lock (POSIX record lock)
on each of its relay files while it lives; a new relay sweeps away files older than a minute that
nobody holds, left by kernels that were killed (``sweep``). Nothing secret enters them: actions, click
ids, a redirect URI, and a browser sign-in's answer sealed (AES-GCM) with a key that only the kernel
and the page hold (``new_key``, ``unseal``).
"""
from __future__ import annotations

import base64
import collections
import errno
import fcntl
import json
import logging
import os
import re
import secrets
import stat
import threading
import time
import weakref
from pathlib import Path
from typing import Any, Callable, Dict, Iterator, Optional

from ..cache.folder import Folder, Refused, foreign

log = logging.getLogger(__name__)

#: The relay's folder, inside the Jupyter runtime folder (``jupyter --runtime-dir``).
FOLDER = "nbauth-relay"
#: A widget's relay id (also the file's name), and a click's id.
RELAY_ID = re.compile(r"[A-Za-z0-9_-]{20,64}")
CLICK_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")
#: What a click may ask for (``hello``: the page says the relay reaches this kernel).
ACTIONS = frozenset({"hello", "cancel", "retry", "sign_out", "confirm_sign_out", "keep",
                     "start", "use_code", "closed", "redirect"})
#: The largest click the server accepts (a sealed browser answer is well under 2 KB).
MAX_CLICK = 4096
_SEEN = 256  # click ids remembered for de-duplication
_ORIGIN = "the sign-in relay folder"
#: Seconds a relay file is left alone after it was made (its kernel locks it at once).
SWEEP_AFTER = 60.0
_OWN: "weakref.WeakValueDictionary[str, Inbox]" = weakref.WeakValueDictionary()  # this process's relays


def runtime_folder() -> Optional[Path]:
    """This process's relay folder (where the Jupyter server's extension writes), or None without
    ``jupyter_core`` (then clicks go over the comm only)."""
    try:
        from jupyter_core.paths import jupyter_runtime_dir
    except ImportError:
        return None
    return Path(jupyter_runtime_dir()) / FOLDER


def check_click(data: Any) -> Dict[str, Any]:
    """``data`` as a click, or ValueError naming what is wrong with it."""
    if not isinstance(data, dict):
        raise ValueError("a click must be a JSON object")
    if data.get("action") not in ACTIONS:
        raise ValueError(f"unknown action {str(data.get('action'))[:40]!r}")
    if not isinstance(data.get("id"), str) or not CLICK_ID.fullmatch(data["id"]):
        raise ValueError("a click needs an id of 1 to 64 letters, digits, '-' or '_'")
    kinds = {"action": str, "id": str, "redirect_uri": str, "cut_off": bool, "sealed": str}
    for name, value in data.items():
        if name not in kinds or not isinstance(value, kinds[name]):
            raise ValueError(f"unexpected field {str(name)[:40]!r} in a click")
    return data


def deliver(folder: Path, relay_id: str, body: bytes) -> bool:
    """Append the click ``body`` (JSON) to the relay file ``relay_id``: the server's half. False when
    no kernel made that file; ValueError for a bad click or id; Refused for a file not the user's."""
    if not RELAY_ID.fullmatch(relay_id):
        raise ValueError("not a relay id")
    if len(body) > MAX_CLICK:
        raise ValueError(f"a click is at most {MAX_CLICK} bytes")
    try:
        click = check_click(json.loads(body))
    except json.JSONDecodeError:
        raise ValueError("a click must be JSON") from None
    line = json.dumps(click, separators=(",", ":")).encode() + b"\n"
    try:
        with Folder(folder, _ORIGIN).opened() as at:
            fd = os.open(relay_id, os.O_WRONLY | os.O_APPEND | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC,
                         dir_fd=at)
    except FileNotFoundError:
        return False
    except OSError as error:
        if error.errno == errno.ELOOP:
            raise Refused(f"the sign-in relay file {folder / relay_id} is a symbolic link") from None
        raise
    try:
        _check_file(fd, folder / relay_id)
        os.write(fd, line)  # one write to an O_APPEND file: lines never interleave
    finally:
        os.close(fd)
    return True


def _check_file(fd: int, path: Path) -> None:
    info = os.fstat(fd)
    why = foreign(info) or ("" if stat.S_ISREG(info.st_mode) else "is not a regular file") or (
        "is open to other users" if info.st_mode & 0o077 else "")
    if why:
        raise Refused(f"the sign-in relay file {path} {why}")


class Inbox:
    """One widget's clicks: those the relay file brings, and the de-duplication of both paths.

    ``act`` gets each click once. ``open`` says whether the relay file exists (else the comm is the
    only path); ``heard`` is set once a line came through the relay (it reaches this kernel).
    """

    def __init__(self, act: Callable[[Dict[str, Any]], None], folder: Optional[Path] = None):
        self.id = secrets.token_urlsafe(18)
        self.heard = threading.Event()
        self._act = act
        self._folder = folder
        self._seen: "collections.OrderedDict[str, None]" = collections.OrderedDict()
        self._lock = threading.Lock()
        self._offset = 0
        self.open = folder is not None and self._create()

    def _create(self) -> bool:
        try:
            with Folder(self._folder, _ORIGIN).opened(create=True) as at:
                held = os.open(self.id, os.O_RDONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC,
                               0o600, dir_fd=at)
                try:
                    fcntl.lockf(held, fcntl.LOCK_SH | fcntl.LOCK_NB)  # while this process lives: see sweep
                except OSError:
                    os.close(held)
                    os.unlink(self.id, dir_fd=at)
                    raise
                _OWN[self.id] = self
                try:
                    sweep(at, time.time())
                except OSError as error:
                    log.debug("the relay folder was not swept: %s", error)
        except (OSError, Refused) as error:
            log.info("no sign-in relay (clicks reach the kernel only when it is idle): %s", error)
            return False
        weakref.finalize(self, _remove, self._folder / self.id, held)  # also at exit
        return True

    def take(self, click: Dict[str, Any]) -> None:
        """A click from either path: acts once per click id (a click without one always acts)."""
        click_id = click.get("id")
        if click_id:
            with self._lock:
                if click_id in self._seen:
                    return
                self._seen[click_id] = None
                while len(self._seen) > _SEEN:
                    self._seen.popitem(last=False)
        self._act(click)

    def poll(self) -> None:
        """Take the clicks the relay file gained since the last poll."""
        for click in self._read():
            self.heard.set()
            if click["action"] != "hello":
                self.take(click)

    def _read(self) -> Iterator[Dict[str, Any]]:
        if not self.open:
            return
        try:
            with Folder(self._folder, _ORIGIN).opened() as at:
                fd = os.open(self.id, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC, dir_fd=at)
            try:
                _check_file(fd, self._folder / self.id)
                data = os.pread(fd, 1 << 16, self._offset)
            finally:
                os.close(fd)
        except (OSError, Refused) as error:
            log.warning("the sign-in relay stopped: %s", error)
            self.open = False
            return
        whole = data[:data.rfind(b"\n") + 1]  # a line still being written waits for the next poll
        self._offset += len(whole)
        for line in whole.splitlines():
            try:
                yield check_click(json.loads(line))
            except ValueError:  # JSONDecodeError too: the server checks, so this is not its line
                log.warning("the sign-in relay skipped a line it could not read")


def _remove(path: Path, held: int) -> None:
    try:
        path.unlink()
    except OSError:
        pass
    os.close(held)


def sweep(folder_fd: int, now: float) -> None:
    """Remove the relay files in the folder (open as ``folder_fd``) that no live process holds and
    that are older than ``SWEEP_AFTER``: their kernels were killed before they could remove them."""
    for name in os.listdir(folder_fd):
        if not RELAY_ID.fullmatch(name) or name in _OWN:  # a lock of this process would not conflict
            continue
        try:
            fd = os.open(name, os.O_WRONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC, dir_fd=folder_fd)
        except OSError:
            continue
        try:
            info = os.fstat(fd)
            if foreign(info) or not stat.S_ISREG(info.st_mode) or now - info.st_mtime < SWEEP_AFTER:
                continue
            try:
                fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:  # held: its kernel lives
                continue
            os.unlink(name, dir_fd=folder_fd)
            log.debug("removed the relay file %s of a kernel that has ended", name)
        finally:
            os.close(fd)


def new_key() -> bytes:
    """A key for sealing one browser sign-in's answer (sent to the page, never written anywhere)."""
    return os.urandom(32)


def encode_key(key: bytes) -> str:
    return base64.urlsafe_b64encode(key).decode("ascii").rstrip("=")


def unseal(key: bytes, sealed: str, relay_id: str) -> Dict[str, Any]:
    """The redirect's parameters the page sealed with ``key`` (AES-GCM: 12-byte nonce, then the
    ciphertext, bound to ``relay_id``); ValueError when they were not sealed with it."""
    from cryptography.exceptions import InvalidTag
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    try:
        raw = base64.urlsafe_b64decode(sealed + "=" * (-len(sealed) % 4))
        params = json.loads(AESGCM(key).decrypt(raw[:12], raw[12:], relay_id.encode("ascii")))
    except (InvalidTag, ValueError) as error:
        raise ValueError("a sealed answer that this sign-in did not seal") from error
    if not isinstance(params, dict) or not all(isinstance(v, str) for v in params.values()):
        raise ValueError("a sealed answer that is not the redirect's parameters")
    return params
