"""The interactive redirect: a ``localhost`` redirect is answered on both 127.0.0.1 and ::1 (a browser
may resolve localhost to either, so no other local process may hold the other); a port taken on
either stops the sign-in before the browser opens; idle connections cannot pile up threads or
keep the real callback out."""
from __future__ import annotations

import select
import socket
import subprocess
import sys
import threading

import pytest
import requests

from support.fake_provider import FakeProvider
from nbauth.exceptions import ConfigurationError
from nbauth.flows.loopback import MAX_CONNECTIONS, LoopbackListener

STATE = "state-1"


def has_ipv6_loopback() -> bool:
    try:
        with socket.socket(socket.AF_INET6, socket.SOCK_STREAM) as probe:
            probe.bind(("::1", 0))
    except OSError:
        return False
    return True


needs_ipv6 = pytest.mark.skipif(not has_ipv6_loopback(), reason="this machine has no IPv6 loopback")


@needs_ipv6
@pytest.mark.parametrize("redirect_uri", ["http://localhost", "http://localhost:0/cb"])
def test_a_localhost_redirect_is_answered_on_both_loopback_addresses(redirect_uri):
    path = redirect_uri.partition(":0")[2] or "/"
    for host in ("127.0.0.1", "[::1]"):
        with LoopbackListener(STATE, redirect_uri=redirect_uri) as listener:
            assert listener.redirect_uri.startswith("http://localhost:")
            page = requests.get(f"http://{host}:{listener.port}{path}?code=c-{host}&state={STATE}", timeout=5)
            assert page.status_code == 200 and listener.wait(5)["code"] == f"c-{host}"


@needs_ipv6
def test_a_127_0_0_1_redirect_is_not_answered_on_ipv6():
    with LoopbackListener(STATE, redirect_uri="http://127.0.0.1/cb") as listener:
        with pytest.raises(OSError):
            socket.create_connection(("::1", listener.port), timeout=2).close()


HOLD_IPV6_PORT = """
import socket, sys
server = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
server.bind(("::1", 0))
server.listen()
print(server.getsockname()[1], flush=True)
sys.stdin.read()  # until the test closes our stdin
"""


@pytest.fixture
def ipv6_port_held_elsewhere():
    """A port another process listens on at ::1 (and nobody at 127.0.0.1)."""
    holder = subprocess.Popen([sys.executable, "-c", HOLD_IPV6_PORT], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, text=True)
    try:
        yield int(holder.stdout.readline())
    finally:
        holder.stdin.close()
        holder.wait(10)


@needs_ipv6
def test_a_port_taken_on_ipv6_stops_the_sign_in_before_the_browser_opens(fake_server, ipv6_port_held_elsewhere):
    port = ipv6_port_held_elsewhere
    opened = []
    app = FakeProvider(fake_server).app()
    with pytest.raises(ConfigurationError, match=rf"::1\]?:{port}"):
        app.acquire_token_interactive(["api:read"], port=port, open_browser=opened.append, timeout=2)
    assert opened == []
    with pytest.raises(ConfigurationError, match=rf"::1\]?:{port}"):
        LoopbackListener(STATE, redirect_uri=f"http://localhost:{port}")
    with LoopbackListener(STATE, redirect_uri=f"http://127.0.0.1:{port}") as listener:  # IPv4 only: fine
        assert listener.port == port


def closed_by_server(connections, expected: int, timeout: float = 5) -> int:
    """How many of ``connections`` the server closed, waiting until ``expected`` are (or ``timeout``)."""
    closed, open_ = 0, list(connections)
    deadline = threading.Event()
    timer = threading.Timer(timeout, deadline.set)
    timer.start()
    try:
        while closed < expected and open_ and not deadline.is_set():
            readable, _, _ = select.select(open_, [], [], 0.2)
            for connection in readable:
                open_.remove(connection)
                try:
                    closed += connection.recv(1) == b""
                except ConnectionResetError:
                    closed += 1
    finally:
        timer.cancel()
    return closed


@pytest.mark.parametrize("redirect_uri", ["http://localhost", "http://127.0.0.1"])
def test_idle_connections_neither_keep_the_callback_out_nor_pile_up_threads(redirect_uri):
    idle = []
    before = threading.active_count()
    with LoopbackListener(STATE, redirect_uri=redirect_uri) as listener:
        try:
            hosts = ["127.0.0.1", "::1"] if redirect_uri.endswith("localhost") and has_ipv6_loopback() else ["127.0.0.1"]
            for n in range(60):
                idle.append(socket.create_connection((hosts[n % len(hosts)], listener.port), timeout=5))
            page = requests.get(f"http://127.0.0.1:{listener.port}/?code=real&state={STATE}", timeout=5)
            assert page.status_code == 200 and listener.wait(5)["code"] == "real"
            assert threading.active_count() <= before + len(hosts) + MAX_CONNECTIONS + 2
            assert closed_by_server(idle, len(idle) - MAX_CONNECTIONS) >= len(idle) - MAX_CONNECTIONS
        finally:
            for connection in idle:
                connection.close()
