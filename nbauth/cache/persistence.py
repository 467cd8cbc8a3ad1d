"""``PersistedTokenCache``: the token cache saved in a file per user, shared by all their processes.

Every change is saved at once: under the user's lock (and msal-extensions' lock file), the file is re-read if another process
changed it, this process's unsaved changes are laid over it (removals included), and the result
replaces the file atomically. So two kernels signing in to different accounts at the same time
both keep their tokens. Searches re-read the file only when its signature (inode, size, mtime)
changed. The lock is held for a file read and write, never across a network call.

Two thread locks, so that a cache hit never waits for file I/O: the *editor* lock serialises
edits and the file I/O they do (waiting for the user's lock, catching up, writing with its
fsyncs); the *memory* lock (``_lock``, which every search takes) is held only for work in memory
(adopting a version read, a change, taking a snapshot of the document to write, holding the
version written). How it stays safe:

- Deadlock: one order, editor lock before memory lock. A thread holding the memory lock never
  waits for the editor lock: a search lets the memory lock go before it removes expired tokens,
  ``derived`` computes outside it, and a search that would catch up or retry a save while another
  thread edits does not wait for that thread (it reads the file beside it, below). Nested edits
  (``add`` calls ``modify``, a search inside ``batch()``) are the editing thread's own: they only
  take the memory lock.
- Lost updates between threads: every change to memory (and to the unsaved changes laid over
  each version) is made under the editor lock, so the snapshot an edit writes holds every change
  made before it, and no change slips in between the snapshot and the unsaved changes being
  cleared.
- Between processes: an edit reads, changes and writes holding the user's lock. An expired access
  token a search met is removed only if the lock is free at once and it is still the expired
  one, never kept as an unsaved change (laid over a newer file, it would remove the token
  another process refreshed in its place).
- A search beside another thread's edit reads a changed file without any lock, and adopts it
  only if no version was adopted since its read began (so memory never goes back to an older
  version); a file read empty, cut short or damaged that way is left to the edit (or the next
  search), memory is served meanwhile. Only a cache that has never read its file waits.

Trouble never raises from here: a damaged file is moved aside to a timestamped backup (and the
tokens this process holds, if any, are written to a new file), a lock held too long or a failed
write keeps the change in memory (saved with the next change), a folder or lock file nbauth
must not use (a symbolic link, another user's) keeps the cache in this process's memory from
then on, and each case gives a ``CacheWarning`` naming the file.
"""
from __future__ import annotations

import contextlib
import json
import logging
import os
import threading
import warnings
from pathlib import Path
from typing import Any, Dict, Iterator, List, Optional, Tuple, Union

from ..clock import Clock, system_clock
from ..exceptions import CacheWarning
from .cachefile import CacheFile, DamagedFile, FileVersion
from .discovery_store import DiscoveryStore
from .folder import Folder, Refused
from .lock import FileLock, LockTimeout
from .msal_lock import CreationLock
from .refresh_locks import AccountKey, lock_name
from .schema import KNOWN_SECTIONS, Entry
from .serializable import SerializableTokenCache, parse_document

logger = logging.getLogger("nbauth")

#: Environment variable naming the cache file (the constructor's ``path`` argument wins).
PATH_VARIABLE = "NBAUTH_CACHE_PATH"
FILE_NAME = "token_cache.json"
_UNREAD = object()  # the signature before the first read (None means "no file")


def _parse(data: bytes) -> Any:
    """The JSON value in a cache file's bytes (its shape is checked as it is loaded); ValueError
    if it is not JSON. No bytes, or only blanks (as MSAL's own recipe can leave a file), is an
    empty cache."""
    return parse_document(data) if data.strip() else {}


def default_path() -> Path:
    """``$NBAUTH_CACHE_PATH``, else ``token_cache.json`` in the user's cache folder for nbauth."""
    configured = os.environ.get(PATH_VARIABLE)
    if configured:
        return Path(configured).expanduser()
    import platformdirs  # only when the default is needed

    return Path(platformdirs.user_cache_dir("nbauth")) / FILE_NAME


class PersistedTokenCache(SerializableTokenCache):
    """A ``SerializableTokenCache`` kept in an owner-only JSON file (MSAL's format).

    Any application takes it as ``token_cache=``. ``path`` defaults to :func:`default_path`;
    ``lock_timeout`` is how long a change waits for another process's lock before it is kept in
    memory (with a warning) until the next change saves it. No I/O happens until first use.
    """

    def __init__(self, path: Union[str, os.PathLike, None] = None, *, lock_timeout: float = 5.0,
                 clock: Clock = system_clock) -> None:
        super().__init__(clock=clock)
        self.path = Path(path).expanduser() if path is not None else default_path()
        self.lock_timeout = lock_timeout
        #: Where the cache's files live (its lock files too): checked at each use, see ``Folder``.
        self.folder = Folder(self.path.parent, "the token cache folder")
        #: The file itself (read, written atomically, moved aside when damaged): a seam for tools and tests.
        self.file = CacheFile(self.path, self.folder)
        self._file_lock = FileLock(self.path.with_name(self.path.name + ".lock"), self.folder,
                                   "the token cache lock file")
        #: msal-extensions' lock on the same file, taken after nbauth's own (see ``msal_lock``).
        self._msal_lock = CreationLock(self.path.with_name(self.path.name + ".lockfile"), self.folder)
        #: Providers' discovery documents, so a new process serves a warm cache without the network.
        self.discovery_store = DiscoveryStore(self.path.with_name(self.path.name + ".discovery.json"),
                                              self._file_lock, lock_timeout)
        self._seen: Any = _UNREAD  # that version's signature (None: there was no file)
        self._version: Optional[FileVersion] = None  # the one the memory holds, kept open
        self._pending: Dict[Tuple[str, str], Optional[Entry]] = {}  # changes not saved yet
        self._editor = threading.RLock()  # held around edits and their file I/O, taken before _lock
        self._editor_thread: Optional[int] = None  # the thread inside the outermost _editing
        self._versions_held = 0  # counts _hold calls: a read beside an edit adopts only if unchanged
        self._lock_stuck = False  # after a timeout, try without waiting until it frees up
        self._trouble = ""  # the last problem warned about, so each is said once
        self._memory_only = False

    def _after_fork(self) -> None:
        """In a forked child: another thread of the parent may have held the lock mid-edit."""
        super()._after_fork()
        self._editor, self._editor_thread = threading.RLock(), None

    def __repr__(self) -> str:
        return f"<PersistedTokenCache {str(self.path)!r}>"

    def _label(self) -> str:
        return f"the token cache file {self.path}"

    def __del__(self) -> None:
        version = getattr(self, "_version", None)  # absent if __init__ failed
        if version is not None:
            version.close()

    # ---- the hooks TokenCache offers ---------------------------------------------------------
    def _put(self, credential_type: str, key: str, entry: Optional[Entry]) -> None:
        super()._put(credential_type, key, entry)
        self._pending[(credential_type, key)] = entry

    @contextlib.contextmanager
    def _editing(self, wait: bool = True) -> Iterator[bool]:
        """Around each change: lock the file, catch up with it, change (holding the memory lock),
        save (without it), unlock; yields False if the lock could not be had (the change is then
        kept unsaved). ``wait=False``: a lock another process holds is not waited for (nor warned
        about). A nested edit yields True: the outermost one saves."""
        if self._memory_only or self._editor_thread == threading.get_ident():
            with self._lock:
                yield True
            return
        with self._editor:
            self._editor_thread = threading.get_ident()
            try:
                with self._locked_file(wait) as locked:
                    if locked:
                        self._catch_up(locked=True)
                    with self._lock:
                        yield locked
                        snapshot = (self._document(), dict(self._pending)) if locked and self._pending else None
                    if snapshot is not None:
                        self._save(*snapshot)
            finally:
                self._editor_thread = None

    def _remove_expired(self, credential_type: str, keys: List[str], when: int) -> None:
        """As in ``TokenCache``, when that costs the search no wait: not while another thread
        edits, nor while another process holds the file (a later search removes them). Never kept
        as an unsaved change: laid over a newer file, it would remove the token another process
        has just refreshed in its place."""
        if self._editor.acquire(blocking=False):
            try:
                with self._editing(wait=False) as saving:
                    if saving:
                        super()._remove_expired(credential_type, keys, when)
            finally:
                self._editor.release()

    # ---- the public API, kept in step with the file ------------------------------------------
    @contextlib.contextmanager
    def refresh_lock(self, account_key: AccountKey, timeout: float) -> Iterator[None]:
        """The account's thread lock, then its lock file beside the cache file
        (``<cache file>.refresh-<hash of the account>.lock``), each waited for up to ``timeout``
        seconds before the refresh goes ahead anyway; a lock file nbauth must not use (another
        user's, a symbolic link) is skipped, with a warning in the log."""
        with super().refresh_lock(account_key, timeout):
            path = self.path.with_name(f"{self.path.name}.refresh-{lock_name(account_key)}.lock")
            with contextlib.ExitStack() as stack:
                try:
                    stack.enter_context(FileLock(path, self.folder, "the refresh lock file").hold(timeout))
                except LockTimeout as error:
                    logger.warning("the refresh lock %s; refreshing anyway", error)
                except Refused as refused:
                    logger.warning("%s; refreshing without it", refused)
                except OSError as error:
                    logger.warning("cannot take the refresh lock %s (%s); refreshing anyway", path, error.strerror)
                yield

    def serialize(self) -> str:
        self._before_read()
        return super().serialize()

    def deserialize(self, state: Optional[Union[str, bytes]]) -> None:
        """Replace the cache, in memory and in the file, with a serialized state."""
        incoming = SerializableTokenCache()
        incoming.deserialize(state)  # raises ConfigurationError before anything changes
        with self._editing():
            self._take_entries_of(incoming)
        self.has_state_changed = False

    # ---- keeping memory and file in step -----------------------------------------------------
    def _before_read(self) -> None:
        """Catch up with the file if it changed; retry saving unsaved changes. Never waits for
        another thread's edit, unless the file was never read (memory holds nothing to serve)."""
        if self._memory_only or (not self._pending and self.file.signature() == self._seen):
            return  # a cache hit: one stat
        if self._editor.acquire(blocking=False):
            try:
                return self._keep_up()
            finally:
                self._editor.release()
        self._catch_up(locked=False, beside=True)
        if self._seen is _UNREAD:
            with self._editor:
                self._keep_up()

    def _keep_up(self) -> None:
        """Holding the editor lock: save unsaved changes if the file's lock is free, catch up."""
        if self._pending:
            with self._editing(wait=False):
                pass
        self._catch_up(locked=False)

    @contextlib.contextmanager
    def _locked_file(self, wait: bool = True) -> Iterator[bool]:
        """Hold the user's lock on the file; yields False if it can't be had (after a warning,
        unless told not to ``wait``: then a lock another process holds is not waited for)."""
        with contextlib.ExitStack() as stack:
            yield self._take_lock(stack, wait)

    def _take_lock(self, stack: contextlib.ExitStack, wait: bool) -> bool:
        timeout = self.lock_timeout if wait and not self._lock_stuck else 0
        try:
            stack.enter_context(self._file_lock.hold(timeout))
            stack.enter_context(self._msal_lock.hold(timeout))
        except Refused as refused:
            self._refuse(refused)
            return False
        except LockTimeout as error:
            if wait and not self._lock_stuck:  # later tries do not wait, nor warn again
                self._lock_stuck = True
                self._warn(f"the token cache lock {error}; the change is kept in memory and "
                           "saved with the next one")
            return False
        except OSError as error:
            self._warn(f"cannot lock the token cache file {self.path} ({error.strerror}); the change "
                       "is kept in memory and saved with the next one")
            return False
        self._lock_stuck = False
        return True

    def _catch_up(self, locked: bool, beside: bool = False) -> None:
        """Load the file if it changed since we last saw it, with our unsaved changes laid over.
        Not ``locked``: only if no other version was adopted meanwhile (it may be older).
        ``beside`` another thread's edit: no file is left to that edit (it may be moving a
        damaged file aside, its tokens not yet marked to be written to a new one)."""
        if self.file.signature() == self._seen:
            return
        held = None if locked else self._versions_held
        try:
            data, version, narrowed = self.file.read()
        except DamagedFile as damage:
            return self._damaged(str(damage), locked)
        except Refused as refused:
            return self._refuse(refused)
        if beside and version is None:
            return
        if not locked and version is not None and not data.strip():  # msal-extensions may be
            version.close()  # rewriting it in place (truncate, then write)
            return self._read_again_locked()
        try:
            self._adopt(_parse(data), version, held)
        except ValueError as error:  # nothing was changed
            if version is not None:
                version.close()
            return self._damaged(f"is damaged: {error}", locked)
        if narrowed:
            self._warn(f"the token cache file {self.path} was open to other users; it is now "
                       "owner-only (0600)")

    def _read_again_locked(self) -> None:
        """Catch up again holding the locks (``_editing`` does): a read without them may have met
        a file another program was rewriting. Left to the editing thread if another one is."""
        if self._editor.acquire(blocking=False):
            try:
                with self._editing():
                    pass
            finally:
                self._editor.release()

    def _damaged(self, damage: str, locked: bool) -> None:
        if not locked:  # move it aside only under the lock: another process may be replacing it
            return self._read_again_locked()
        if self._move_aside(damage):
            self._keep_memory()

    def _keep_memory(self) -> None:
        """With the file gone, what memory holds (the last good version and its changes) is all
        there is: every entry becomes an unsaved change, written to a new file by this edit."""
        with self._lock:
            for name in KNOWN_SECTIONS:
                for key, entry in self._sections[name].entries.items():
                    self._pending[(name, key)] = entry
            self._hold(None)

    def _adopt(self, document: Any, version: Optional[FileVersion], held: Optional[int] = None) -> None:
        """Load a version of the file, with this process's unsaved changes laid over it; if
        ``held`` is given, only if no version was held since ``_versions_held`` was ``held``."""
        with self._lock:
            if held is not None and held != self._versions_held:
                if version is not None:
                    version.close()
                return
            self._load_document(document)
            for (name, key), entry in self._pending.items():
                self._assign(name, key, entry)
            self._hold(version)

    def _hold(self, version: Optional[FileVersion]) -> None:
        """Hold ``version`` as the one memory reflects (call it holding the memory lock)."""
        if self._version is not None:
            self._version.close()
        self._version = version
        self._seen = version.signature if version is not None else None
        self._versions_held += 1

    def _move_aside(self, damage: str) -> bool:
        """Move the damaged file to a backup (True), or switch to memory only (False)."""
        try:
            backup = self.file.move_aside(self._clock())
        except Refused as refused:
            self._refuse(refused)
            return False
        except OSError as error:
            self._memory_only = True
            self._warn(f"the token cache file {self.path} {damage}, and cannot be moved aside "
                       f"({error.strerror}); nbauth keeps tokens in memory only")
            return False
        kept = "the tokens this process holds are saved in a new file" if self._holds_entries() \
            else "nbauth continues with an empty cache"
        self._warn(f"the token cache file {self.path} {damage}; it was moved to {backup} and {kept}")
        return True

    def _holds_entries(self) -> bool:
        return any(len(self._sections[name]) for name in KNOWN_SECTIONS)

    def _save(self, document: Dict[str, Any], saving: Dict[Tuple[str, str], Optional[Entry]]) -> None:
        """Write ``document``, a snapshot holding the unsaved changes ``saving``; called holding
        the editor lock (so nothing else changes) but not the memory lock."""
        data = json.dumps(document, separators=(",", ":")).encode()  # compact: C encoder, smaller file
        self.file.remove_leftovers()
        try:
            version = self.file.write(data)
        except Refused as refused:
            return self._refuse(refused)
        except OSError as error:
            self._warn(f"cannot save the token cache file {self.path} ({error.strerror}); the change "
                       "is kept in memory and saved with the next one")
            return
        with self._lock:
            self._hold(version)
            for change, entry in saving.items():
                if self._pending.get(change, _UNREAD) is entry:
                    del self._pending[change]
        self._trouble = ""
        self.has_state_changed = False

    def _refuse(self, refused: Refused) -> None:
        """A file or folder nbauth must not use: from now on the cache lives in this process only."""
        self._memory_only = True
        self._warn(f"{refused}; nbauth keeps tokens in memory only")

    def _warn(self, message: str) -> None:
        if message != self._trouble:
            self._trouble = message
            warnings.warn(message, CacheWarning, stacklevel=2)
