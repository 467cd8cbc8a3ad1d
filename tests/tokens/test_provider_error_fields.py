"""The provider's ``claims``, ``error_codes`` and ``correlation_id`` reach whoever asked for the
token: the notebook handle, the azure-core credential and the command (a loopback fake provider
refusing the refresh token with all three)."""
import time

import pytest

import nbauth
from nbauth import OAuthError
from nbauth.cache import PersistedTokenCache, TokenCache
from nbauth.integrations.azure import NbauthCredential
from support.cli import cache_path, ci_env, env, nbauth_command  # noqa: F401 - fixtures
from support.clock import FakeClock
from support.fake_http import FakeServer
from support.fake_provider import CLIENT_ID, FakeProvider

SCOPES = ["api:read"]
CLAIMS = '{"access_token":{"acrs":{"essential":true,"value":"c1"}}}'
REFUSAL = {"error": "invalid_grant", "error_description": "AADSTS50173: the grant was revoked",
           "error_codes": [50173], "correlation_id": "corr-7f3a", "claims": CLAIMS}


@pytest.fixture
def provider():
    with FakeServer() as server:
        yield FakeProvider(server)


def refuse_refresh_tokens(provider):
    provider.server.route("POST", provider.mount + "/token", (400, {}, REFUSAL))


def sign_in(provider, cache, clock=time.time):
    app = provider.app(token_cache=cache, clock=clock)
    assert "access_token" in app.acquire_token_by_refresh_token("rt-seed", SCOPES)


def assert_carries_the_providers_fields(error):
    assert (error.error, error.error_codes, error.correlation_id, error.claims) == (
        "invalid_grant", [50173], "corr-7f3a", CLAIMS)


@pytest.fixture
def expired_handle(provider):
    """``nbauth.login``'s handle signed in from the cache; then its access token expires and the
    provider refuses the refresh token."""
    clock, cache = FakeClock(), TokenCache()
    sign_in(provider, cache, clock)
    handle = nbauth.login(CLIENT_ID, oidc_authority=provider.issuer, scopes=SCOPES, cache=cache, ui="none",
                          keep_fresh=False, clock=clock)
    assert handle.status.value == "signed_in"
    clock.advance(7200)
    refuse_refresh_tokens(provider)
    return handle


def test_the_notebook_handle_raises_the_providers_refusal_with_every_field(expired_handle):
    with pytest.raises(OAuthError) as refused:
        expired_handle.token(timeout=1)
    assert_carries_the_providers_fields(refused.value)
    assert expired_handle.status.value == "sign_in_needed"


def test_the_credential_raises_azures_error_with_the_providers_fields(expired_handle):
    from azure.core.exceptions import ClientAuthenticationError

    with pytest.raises(ClientAuthenticationError) as refused:
        NbauthCredential(expired_handle).get_token("api:read")
    assert_carries_the_providers_fields(refused.value.__cause__)
    assert (refused.value.error_codes, refused.value.correlation_id, refused.value.claims) == (
        [50173], "corr-7f3a", CLAIMS)


def command(provider, *args, env):
    """``nbauth token`` for the fake provider, on the cache ``env`` names (``cache_path``)."""
    return nbauth_command("token", "--client-id", CLIENT_ID, "--oidc-authority", provider.issuer,
                          "--scopes", "api:read", *args, env=env)


def assert_printed(run):
    assert "nbauth: error codes: 50173" in run.stderr and "nbauth: correlation id: corr-7f3a" in run.stderr
    assert f"nbauth: claims challenge: {CLAIMS}" in run.stderr


def test_the_command_prints_the_providers_fields_when_a_refresh_is_refused(provider, cache_path, ci_env):
    sign_in(provider, PersistedTokenCache(cache_path))
    refuse_refresh_tokens(provider)
    run = command(provider, "--force-refresh", env=ci_env)
    assert run.returncode == 1 and run.stdout == ""
    assert "nbauth: error: invalid_grant: AADSTS50173" in run.stderr
    assert_printed(run)


def test_where_nobody_can_sign_in_again_the_command_says_why_the_cached_sign_in_failed(provider, cache_path, ci_env):
    past = time.time() - 7200  # signed in two hours ago: the access token has expired
    provider.id_token = lambda claims, p: p.sign(dict(claims, iat=claims["iat"] - 7200, exp=claims["exp"] - 7200))
    sign_in(provider, PersistedTokenCache(cache_path, clock=lambda: past), clock=lambda: past)
    refuse_refresh_tokens(provider)
    run = command(provider, env=ci_env)
    assert run.returncode == 3 and "sign-in needs a person" in run.stderr
    assert_printed(run)
