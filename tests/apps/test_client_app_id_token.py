"""Every ID token is verified before anything is cached: forged ones become error results.

The provider here is a FakeServer (tests/support/fake_provider.py) that signs whatever the test asks,
with a key the test made; the real local provider would never issue these tokens.
"""
import time

import jwt
import pytest

from support.fake_provider import CLIENT_ID, FakeProvider, hs256_with_public_key, new_rsa_key, public_jwk
from nbauth import PublicClientApplication
from nbauth.cache import TokenCache

ALL_TYPES = ("AccessToken", "RefreshToken", "IdToken", "Account")


@pytest.fixture
def provider(fake_server):
    return FakeProvider(fake_server)


@pytest.fixture
def app(provider):
    return PublicClientApplication(CLIENT_ID, oidc_authority=provider.issuer, token_cache=TokenCache())


def sign_in(app):
    return app.acquire_token_by_username_password("alice", "alice-pw", ["api:read"])


def assert_rejected_and_nothing_cached(app, result, complaint):
    assert result["error"] == "invalid_id_token", result
    assert complaint in result["error_description"]
    assert "access_token" not in result and "refresh_token" not in result
    for kind in ALL_TYPES:
        assert list(app.token_cache.search(kind)) == [], kind
    assert app.get_accounts() == []


def test_a_correctly_signed_id_token_is_accepted_and_cached(app, provider):
    result = sign_in(app)
    assert result["id_token_claims"]["sub"] == "alice" and result["token_source"] == "identity_provider"
    assert [a["username"] for a in app.get_accounts()] == ["alice@example.test"]


def test_a_signature_by_another_key_is_rejected(app, provider):
    intruder = new_rsa_key()
    provider.id_token = lambda claims, p: p.sign(claims, key=intruder)
    assert_rejected_and_nothing_cached(app, sign_in(app), "signature does not verify")


@pytest.mark.parametrize("overrides, complaint", [
    ({"aud": "someone-else"}, "issued to 'someone-else'"),
    ({"iss": "https://evil.test"}, "issuer 'https://evil.test'"),
    ({"exp": int(time.time()) - 3600, "iat": int(time.time()) - 7200}, "expired"),
    ({"aud": [CLIENT_ID, "api"], "azp": "api"}, "azp"),
])
def test_wrong_claims_are_rejected(app, provider, overrides, complaint):
    provider.id_token = lambda claims, p: p.sign(dict(claims, **overrides))
    assert_rejected_and_nothing_cached(app, sign_in(app), complaint)


def test_alg_none_is_rejected(app, provider):
    provider.id_token = lambda claims, p: jwt.encode(claims, None, algorithm="none")
    assert_rejected_and_nothing_cached(app, sign_in(app), "signed with 'none'")


def test_hmac_keyed_with_the_public_key_is_rejected(app, provider):
    provider.id_token = lambda claims, p: hs256_with_public_key(claims, p.key, p.kid)
    assert_rejected_and_nothing_cached(app, sign_in(app), "signed with 'HS256'")


def test_an_unknown_kid_refetches_the_keys_once_then_is_rejected(app, provider):
    assert "access_token" in sign_in(app)  # the keys are now known
    fetched = len(provider.jwks_requests())
    app.token_cache = TokenCache()
    provider.id_token = lambda claims, p: p.sign(claims, key=new_rsa_key(), kid="k-unknown")
    assert_rejected_and_nothing_cached(app, sign_in(app), "kid 'k-unknown'")
    assert len(provider.jwks_requests()) == fetched + 1


def test_a_rotated_key_is_found_by_that_one_refetch(app, provider):
    assert "access_token" in sign_in(app)
    new_key = new_rsa_key()
    provider.jwks = {"keys": [public_jwk(new_key, "k2")]}
    provider.id_token = lambda claims, p: p.sign(claims, key=new_key, kid="k2")
    assert sign_in(app)["id_token_claims"]["sub"] == "alice"


def test_a_garbled_id_token_is_rejected(app, provider):
    provider.id_token = lambda claims, p: "not.a.jwt"
    assert_rejected_and_nothing_cached(app, sign_in(app), "well-formed JWT")
