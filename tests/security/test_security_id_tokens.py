"""Forged ID tokens and foreign keys are refused (RFC 8725 sections 2.1 and 3.1, OpenID Core 3.1.3.7).

Also covered in test_client_app_id_token.py, through an application with nothing cached:
``alg: none``, HS256 keyed with the provider's public key, a kid not in the JWKS (exactly one
refetch, then refused); in test_jwks.py: a JWKS over http off loopback is never fetched.
"""
import base64
import hashlib
import hmac
import json

import pytest
from cryptography.hazmat.primitives import serialization

from support.fake_provider import new_rsa_key, public_jwk
from nbauth.exceptions import IdTokenError, ProtocolError
from nbauth.provider.jwks import JwksCache, verify_signature
from nbauth.transport import RetryPolicy, Transport
from support.fake_http import FakeServer

KEY = new_rsa_key()
CLAIMS = {"iss": "https://idp.test", "sub": "alice", "aud": "client", "iat": 1, "exp": 2}


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def hmac_token(header: dict, secret: bytes) -> str:
    digest = {"HS256": hashlib.sha256, "HS384": hashlib.sha384, "HS512": hashlib.sha512}[header["alg"]]
    signing_input = f"{b64(json.dumps(header).encode())}.{b64(json.dumps(CLAIMS).encode())}"
    return f"{signing_input}.{b64(hmac.new(secret, signing_input.encode(), digest).digest())}"


def transport():
    return Transport(retry=RetryPolicy(max_attempts=1), timeout=(2, 2))


@pytest.fixture
def jwks(fake_server):
    published = {"keys": [public_jwk(KEY, "k1")]}
    fake_server.route("GET", "/jwks", lambda request: (200, {}, published))
    return published, fake_server.url + "/jwks"


def public_key_forms():
    """The ways an attacker could spell the public key as an HMAC secret."""
    public = KEY.public_key()
    pem = public.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    pkcs1 = public.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.PKCS1)
    der = public.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    modulus = public.public_numbers().n.to_bytes(256, "big")
    return {"pem": pem, "pem without newline": pem.rstrip(b"\n"), "pkcs1": pkcs1, "der": der, "modulus": modulus,
            "jwk": json.dumps(public_jwk(KEY, "k1")).encode()}


@pytest.mark.parametrize("alg", ["HS256", "HS384", "HS512"])
@pytest.mark.parametrize("form", public_key_forms().keys())
@pytest.mark.parametrize("kid", ["k1", None])
def test_hmac_signed_with_the_public_key_in_any_form_is_refused(jwks, alg, form, kid):
    header = {"alg": alg, **({"kid": kid} if kid else {})}
    with pytest.raises(IdTokenError, match=f"signed with '{alg}'"):
        verify_signature(hmac_token(header, public_key_forms()[form]), jwks[1], transport(), cache=JwksCache())


@pytest.mark.parametrize("alg", ["none", "None", "NONE", "nOnE", "", None])
@pytest.mark.parametrize("signature", ["", "c2ln"])
def test_unsigned_tokens_are_refused_whatever_the_spelling(jwks, alg, signature):
    header = {"typ": "JWT", **({"alg": alg} if alg is not None else {})}
    token = f"{b64(json.dumps(header).encode())}.{b64(json.dumps(CLAIMS).encode())}.{signature}"
    with pytest.raises(IdTokenError, match="signed with"):
        verify_signature(token, jwks[1], transport(), cache=JwksCache())


def test_a_symmetric_key_in_the_jwks_is_never_used(jwks):
    published, uri = jwks
    secret = b"shared-secret-of-32-bytes-length"
    published["keys"].append({"kty": "oct", "k": b64(secret), "kid": "s1", "alg": "HS256", "use": "sig"})
    with pytest.raises(IdTokenError, match="signed with 'HS256'"):
        verify_signature(hmac_token({"alg": "HS256", "kid": "s1"}, secret), uri, transport(), cache=JwksCache())


def test_an_rs256_token_is_not_checked_against_a_key_of_another_type_or_algorithm(jwks):
    import jwt

    published, uri = jwks
    published["keys"] = [dict(public_jwk(KEY, "k1"), alg="PS256"), dict(public_jwk(KEY, "k1"), kty="EC")]
    token = jwt.encode(CLAIMS, KEY, algorithm="RS256", headers={"kid": "k1"})
    with pytest.raises(IdTokenError, match="no RS256 key with kid 'k1'"):
        verify_signature(token, uri, transport(), cache=JwksCache())


def test_a_jwks_redirected_off_loopback_to_http_is_not_followed(fake_server, monkeypatch):
    """The redirect would reach keys an attacker serves over http (played here through a proxy)."""
    import jwt

    attacker = new_rsa_key()
    with FakeServer() as elsewhere:  # http://keys.example, reached through the proxy setting
        elsewhere.route("GET", "/jwks", (200, {}, {"keys": [public_jwk(attacker, "k1")]}))
        for name in ("http_proxy", "no_proxy"):
            monkeypatch.delenv(name, raising=False)
        monkeypatch.setenv("HTTP_PROXY", elsewhere.url)
        monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
        fake_server.route("GET", "/jwks", (302, {"Location": "http://keys.example/jwks"}, ""))
        token = jwt.encode(CLAIMS, attacker, algorithm="RS256", headers={"kid": "k1"})
        with pytest.raises(ProtocolError, match="HTTP 302"):
            verify_signature(token, fake_server.url + "/jwks", transport(), cache=JwksCache())
        assert elsewhere.requests == []
