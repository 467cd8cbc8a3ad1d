"""The interactive redirect listener (RFC 8252 sections 7.3 and 8.3): bound to loopback only,
takes exactly one matching callback, answers and ignores everything else, and really stops.

Also covered in test_loopback.py: wrong paths and states get 404/400, a second callback 409,
the port is free after close; in test_public_interactive.py: the port is closed after a timeout.
"""
import socket
import threading
import time
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from support.fake_provider import FakeProvider
from nbauth.exceptions import FlowError
from nbauth.flows.loopback import LoopbackListener

STATE = "state-1"


def listening_sockets(port: int):
    """(family, local address) of every listening TCP socket on ``port``, from the kernel's tables."""
    found = []
    for table, family in (("/proc/net/tcp", "ipv4"), ("/proc/net/tcp6", "ipv6")):
        path = Path(table)
        if not path.exists():
            continue
        for line in path.read_text().splitlines()[1:]:
            local, state = line.split()[1], line.split()[3]
            address, port_hex = local.split(":")
            if state == "0A" and int(port_hex, 16) == port:  # 0A: LISTEN
                found.append((family, address))
    return found


def refused(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=2).close()
    except ConnectionRefusedError:
        return True
    return False


def get(port, path, **kwargs):
    return requests.get(f"http://127.0.0.1:{port}{path}", timeout=5, **kwargs)


@pytest.mark.skipif(not Path("/proc/net/tcp").exists(), reason="reads Linux's socket tables")
@pytest.mark.parametrize("redirect_uri", ["http://localhost", "http://127.0.0.1/cb", "http://localhost:0/x"])
def test_it_listens_on_loopback_only(redirect_uri):
    ipv6_loopback = ("ipv6", "00000000000000000000000001000000")  # ::1 (test_security_redirect.py)
    with LoopbackListener(STATE, redirect_uri=redirect_uri) as listener:
        found = listening_sockets(listener.port)
    assert found[0] == ("ipv4", "0100007F")  # 127.0.0.1, never 0.0.0.0 or [::]
    allowed = ([ipv6_loopback], []) if "localhost" in redirect_uri else ([],)  # [] without IPv6 loopback
    assert found[1:] in allowed


def test_it_cannot_be_reached_on_another_local_address():
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(("192.0.2.1", 9))  # no packet is sent: this only picks the outgoing address
            own_address = probe.getsockname()[0]
        except OSError:
            pytest.skip("no network interface besides loopback")
    if own_address.startswith("127."):
        pytest.skip("no network interface besides loopback")
    with LoopbackListener(STATE) as listener:
        with pytest.raises(OSError):
            socket.create_connection((own_address, listener.port), timeout=2).close()


def test_of_many_matching_callbacks_at_once_exactly_one_is_taken():
    with LoopbackListener(STATE, redirect_uri="http://127.0.0.1/cb") as listener:
        start = threading.Barrier(8)
        statuses = {}

        def callback(n):
            start.wait(5)
            statuses[n] = get(listener.port, f"/cb?code=code-{n}&state={STATE}").status_code

        threads = [threading.Thread(target=callback, args=(n,)) for n in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(10)
        assert sorted(statuses.values()) == [200] + [409] * 7
        (winner,) = [n for n, status in statuses.items() if status == 200]
        assert listener.wait(5)["code"] == f"code-{winner}"


@pytest.mark.parametrize("method, path, status", [
    ("POST", f"/cb?code=c&state={STATE}", 501),  # form_post is not the listener's response mode
    ("HEAD", f"/cb?code=c&state={STATE}", 501),
    ("GET", f"/cb?code=c&state={STATE}&state=other", 400),  # a parameter twice (RFC 6749 section 3.1)
    ("GET", f"/cb?code=c&code=forged&state={STATE}", 400),
    ("GET", f"http://[/cb?code=c&state={STATE}", 400),  # a request target that is not a URL
    ("GET", f"/cb/?code=c&state={STATE}", 404),
    ("GET", f"/CB?code=c&state={STATE}", 404),
])
def test_other_requests_are_answered_and_ignored(method, path, status):
    with LoopbackListener(STATE, redirect_uri="http://127.0.0.1/cb") as listener:
        with socket.create_connection(("127.0.0.1", listener.port), timeout=5) as connection:
            connection.sendall(f"{method} {path} HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n".encode())
            answer = connection.makefile("rb").readline()
        assert answer.split()[1] == str(status).encode()
        with pytest.raises(FlowError):
            listener.wait(0)
        assert get(listener.port, f"/cb?code=real&state={STATE}").status_code == 200
        assert listener.wait(5)["code"] == "real"  # answered just after the page went out


def test_a_stalled_connection_neither_delays_closing_nor_lives_on(monkeypatch):
    import nbauth.flows.loopback

    # the private handler's 10 s stall timeout, shortened on purpose: no public setting should exist for it
    monkeypatch.setattr(nbauth.flows.loopback._Handler, "timeout", 0.5)
    listener = LoopbackListener(STATE)
    stalled = socket.create_connection(("127.0.0.1", listener.port), timeout=5)
    stalled.sendall(b"GET /?code=c&st")  # and nothing more
    started = time.monotonic()
    listener.close()
    assert time.monotonic() - started < 2 and refused(listener.port)
    with stalled:
        try:
            dropped = stalled.recv(1024) == b""
        except ConnectionResetError:
            dropped = True
    assert dropped  # by the server, after its timeout (without one, recv would time out here)


@pytest.fixture
def provider(fake_server):
    return FakeProvider(fake_server)


def test_after_a_sign_in_or_a_refused_one_the_port_is_closed(provider):
    app = provider.app()
    ports = []

    def browser(answer):
        def open_browser(url):
            params = {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}
            ports.append(urlsplit(params["redirect_uri"]).port)
            provider.nonce = params["nonce"]
            threading.Thread(target=get, args=(ports[-1], f"/?state={params['state']}&{answer}"), daemon=True).start()
        return open_browser

    assert "access_token" in app.acquire_token_interactive(
        ["api:read"], open_browser=browser(f"code=c&iss={provider.issuer}"), timeout=10)
    with pytest.raises(FlowError, match="RFC 9207"):
        app.acquire_token_interactive(["api:read"], open_browser=browser("code=c&iss=https://evil.test"), timeout=10)
    assert len(ports) == 2 and all(refused(port) for port in ports)
