"""Discovery over real HTTP: the local provider, and a loopback fake for the failures."""
import socket

import pytest

from nbauth.authority import Discovery, parse_authority
from nbauth.exceptions import DiscoveryError
from nbauth.transport import RetryPolicy, Transport

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
