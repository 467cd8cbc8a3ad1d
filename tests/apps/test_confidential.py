"""ConfidentialClientApplication against the local OpenID provider: client credentials (secret by
basic and post, certificate, assertion callable) served from the cache once obtained, and
on-behalf-of keyed by the user's assertion."""
from __future__ import annotations

import time
import uuid

import jwt
import pytest

from idp.server import (
    CLIENT_SECRET, CONFIDENTIAL_CLIENT, CONFIDENTIAL_POST_CLIENT, GRANT_JWT_BEARER, NATIVE_CLIENT, PKJWT_CLIENT,
)
from nbauth import ConfidentialClientApplication, ConfigurationError, PublicClientApplication
from nbauth.cache import SerializableTokenCache, TokenCache
from nbauth.apps.confidential import user_assertion_hash
from support.leaks import RecordingSession

POST_SECRET = {"client_secret": CLIENT_SECRET, "token_endpoint_auth_method": "client_secret_post"}


def new_app(idp, client_id, credential, **kwargs):
    kwargs.setdefault("token_cache", TokenCache())
    return ConfidentialClientApplication(client_id, credential, oidc_authority=idp.issuer, **kwargs)


def token_calls(idp, grant_type="client_credentials", client_id=None):
    return [e for e in idp.token_log(grant_type) if client_id is None or e["client_id"] == client_id]


def claims_of(access_token: str) -> dict:
    return jwt.decode(access_token, options={"verify_signature": False})


# ---- client credentials ---------------------------------------------------------------------------
@pytest.mark.parametrize("client_id, credential, basic", [
    (CONFIDENTIAL_CLIENT, CLIENT_SECRET, True),
    (CONFIDENTIAL_POST_CLIENT, POST_SECRET, False),
])
def test_a_secret_gets_an_app_token_by_basic_or_post(idp, client_id, credential, basic):
    session = RecordingSession()
    result = new_app(idp, client_id, credential, http_client=session).acquire_token_for_client(["api:read"])
    assert result["token_source"] == "identity_provider" and result["scope"] == "api:read"
    assert claims_of(result["access_token"])["client_id"] == client_id
    (sent,) = session.to_token_endpoint()
    assert sent["headers"].get("Authorization", "").startswith("Basic ") is basic
    assert ("client_secret" in sent["data"]) is (not basic)
    assert sent["data"]["grant_type"] == "client_credentials"


def test_the_second_call_is_served_from_the_cache_without_a_request(idp):
    app = new_app(idp, CONFIDENTIAL_CLIENT, CLIENT_SECRET)
    first = app.acquire_token_for_client(["api:read"])
    before = len(token_calls(idp, client_id=CONFIDENTIAL_CLIENT))
    second = app.acquire_token_for_client(["api:read"])
    assert len(token_calls(idp, client_id=CONFIDENTIAL_CLIENT)) == before
    assert second["token_source"] == "cache" and second["access_token"] == first["access_token"]
    assert 0 < second["expires_in"] <= 300


def test_tokens_are_the_apps_own_and_other_scopes_or_apps_ask_again(idp):
    cache = TokenCache()
    app = new_app(idp, CONFIDENTIAL_CLIENT, CLIENT_SECRET, token_cache=cache)
    app.acquire_token_for_client(["api:read"])
    other = new_app(idp, CONFIDENTIAL_POST_CLIENT, POST_SECRET, token_cache=cache)
    assert other.acquire_token_for_client(["api:read"])["token_source"] == "identity_provider"
    assert app.acquire_token_for_client(["api:write"])["token_source"] == "identity_provider"
    (entry,) = [e for e in cache.search(cache.CredentialType.ACCESS_TOKEN, target=["api:read"],
                                        query={"client_id": CONFIDENTIAL_CLIENT})]
    assert entry["home_account_id"] is None and app.get_accounts() == []


def test_remove_tokens_for_client_makes_the_next_call_ask_again(idp):
    app = new_app(idp, CONFIDENTIAL_CLIENT, CLIENT_SECRET)
    app.acquire_token_for_client(["api:read"])
    app.remove_tokens_for_client()
    assert app.acquire_token_for_client(["api:read"])["token_source"] == "identity_provider"
    assert app.acquire_token_for_client(["api:read"])["token_source"] == "cache"


def test_a_claims_challenge_skips_the_cache(idp):
    app = new_app(idp, CONFIDENTIAL_CLIENT, CLIENT_SECRET)
    app.acquire_token_for_client(["api:read"])
    again = app.acquire_token_for_client(["api:read"], claims_challenge='{"access_token": {"acrs": {}}}')
    assert again["token_source"] == "identity_provider"


def test_force_refresh_is_refused_as_in_msal(idp):
    with pytest.raises(ConfigurationError, match="force_refresh"):
        new_app(idp, CONFIDENTIAL_CLIENT, CLIENT_SECRET).acquire_token_for_client(["api:read"], force_refresh=True)


@pytest.mark.parametrize("form", ["public_certificate", "thumbprint"])
def test_a_certificate_signs_a_private_key_jwt_the_provider_verifies(idp, form):
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes

    if form == "thumbprint":
        cert = x509.load_pem_x509_certificate(idp.client_cert_pem.encode())
        credential = {"private_key": idp.client_key_pem, "thumbprint": cert.fingerprint(hashes.SHA1()).hex()}
    else:
        credential = {"private_key": idp.client_key_pem, "public_certificate": idp.client_cert_pem}
    session = RecordingSession()
    app = new_app(idp, PKJWT_CLIENT, credential, http_client=session)
    assert app.acquire_token_for_client(["api:read"])["token_source"] == "identity_provider"
    app.remove_tokens_for_client()
    assert app.acquire_token_for_client(["api:read"])["token_source"] == "identity_provider"
    first, second = (s["data"] for s in session.to_token_endpoint())
    assert first["client_assertion_type"] == "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
    assert first["client_assertion"] != second["client_assertion"]  # signed afresh, as the provider demands
    claims = claims_of(first["client_assertion"])
    assert claims["aud"] == idp.metadata()["token_endpoint"] and claims["iss"] == claims["sub"] == PKJWT_CLIENT


def test_a_key_the_provider_does_not_know_is_invalid_client(idp):
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption()).decode()
    result = new_app(idp, PKJWT_CLIENT, {"private_key": pem, "thumbprint": "ab" * 20}) \
        .acquire_token_for_client(["api:read"])
    assert result["error"] == "invalid_client" and "access_token" not in result


def test_an_assertion_callable_is_called_for_each_request(idp):
    key = idp.client_key_pem
    audience = idp.metadata()["token_endpoint"]
    made = []

    def fresh_assertion() -> str:
        now = int(time.time())
        made.append(jwt.encode({"iss": PKJWT_CLIENT, "sub": PKJWT_CLIENT, "aud": audience, "iat": now,
                                "exp": now + 120, "jti": str(uuid.uuid4())}, key, algorithm="RS256"))
        return made[-1]

    app = new_app(idp, PKJWT_CLIENT, {"client_assertion": fresh_assertion})
    assert app.acquire_token_for_client(["api:read"])["token_source"] == "identity_provider"
    assert app.acquire_token_for_client(["api:read"])["token_source"] == "cache"
    app.remove_tokens_for_client()
    assert app.acquire_token_for_client(["api:read"])["token_source"] == "identity_provider"
    assert len(made) == 2 and made[0] != made[1]


# ---- on behalf of ------------------------------------------------------------------------------
def user_token(idp, user="alice") -> str:
    public = PublicClientApplication(NATIVE_CLIENT, oidc_authority=idp.issuer, token_cache=TokenCache())
    result = public.acquire_token_by_username_password(user, {"alice": "alice-pw", "bob": "bob-pw"}[user],
                                                       ["api:read"])
    return result["access_token"]


def test_on_behalf_of_trades_the_users_token_and_caches_by_its_hash(idp):
    cache = SerializableTokenCache()
    app = new_app(idp, CONFIDENTIAL_CLIENT, CLIENT_SECRET, token_cache=cache)
    assertion = user_token(idp)
    result = app.acquire_token_on_behalf_of(assertion, ["api:write"])
    assert result["token_source"] == "identity_provider" and result["scope"] == "api:write"
    assert result["id_token_claims"]["sub"] == "alice" and result["access_token"] != assertion
    assert claims_of(result["access_token"])["sub"] == "alice"
    before = len(token_calls(idp, GRANT_JWT_BEARER))
    again = app.acquire_token_on_behalf_of(assertion, ["api:write"])
    assert len(token_calls(idp, GRANT_JWT_BEARER)) == before
    assert again["token_source"] == "cache" and again["access_token"] == result["access_token"]
    (entry,) = cache.search(cache.CredentialType.ACCESS_TOKEN, query={"user_assertion_hash":
                                                                      user_assertion_hash(assertion)})
    assert entry["secret"] == result["access_token"]
    assert assertion not in cache.serialize()


def test_another_users_assertion_is_not_served_the_first_users_token(idp):
    app = new_app(idp, CONFIDENTIAL_CLIENT, CLIENT_SECRET)
    alice = app.acquire_token_on_behalf_of(user_token(idp, "alice"), ["api:write"])
    bob = app.acquire_token_on_behalf_of(user_token(idp, "bob"), ["api:write"])
    assert bob["token_source"] == "identity_provider" and bob["id_token_claims"]["sub"] == "bob"
    assert bob["access_token"] != alice["access_token"]
    app_only = app.acquire_token_for_client(["api:write"])
    assert app_only["token_source"] == "identity_provider"
    assert app_only["access_token"] not in {alice["access_token"], bob["access_token"]}


def test_an_assertion_the_provider_refuses_is_an_error_result(idp):
    result = new_app(idp, CONFIDENTIAL_CLIENT, CLIENT_SECRET).acquire_token_on_behalf_of("not.a.jwt", ["api:read"])
    assert result["error"] == "invalid_grant" and "not.a.jwt" not in str(result)


def test_the_assertion_hash_is_msal_dotnets_base64url_sha256():
    # SHA-256("abc") = ba7816bf...; base64url without padding, as MSAL .NET, Java and Node store it
    assert user_assertion_hash("abc") == "ungWv48Bz-pBQUDeXa4iI7ADYaOWF3qctBD_YfIAFa0"
