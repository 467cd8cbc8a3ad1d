"""Discovery over real HTTP: the local provider, and a loopback fake for the failures."""
import socket

import pytest

from nbauth.provider.authority import Discovery, parse_authority
from nbauth.exceptions import DiscoveryError
from nbauth.transport import RetryPolicy, Transport
from support.clock import FakeClock

WELL_KNOWN = "/realm/.well-known/openid-configuration"


def _document(server, **changes):
    issuer = server.url + "/realm"
    return dict({"issuer": issuer, "token_endpoint": issuer + "/token", "jwks_uri": issuer + "/jwks"}, **changes)


@pytest.fixture
def transport():
    return Transport(retry=RetryPolicy(max_attempts=1), timeout=(2, 2))


def test_local_provider_is_discovered_over_https(idp):
    metadata = Discovery().get(parse_authority(oidc_authority=idp.issuer), Transport())
    assert metadata.issuer == idp.issuer
    assert metadata.token_endpoint.startswith(idp.issuer + "/")
    assert metadata.device_authorization_endpoint and metadata.revocation_endpoint


def test_discovery_is_fetched_once_and_shared(fake_server, transport):
    fake_server.route("GET", WELL_KNOWN, (200, {}, _document(fake_server)))
    memo = Discovery()
    authority = parse_authority(fake_server.url + "/realm")
    first = memo.get(authority, transport)
    assert memo.get(parse_authority(fake_server.url + "/realm/"), transport) is first
    assert len(fake_server.requests_to(WELL_KNOWN)) == 1


@pytest.mark.parametrize("response, message", [
    ((404, {}, "not here"), "HTTP 404"),
    ((200, {"Content-Type": "application/json"}, "{not json"), "is not JSON"),
    ((200, {}, ["a", "list"]), "not a JSON object"),
])
def test_bad_answers_name_the_fault_and_the_authority(fake_server, transport, response, message):
    fake_server.route("GET", WELL_KNOWN, response)
    with pytest.raises(DiscoveryError, match=message) as info:
        Discovery().get(parse_authority(fake_server.url + "/realm"), transport)
    assert fake_server.url + "/realm" in str(info.value)


def test_issuer_mismatch_is_refused(fake_server, transport):
    fake_server.route("GET", WELL_KNOWN, (200, {}, _document(fake_server, issuer="https://evil.example/realm")))
    with pytest.raises(DiscoveryError, match="does not match the authority"):
        Discovery().get(parse_authority(fake_server.url + "/realm"), transport)


def test_a_failed_discovery_is_not_memoised(fake_server, transport):
    fake_server.enqueue("GET", WELL_KNOWN, (500, {}, "down"), (200, {}, _document(fake_server)))
    memo = Discovery()
    authority = parse_authority(fake_server.url + "/realm")
    with pytest.raises(DiscoveryError, match="HTTP 500"):
        memo.get(authority, transport)
    assert memo.get(authority, transport).issuer == fake_server.url + "/realm"


def test_unreachable_authority(transport):
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(DiscoveryError, match="could not fetch .*connection failed") as info:
        Discovery().get(parse_authority(f"http://127.0.0.1:{port}/realm"), transport)
    assert f"127.0.0.1:{port}/realm" in str(info.value)


# ---- discovery documents kept beside a persisted token cache ---------------------------------
START = 1_700_000_000.0


@pytest.fixture
def store(tmp_path):
    from nbauth.cache import PersistedTokenCache

    return PersistedTokenCache(tmp_path / "token_cache.json").discovery_store


def test_a_new_process_uses_the_stored_document_without_the_network(fake_server, transport, store, tmp_path):
    fake_server.route("GET", WELL_KNOWN, (200, {}, _document(fake_server)))
    authority = parse_authority(fake_server.url + "/realm")
    Discovery().get(authority, transport, store)
    assert (tmp_path / "token_cache.json.discovery.json").stat().st_mode & 0o777 == 0o600
    assert Discovery().get(authority, transport, store).token_endpoint == fake_server.url + "/realm/token"
    assert len(fake_server.requests_to(WELL_KNOWN)) == 1


def test_a_day_old_document_is_fetched_again(fake_server, transport, store):
    fake_server.route("GET", WELL_KNOWN, (200, {}, _document(fake_server)))
    authority, clock = parse_authority(fake_server.url + "/realm"), FakeClock(START)
    Discovery(clock).get(authority, transport, store)
    clock.now += 24 * 3600 + 1
    Discovery(clock).get(authority, transport, store)
    assert len(fake_server.requests_to(WELL_KNOWN)) == 2


def test_an_old_document_stands_in_while_the_provider_is_down(fake_server, transport, store, caplog):
    fake_server.enqueue("GET", WELL_KNOWN, (200, {}, _document(fake_server)), (503, {}, "down"))
    authority, clock = parse_authority(fake_server.url + "/realm"), FakeClock(START)
    Discovery(clock).get(authority, transport, store)
    clock.now += 7 * 24 * 3600
    assert Discovery(clock).get(authority, transport, store).issuer == fake_server.url + "/realm"
    assert "HTTP 503" in caplog.text and "stored" in caplog.text


def test_a_stored_document_is_checked_against_the_authority_again(fake_server, transport, store):
    authority = parse_authority(fake_server.url + "/realm")
    store.save(authority.discovery_url, _document(fake_server, issuer="https://evil.example/realm"), FakeClock(START)())
    fake_server.route("GET", WELL_KNOWN, (200, {}, _document(fake_server)))
    assert Discovery(FakeClock(START)).get(authority, transport, store).issuer == fake_server.url + "/realm"
    assert len(fake_server.requests_to(WELL_KNOWN)) == 1


@pytest.mark.parametrize("content", [b"\x00garbage", b"[1, 2]", b'{"x": {"document": 3}}'])
def test_a_damaged_store_is_only_a_missed_shortcut(fake_server, transport, store, tmp_path, content):
    (tmp_path / "token_cache.json.discovery.json").write_bytes(content)
    fake_server.route("GET", WELL_KNOWN, (200, {}, _document(fake_server)))
    authority = parse_authority(fake_server.url + "/realm")
    assert Discovery().get(authority, transport, store).issuer == fake_server.url + "/realm"
    assert Discovery().get(authority, transport, store) is not None
    assert len(fake_server.requests_to(WELL_KNOWN)) == 1  # rewritten whole, then used
