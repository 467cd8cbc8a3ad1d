"""Bounded answers: token, device, discovery, JWKS and revocation answers are read with a 1 MiB cap.

A longer body (streamed lazily by a loopback server, so the test never holds it either) is a
ProtocolError naming the endpoint and the cap, raised after reading little more than the cap, with
memory bounded and nothing cached; so is a body declared longer, before any of it is read, and
one that only grows that large when decompressed.
"""
from __future__ import annotations

import gzip
import json
import logging
import threading
import time
import tracemalloc
from types import SimpleNamespace
from typing import Iterator

import pytest
import requests

from support.fake_provider import MOUNT, FakeProvider
from nbauth.exceptions import DiscoveryError, ProtocolError, TransportError
from nbauth.transport import Transport
from nbauth.transport.retry import RetryPolicy

MiB = 1 << 20
HUGE = 64 * MiB  # far past the cap; today's code would hold all of it
DISCOVERY = MOUNT + "/.well-known/openid-configuration"


class LongJson:
    """A JSON object with ``fields`` padded to ``size`` bytes, made as it is sent; counts what was sent."""

    def __init__(self, fields: dict, size: int = HUGE):
        self.fields, self.size, self.sent = fields, size, 0

    def chunks(self) -> Iterator[bytes]:
        rest = json.dumps(self.fields)[1:].encode()
        head, tail = b'{"pad": "', (b'", ' + rest) if self.fields else b'"}'
        yield head
        pad = b"x" * (64 * 1024)
        while self.sent < self.size:
            self.sent += len(pad)
            yield pad
        yield tail

    def answer(self, request=None) -> tuple:
        return 200, {"Content-Type": "application/json"}, self.chunks()


@pytest.fixture
def provider(fake_server):
    return FakeProvider(fake_server)


def tokens(provider) -> dict:
    return {"access_token": "at-1", "token_type": "Bearer", "expires_in": 3600, "refresh_token": "rt-1",
            "scope": provider.scope, "id_token": provider.sign(provider.claims())}


def refused_within_bounds(body: LongJson, call, endpoint: str, expected=ProtocolError):
    """Run ``call``, which must raise ``expected`` naming ``endpoint`` and the cap, quickly and
    with memory and the bytes sent bounded."""
    tracemalloc.start()
    started = time.monotonic()
    try:
        with pytest.raises(expected) as raised:
            call()
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert time.monotonic() - started < 5
    assert peak < 8 * MiB, f"peak {peak / MiB:.1f} MiB"
    assert body.sent < 16 * MiB  # what the socket buffers took, not the body
    message = str(raised.value)
    assert endpoint in message and "1 MiB" in message and "?" not in message
    return raised.value


def assert_nothing_cached(app) -> None:
    cache = app.token_cache
    for kind in (cache.CredentialType.ACCESS_TOKEN, cache.CredentialType.REFRESH_TOKEN,
                 cache.CredentialType.ID_TOKEN, cache.CredentialType.ACCOUNT):
        assert list(cache.search(kind, query={})) == []


def test_a_long_token_answer_is_refused_and_nothing_cached(provider, fake_server):
    body = LongJson(tokens(provider))
    fake_server.route("POST", MOUNT + "/token", body.answer)
    app = provider.app()
    refused_within_bounds(body, lambda: app.acquire_token_by_refresh_token("rt-0", ["api:read"]),
                          provider.base + "/token")
    assert_nothing_cached(app)


def test_a_long_device_answer_is_refused(provider, fake_server):
    body = LongJson({"device_code": "dc", "user_code": "ABCD-EFGH", "verification_uri": provider.base + "/verify",
                     "expires_in": 600, "interval": 5})
    fake_server.route("POST", MOUNT + "/device", body.answer)
    app = provider.app()
    refused_within_bounds(body, lambda: app.initiate_device_flow(["api:read"]), provider.base + "/device")


def test_a_long_discovery_document_is_refused_and_not_kept(provider, fake_server):
    body = LongJson(provider.metadata())
    fake_server.route("GET", DISCOVERY, body.answer)
    app = provider.app()
    refused_within_bounds(body, lambda: app.acquire_token_by_refresh_token("rt-0", ["api:read"]),
                          provider.base + "/.well-known/openid-configuration", DiscoveryError)
    fake_server.route("GET", DISCOVERY, lambda r: (200, {}, provider.metadata()))
    assert app.acquire_token_by_refresh_token("rt-0", ["api:read"])["access_token"]
    assert len(fake_server.requests_to(DISCOVERY)) == 2  # the long one was not remembered


def test_a_long_jwks_is_refused_and_nothing_cached(provider, fake_server):
    body = LongJson(provider.jwks)
    fake_server.route("GET", MOUNT + "/jwks", body.answer)
    app = provider.app()
    refused_within_bounds(body, lambda: app.acquire_token_by_refresh_token("rt-0", ["api:read"]),
                          provider.base + "/jwks")
    assert_nothing_cached(app)


def test_a_long_revocation_answer_counts_as_not_revoked(provider, fake_server, caplog):
    fake_server.route("GET", DISCOVERY, lambda r: (200, {}, dict(provider.metadata(),
                                                                 revocation_endpoint=provider.base + "/revoke")))
    body = LongJson({})
    fake_server.route("POST", MOUNT + "/revoke", body.answer)
    app = provider.app()
    app.acquire_token_by_refresh_token("rt-0", ["api:read"])
    (account,) = app.get_accounts()
    with caplog.at_level(logging.WARNING, logger="nbauth"):
        started = time.monotonic()
        assert app.service.revoke(account) == 0  # best effort: logged, not raised
    assert time.monotonic() - started < 5 and body.sent < 16 * MiB
    assert any("1 MiB" in record.getMessage() and "/revoke" in record.getMessage() for record in caplog.records)


def test_a_declared_length_over_the_cap_is_refused_before_reading(fake_server):
    release = threading.Event()
    body = LongJson({}, size=0)

    def declared(request):
        def chunks():
            yield b'{"a": 1'
            body.sent += 7
            release.wait(30)  # never sends the rest until the test ends
        return 200, {"Content-Length": str(2 << 30)}, chunks()

    fake_server.route("GET", "/doc", declared)
    try:
        refused_within_bounds(body, lambda: Transport(timeout=(5, 3)).get(fake_server.url + "/doc?x=secret"),
                              fake_server.url + "/doc")
    finally:
        release.set()


def test_a_compressed_answer_is_capped_after_decompression(fake_server):
    bomb = gzip.compress(b'{"pad": "' + b"x" * HUGE + b'"}', compresslevel=9)
    assert len(bomb) < MiB
    fake_server.route("GET", "/doc", (200, {"Content-Encoding": "gzip", "Content-Type": "application/json"}, bomb))
    refused_within_bounds(LongJson({}, size=0), lambda: Transport().get(fake_server.url + "/doc"),
                          fake_server.url + "/doc")


def test_an_injected_requests_session_is_read_with_the_cap(fake_server):
    body = LongJson({})
    fake_server.route("GET", "/doc", body.answer)
    with requests.Session() as session:
        refused_within_bounds(body, lambda: Transport(session).get(fake_server.url + "/doc"), fake_server.url + "/doc")


class WholeBodyClient:
    """An injected MSAL-style ``http_client`` that cannot stream: it hands over a whole body."""

    def __init__(self, text: str):
        self.text = text

    def get(self, url, **kwargs):
        return SimpleNamespace(status_code=200, text=self.text, headers={})

    post = get


def test_an_injected_client_that_cannot_stream_has_its_answer_checked():
    long = WholeBodyClient('{"pad": "' + "x" * (2 * MiB) + '"}')
    with pytest.raises(ProtocolError, match="1 MiB"):
        Transport(long).get("https://idp.example/doc")
    short = WholeBodyClient('{"ok": true}')
    assert Transport(short).get("https://idp.example/doc").json() == {"ok": True}


def test_answers_up_to_the_cap_are_read_whole(fake_server):
    exact = b'{"pad": "' + b"x" * (MiB - 12) + b'"}'
    assert len(exact) == MiB - 1
    fake_server.route("GET", "/doc", (200, {"Content-Type": "application/json"}, exact))
    assert len(Transport().get(fake_server.url + "/doc").json()["pad"]) == MiB - 12


def test_an_answer_dripped_slowly_ends_at_the_read_timeout(provider, fake_server):
    def drip():
        yield b'{"pad": "'
        for _ in range(50):  # 5 s in all, each wait far under the read timeout
            time.sleep(0.1)
            yield b"x"
        yield b'"}'
    fake_server.route("GET", DISCOVERY, lambda request: (200, {"Content-Type": "application/json"}, drip()))
    transport = Transport(timeout=(2.0, 0.5), retry=RetryPolicy(max_attempts=1))
    started = time.monotonic()
    with pytest.raises(TransportError, match="no answer before the timeout"):
        transport.get(provider.base + "/.well-known/openid-configuration")
    assert time.monotonic() - started < 1.5  # cut at 0.5 s, not the 5 s the drip would take
