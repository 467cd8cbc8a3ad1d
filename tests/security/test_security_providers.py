"""Providers kept apart: two OpenID providers that MSAL's cache format files under one environment
(one host: Keycloak realms under /realms/a and /realms/b, or two ports) with the same client id and
the same subject never see each other's accounts, access tokens or refresh tokens; a refresh whose
ID token names another subject is refused (OpenID Connect Core 12.2).

Each provider is a FakeProvider: real HTTP on loopback, real signed ID tokens.
"""
import json

import pytest

from support.fake_provider import FakeProvider
from nbauth.cache import CredentialType, SerializableTokenCache, TokenCache
from support.fake_http import FakeServer

SCOPES = ["api:read"]


def sign_in(provider: FakeProvider, cache) -> tuple:
    app = provider.app(token_cache=cache)
    result = app.acquire_token_by_username_password("alice", "pw", SCOPES)
    assert "access_token" in result, result
    return app, result


def refresh_tokens_sent(provider: FakeProvider) -> list:
    return [r.form.get("refresh_token") for r in provider.token_requests() if r.form.get("grant_type") == "refresh_token"]


def with_revocation(provider: FakeProvider) -> FakeProvider:
    """Advertise and serve an RFC 7009 revocation endpoint."""
    plain = provider.metadata
    provider.metadata = lambda: dict(plain(), revocation_endpoint=provider.base + "/revoke")
    provider.server.route("POST", provider.mount + "/revoke", (200, {}, {}))
    return provider


@pytest.fixture
def realms(fake_server):
    """Two realms on one host and port: MSAL files both under environment 127.0.0.1, realm "realms"."""
    return FakeProvider(fake_server, mount="/realms/a"), FakeProvider(fake_server, mount="/realms/b")


@pytest.fixture
def two_ports():
    """The same path on two ports of one host: MSAL's environment is the host without its port."""
    with FakeServer() as one, FakeServer() as two:
        yield with_revocation(FakeProvider(one, mount="/oidc")), with_revocation(FakeProvider(two, mount="/oidc"))


def test_two_realms_on_one_host_keep_their_tokens_apart(realms):
    a, b = realms
    cache = SerializableTokenCache()
    app_a, signed_in_a = sign_in(a, cache)
    app_b, signed_in_b = sign_in(b, cache)  # same client id, same sub, same scopes: MSAL's keys collide

    (account_a,), (account_b,) = app_a.get_accounts(), app_b.get_accounts()
    assert app_a.acquire_token_silent(SCOPES, account_a)["access_token"] == signed_in_a["access_token"]
    assert app_b.acquire_token_silent(SCOPES, account_b)["access_token"] == signed_in_b["access_token"]

    refreshed = app_a.acquire_token_silent(SCOPES, account_a, force_refresh=True)
    assert refreshed["token_source"] == "identity_provider"
    assert refresh_tokens_sent(a) == [signed_in_a["refresh_token"]] and refresh_tokens_sent(b) == []
    assert app_b.acquire_token_silent(SCOPES, account_b)["access_token"] == signed_in_b["access_token"]
    app_b.acquire_token_silent(SCOPES, account_b, force_refresh=True)
    assert refresh_tokens_sent(b) == [signed_in_b["refresh_token"]]

    # Both survive a round trip through MSAL's JSON, and signing out of one leaves the other.
    again = SerializableTokenCache()
    again.deserialize(cache.serialize())
    app_a.remove_account(account_a)
    assert app_a.get_accounts() == [] and len(app_b.get_accounts()) == 1
    assert app_b.acquire_token_silent(SCOPES, account_b)["token_source"] == "cache"
    assert len(list(again.search(CredentialType.REFRESH_TOKEN))) == 2


def test_a_provider_on_another_port_sees_no_account_token_or_refresh_token_of_the_first(two_ports):
    a, b = two_ports
    cache = TokenCache()
    app_a, signed_in_a = sign_in(a, cache)
    app_b = b.app(token_cache=cache)
    (account_a,) = app_a.get_accounts()

    assert app_b.get_accounts() == []
    assert app_b.acquire_token_silent(SCOPES, account_a) is None
    assert app_b.acquire_token_silent(SCOPES, account_a, force_refresh=True) is None
    assert app_b.service.revoke(account_a) == 0
    app_b.remove_account(account_a)  # B's sign-out leaves A's tokens alone
    assert b.server.requests_to("/oidc/token") == [] and b.server.requests_to("/oidc/revoke") == []
    assert app_a.acquire_token_silent(SCOPES, account_a)["access_token"] == signed_in_a["access_token"]
    assert app_a.service.revoke(account_a) == 1
    (revoked,) = a.server.requests_to("/oidc/revoke")
    assert revoked.form["token"] == signed_in_a["refresh_token"]


def test_entries_msal_wrote_without_a_provider_still_serve_their_authority(two_ports):
    a, _ = two_ports
    cache = SerializableTokenCache()
    app, signed_in = sign_in(a, cache)
    document = json.loads(cache.serialize())
    for section in document.values():
        for entry in section.values():
            entry.pop("nbauth_provider", None)
    msal_like = SerializableTokenCache()
    msal_like.deserialize(json.dumps(document))
    app = a.app(token_cache=msal_like)
    (account,) = app.get_accounts()
    assert app.acquire_token_silent(SCOPES, account)["access_token"] == signed_in["access_token"]
    app.acquire_token_silent(SCOPES, account, force_refresh=True)
    assert refresh_tokens_sent(a) == [signed_in["refresh_token"]]


def test_a_refresh_whose_id_token_names_another_subject_is_refused_and_keeps_the_refresh_token(fake_server):
    provider = FakeProvider(fake_server)
    cache = TokenCache()
    app, signed_in = sign_in(provider, cache)
    (account,) = app.get_accounts()
    provider.sub = "mallory"  # a correctly signed ID token of this provider, for someone else

    result = app.acquire_token_silent_with_error(SCOPES, account, force_refresh=True)
    assert result["error"] == "invalid_id_token" and "subject" in result["error_description"]
    (rt,) = cache.search(CredentialType.REFRESH_TOKEN)
    assert rt["secret"] == signed_in["refresh_token"]
    assert {e["home_account_id"] for kind in (CredentialType.ACCESS_TOKEN, CredentialType.ID_TOKEN,
                                              CredentialType.ACCOUNT) for e in cache.search(kind)} == {"alice"}
