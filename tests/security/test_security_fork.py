"""A process forked while one of its threads holds the cache lock or a refresh lock.

Once the parent lets go, a third process gets the lock at once though the forked child still
runs; and the child itself can take the lock and use the cache (no in-process lock stays held
by a thread that does not exist in it).
"""
import contextlib
import os
import select
import signal
import threading
import time

import pytest

from nbauth.cache import PersistedTokenCache, TokenCache
from nbauth.provider.authority import discovery, parse_authority
from nbauth.transport import Transport
from support.cache import NOW, oidc_event, on_disk, users
from support.fake_provider import MOUNT, FakeProvider
from support.processes import expect_line, kill, python_child

pytestmark = pytest.mark.timeout(60)

#: A third process: says "locked" if it gets the lock at ``argv[1]`` within ``argv[2]`` seconds.
TRY_LOCK = """
import sys
from nbauth.cache.lock import FileLock, LockTimeout
try:
    with FileLock(sys.argv[1]).hold(timeout=float(sys.argv[2])):
        print("locked", flush=True)
except LockTimeout as error:
    print("timed out:", error, flush=True)
"""
ACCOUNT = ("client", "127.0.0.1", "alice")


@contextlib.contextmanager
def held_by_a_thread(hold):
    """Run ``with hold():`` in a thread of this process; yields once it is held, with an event
    that ends the hold."""
    held, release = threading.Event(), threading.Event()

    def holder():
        with hold():
            held.set()
            release.wait(30)

    thread = threading.Thread(target=holder)
    thread.start()
    try:
        assert held.wait(10)
        yield release
    finally:
        release.set()
        thread.join(10)


class ForkedChild:
    """A child forked now; it runs ``work()`` when told to go, writes what it returns, exits."""

    def __init__(self, work):
        go_read, self._go = os.pipe()
        self._out, out_write = os.pipe()
        self.pid = os.fork()
        if self.pid == 0:  # the child: never returns into pytest
            try:
                os.close(self._go)
                os.read(go_read, 1)
                os.write(out_write, str(work()).encode())
            except BaseException as error:
                os.write(out_write, repr(error).encode())
            finally:
                os._exit(0)
        os.close(go_read)
        os.close(out_write)

    def alive(self):
        return os.waitpid(self.pid, os.WNOHANG) == (0, 0)

    def run(self, timeout=10):
        """Let it go; what its work returned (or "no answer" if it hangs past ``timeout``)."""
        os.write(self._go, b"!")
        if not select.select([self._out], [], [], timeout)[0]:
            return "no answer"
        return os.read(self._out, 4096).decode()

    def end(self):
        with contextlib.suppress(ProcessLookupError):
            os.kill(self.pid, signal.SIGKILL)
        with contextlib.suppress(ChildProcessError):
            os.waitpid(self.pid, 0)
        os.close(self._go)
        os.close(self._out)


def a_third_process_locks(lock_path):
    third = python_child(TRY_LOCK, str(lock_path), "3")
    try:
        return expect_line(third, "")
    finally:
        kill(third)


@pytest.fixture
def path(tmp_path):
    path = tmp_path / "token_cache.json"
    PersistedTokenCache(path, clock=lambda: NOW).add(oidc_event("alice"))
    return path


def test_a_child_forked_while_a_thread_holds_the_cache_lock(path):
    cache = PersistedTokenCache(path, clock=lambda: NOW, lock_timeout=5)

    def save_carol():
        started = time.monotonic()
        cache.add(oidc_event("carol"))
        return f"saved in {time.monotonic() - started:.1f} s"

    @contextlib.contextmanager
    def adding_bob():
        with cache.batch():  # saved when the batch ends
            cache.add(oidc_event("bob"))
            yield

    with held_by_a_thread(adding_bob) as release:
        child = ForkedChild(save_carol)
        release.set()
    try:
        assert a_third_process_locks(path.with_name(path.name + ".lock")) == "locked"
        assert child.alive()
        assert child.run() == "saved in 0.0 s"
    finally:
        child.end()
    assert list(on_disk(path)["Account"]) == ["alice-127.0.0.1-oidc", "bob-127.0.0.1-oidc", "carol-127.0.0.1-oidc"]
    assert users(cache) == ["alice", "bob", "carol"]


def test_a_child_forked_while_a_thread_holds_a_refresh_lock(path, caplog):
    cache = PersistedTokenCache(path, clock=lambda: NOW)
    with cache.refresh_lock(ACCOUNT, timeout=1):
        (lock_path,) = path.parent.glob("token_cache.json.refresh-*.lock")

    def refresh_lock():
        started = time.monotonic()
        with cache.refresh_lock(ACCOUNT, timeout=5):
            return f"held in {time.monotonic() - started:.1f} s"

    with held_by_a_thread(lambda: cache.refresh_lock(ACCOUNT, timeout=5)) as release:
        child = ForkedChild(refresh_lock)
        release.set()
    try:
        assert a_third_process_locks(lock_path) == "locked"
        assert child.alive()
        assert child.run() == "held in 0.0 s"
    finally:
        child.end()
    assert "refreshing anyway" not in caplog.text


def test_a_child_forked_while_a_thread_changes_an_in_memory_cache_can_use_it():
    cache = TokenCache(clock=lambda: NOW)

    def add_carol():
        cache.add(oidc_event("carol"))
        return users(cache)

    with held_by_a_thread(lambda: cache.batch()) as release:
        child = ForkedChild(add_carol)
        release.set()
    try:
        assert child.run() == "['carol']"
    finally:
        child.end()


def test_a_child_forked_while_a_thread_discovers_a_provider_can_discover_it(fake_server):
    provider = FakeProvider(fake_server)
    authority, asked, answer = parse_authority(oidc_authority=provider.issuer), threading.Event(), threading.Event()

    def slowly(request):
        asked.set()
        answer.wait(10)
        return 200, {}, provider.metadata()
    fake_server.route("GET", MOUNT + "/.well-known/openid-configuration", slowly)
    discovering = threading.Thread(target=discovery.get, args=(authority, Transport()))
    discovering.start()  # holds the authority's discovery lock until the provider answers
    try:
        assert asked.wait(10)
        child = ForkedChild(lambda: discovery.get(authority, Transport()).issuer)
    finally:
        answer.set()
        discovering.join(10)
    try:
        assert child.run() == provider.issuer
    finally:
        child.end()
