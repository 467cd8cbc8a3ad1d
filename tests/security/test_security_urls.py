"""One reading of every URL: what nbauth decides on (host, loopback, issuer, cache environment, link)
is what requests connects to, because a URL two parsers could read differently is refused.

``https://evil.example\\@login.microsoftonline.com/common`` is ``login.microsoftonline.com`` to
``urllib.parse`` and ``evil.example`` to urllib3; tabs and newlines vanish in ``urlsplit``; urllib3
removes dot segments. Each such form is refused with an AuthorityError naming it.
"""
import json
import urllib.parse

import pytest
from hypothesis import example, given
from hypothesis import strategies as st
from urllib3.util import parse_url

from support.fake_provider import CLIENT_ID, FakeProvider
from support.fuzzing import fuzz, nbauth_error_or_nothing, texts
from nbauth import PublicClientApplication
from nbauth.exceptions import AuthorityError, DiscoveryError, ProtocolError
from nbauth.protocol.device import parse_device_authorization
from nbauth.protocol.urls import web_url
from nbauth.ui import FlowState
from nbauth.ui.markup import link
from nbauth.ui.text import verification_link
from support.fake_http import FakeServer
from support.cli import cache_path, ci_env, env, nbauth_command  # noqa: F401

EVIL_ENTRA = "https://evil.example\\@login.microsoftonline.com/common"

#: Forms two parsers read differently, each with the words the refusal must use.
TWO_READINGS = [
    ("https://evil.example\\@idp.example/x", "backslash"),
    ("https://idp.example\\x/y", "backslash"),
    ("https://evil.example@idp.example/x", "user information"),
    ("https://u:p@idp.example/x", "user information"),
    ("https://idp.exa\tmple/x", "whitespace or control"),
    ("https://idp.example/x\n", "whitespace or control"),
    ("https://idp.example/a b", "whitespace or control"),
    ("https://idp.example/x\x1b[2J", "whitespace or control"),
    ("https://idp.example/\u202ex", "non-ASCII"),
    ("https://id%70.example/x", "percent-encoded host"),
    ("https://idp.ex%2eample/x", "percent-encoded host"),
    ("https://idp.example/a/../b", "dot segment"),
    ("https://idp.example/a/%2E%2e/b", "dot segment"),
    ("https://xn--mnchen-3ya.de\u3002/x", "non-ASCII"),
    ("https://münchen.de/x", "non-ASCII"),
    ("http://127.1/x", "not a valid IPv4 address"),
    ("http://0x7f.1/x", "not a valid IPv4 address"),
    ("http://127.0.0.01/x", "not a valid IPv4 address"),
    ("https://localhost./x", "not a valid host name"),
    ("https://a..b/x", "not a valid host name"),
    ("https://-a.example/x", "not a valid host name"),
    ("https://[::1%25eth0]/x", "percent-encoded host"),
    ("https://[v1.x]/x", "not a valid IPv6 address"),
    ("https://idp.example:/x", "port"),
    ("https://idp.example:0/x", "port"),
    ("https://idp.example:99999/x", "port"),
    ("https:/idp.example/x", "not an absolute URL"),
    ("https:///x", "not an absolute URL"),
    ("javascript://idp.example/%0aalert(1)", "not an absolute URL"),
]


@pytest.mark.parametrize("url, words", TWO_READINGS)
def test_a_url_two_parsers_could_read_differently_is_refused_naming_the_problem(url, words):
    with pytest.raises(AuthorityError, match=f"token_endpoint.*{words}"):
        web_url(url, "token_endpoint")


@pytest.mark.parametrize("url, canonical, host, loopback", [
    ("HTTPS://IdP.Example:443/Realm/", "https://idp.example/Realm/", "idp.example", False),
    ("https://idp.example:8443", "https://idp.example:8443", "idp.example", False),
    ("http://LOCALHOST:80/x?a=1#f", "http://localhost/x?a=1#f", "localhost", True),
    ("http://[0:0::1]:8080/x", "http://[0:0::1]:8080/x", "0:0::1", True),
    ("http://127.0.0.2/x", "http://127.0.0.2/x", "127.0.0.2", True),
    ("https://login.microsoftonline.com/{tenantid}/v2.0", "https://login.microsoftonline.com/{tenantid}/v2.0",
     "login.microsoftonline.com", False),
    ("https://idp.example/p@q/%7e", "https://idp.example/p@q/%7E", "idp.example", False),
])
def test_an_accepted_url_is_rebuilt_from_its_parts(url, canonical, host, loopback):
    parsed = web_url(url, "issuer")
    assert (parsed.url, parsed.host, parsed.is_loopback) == (canonical, host, loopback)
    assert web_url(parsed.url, "issuer") == parsed


# ---- the authority and the cache --------------------------------------------------------------------
def test_an_entra_authority_with_a_backslash_is_refused_before_the_cache_or_network():
    with pytest.raises(AuthorityError, match="authority .*backslash"):
        PublicClientApplication(CLIENT_ID, authority=EVIL_ENTRA)


@pytest.fixture
def two_hosts():
    """Two loopback servers: the one an authority seems to name and the one requests would reach."""
    with FakeServer() as named, FakeServer() as reached:
        yield named, reached


@pytest.mark.parametrize("form", ["http://127.0.0.1:{reached}\\@127.0.0.1:{named}/fake",
                                  "http://127.0.0.1:{reached}/\\@127.0.0.1:{named}/fake",
                                  "http://127.0.0.1:{named}@127.0.0.1:{reached}/fake"])
def test_an_authority_read_two_ways_sends_nothing_to_either_host(two_hosts, form):
    named, reached = two_hosts
    FakeProvider(named), FakeProvider(reached)
    authority = form.format(named=named.port, reached=reached.port)
    with pytest.raises(AuthorityError, match="oidc_authority"):
        PublicClientApplication(CLIENT_ID, oidc_authority=authority).acquire_token_by_username_password(
            "alice", "alice-pw", ["api:read"])
    assert named.requests == [] and reached.requests == []


@pytest.mark.parametrize("endpoint", ["token_endpoint", "device_authorization_endpoint", "authorization_endpoint",
                                      "revocation_endpoint", "jwks_uri", "end_session_endpoint"])
def test_a_discovered_endpoint_read_two_ways_is_refused_and_gets_nothing(fake_server, endpoint):
    """``http://127.0.0.1:B\\@127.0.0.1:A/`` passed "http only on loopback" while urllib3 reached B."""
    provider = FakeProvider(fake_server)
    with FakeServer() as elsewhere:
        FakeProvider(elsewhere)
        sneaky = f"http://127.0.0.1:{elsewhere.port}\\@127.0.0.1:{fake_server.port}/fake/token"
        provider.metadata = lambda: dict(FakeProvider.metadata(provider), **{endpoint: sneaky})
        with pytest.raises(DiscoveryError, match=f"{endpoint} has a backslash"):
            provider.app().acquire_token_by_username_password("alice", "alice-pw", ["api:read"])
        assert elsewhere.requests == [] and provider.server.requests_to("/fake/token") == []


def test_an_issuer_read_two_ways_is_refused(fake_server):
    provider = FakeProvider(fake_server)
    provider.metadata = lambda: dict(FakeProvider.metadata(provider), issuer=provider.issuer + "/\\@x")
    with pytest.raises(DiscoveryError, match="issuer has a backslash"):
        provider.app().acquire_token_by_username_password("alice", "alice-pw", ["api:read"])
    assert provider.token_requests() == []


def test_the_interactive_link_printed_is_clean(fake_server, capsys):
    provider = FakeProvider(fake_server)
    provider.metadata = lambda: dict(FakeProvider.metadata(provider),
                                     authorization_endpoint=provider.base + "/auth\x1b[2J\x1b]0;owned\x07")
    opened = []
    with pytest.raises(DiscoveryError, match="authorization_endpoint has whitespace or control"):
        provider.app().acquire_token_interactive(["api:read"], open_browser=opened.append, timeout=0.3)
    assert opened == [] and "\x1b" not in capsys.readouterr().out


# ---- verification links -----------------------------------------------------------------------------------
@pytest.mark.parametrize("uri", [EVIL_ENTRA + "/devicelogin", "https://microsoft.com/devicelogin\tx",
                                 "https://evil.example@microsoft.com/devicelogin"])
def test_a_verification_link_read_two_ways_is_text_not_a_link(uri):
    assert link(uri).startswith('<code class="nbauth-unsafe-link">')
    state = FlowState(verification_uri="https://microsoft.com/devicelogin", verification_uri_complete=uri,
                      user_code="ABC")
    assert verification_link(state) == "https://microsoft.com/devicelogin"


@pytest.mark.parametrize("field", ["verification_uri", "verification_uri_complete"])
def test_a_device_authorization_naming_such_a_link_is_refused(field):
    body = {"device_code": "d", "user_code": "ABC", "verification_uri": "https://idp.example/device",
            field: EVIL_ENTRA + "/devicelogin"}
    with pytest.raises(ProtocolError, match=f"{field} has a backslash"):
        parse_device_authorization(body, now=0.0)


# ---- the CLI's saved settings ----------------------------------------------------------------------------------
def test_a_planted_settings_file_with_such_an_authority_exits_2_sending_nothing(two_hosts, ci_env, cache_path):
    named, reached = two_hosts
    FakeProvider(named), FakeProvider(reached)
    cache_path.parent.mkdir(mode=0o700, parents=True)
    planted = cache_path.with_name("token_cache.cli.json")
    planted.write_text(json.dumps({"client_id": CLIENT_ID, "scopes": ["api:read"],
                                   "oidc_authority": f"http://127.0.0.1:{reached.port}\\@127.0.0.1:{named.port}/fake"}))
    planted.chmod(0o600)
    run = nbauth_command("token", env=ci_env)
    assert (run.returncode, run.stdout) == (2, "")
    assert "oidc_authority has a backslash" in run.stderr
    assert named.requests == [] and reached.requests == []


# ---- both parsers agree on whatever is accepted ------------------------------------------------------------
HOSTS = st.sampled_from(["idp.example", "IDP.example", "127.0.0.1", "127.1", "localhost", "localhost.", "[::1]",
                         "[::ffff:127.0.0.1]", "0x7f.0.0.1", "a_b.example", "xn--mnchen-3ya.de", "évil.example",
                         "evil.example\\@idp.example", "u@idp.example", "id%70.example", "[::1%25lo]", "a..b"])
PORTS = st.sampled_from(["", ":443", ":80", ":8443", ":08443", ":", ":0", ":65536", ":x"])
TAILS = st.sampled_from(["", "/", "/oidc", "/a/../b", "/%2e/", "/p@q", "/{tenantid}/v2.0", "?q=1", "#f", "/x?a=b#c",
                         "\\x", "/%zz", "/%41"]) | texts
URLS = st.builds("{}{}{}{}".format, st.sampled_from(["https://", "http://", "HTTP://", "ftp://", "https:/", ""]),
                 HOSTS, PORTS, TAILS) | texts


@fuzz(max_examples=300)
@given(url=URLS)
@example(url="https://evil.example\\@idp.example/x")
@example(url="https://idp.example\t/x")
def test_whatever_is_accepted_both_parsers_read_alike_and_it_rebuilds_to_itself(url):
    with nbauth_error_or_nothing():
        parsed = web_url(url, "url")
        split, connected = urllib.parse.urlsplit(parsed.url), parse_url(parsed.url)
        assert split.hostname == connected.host.strip("[]") == parsed.host
        assert split.port == connected.port == parsed.port
        assert urllib.parse.urlsplit(url).hostname == parsed.host  # what nbauth decided on is what it uses
        assert web_url(parsed.url, "url") == parsed
