"""Signature checks against a provider's JWKS: fetched once, refetched on an unknown kid."""
import json

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from support.fake_provider import new_rsa_key, public_jwk
from nbauth.exceptions import IdTokenError, ProtocolError
from nbauth.provider.jwks import JwksCache, verify_signature
from nbauth.transport import Transport

CLAIMS = {"iss": "https://idp.test", "sub": "alice"}


@pytest.fixture
def keys(fake_server):
    key = new_rsa_key()
    published = {"keys": [public_jwk(key, "k1")]}
    fake_server.route("GET", "/jwks", lambda request: (200, {}, published))
    return key, published, fake_server.url + "/jwks"


def verify(token, uri, cache):
    return verify_signature(token, uri, Transport(), cache=cache)


def test_a_good_signature_gives_the_claims_and_keys_are_fetched_once(keys, fake_server):
    key, _, uri = keys
    cache = JwksCache()
    token = jwt.encode(CLAIMS, key, algorithm="RS256", headers={"kid": "k1"})
    assert verify(token, uri, cache) == CLAIMS
    assert verify(token, uri, cache) == CLAIMS
    assert len(fake_server.requests_to("/jwks")) == 1


def test_a_token_without_kid_is_tried_against_the_matching_keys(keys):
    key, _, uri = keys
    assert verify(jwt.encode(CLAIMS, key, algorithm="RS256"), uri, JwksCache()) == CLAIMS


def test_ec_keys_are_allowed(keys):
    _, published, uri = keys
    ec_key = ec.generate_private_key(ec.SECP256R1())
    published["keys"].append(dict(json.loads(jwt.algorithms.ECAlgorithm.to_jwk(ec_key.public_key())), kid="e1"))
    token = jwt.encode(CLAIMS, ec_key, algorithm="ES256", headers={"kid": "e1"})
    assert verify(token, uri, JwksCache()) == CLAIMS


def test_keys_for_encryption_or_another_algorithm_are_not_used(keys):
    key, published, uri = keys
    published["keys"] = [dict(public_jwk(key, "k1"), use="enc"), dict(public_jwk(key, "k1"), alg="RS512")]
    with pytest.raises(IdTokenError, match="no RS256 key with kid 'k1'"):
        verify(jwt.encode(CLAIMS, key, algorithm="RS256", headers={"kid": "k1"}), uri, JwksCache())


@pytest.mark.parametrize("answer", [(404, {}, "nope"), (200, {}, {"no": "keys"}), (200, {}, "not json")])
def test_a_broken_jwks_is_a_protocol_error(fake_server, answer):
    fake_server.route("GET", "/jwks", answer)
    token = jwt.encode(CLAIMS, new_rsa_key(), algorithm="RS256", headers={"kid": "k1"})
    with pytest.raises(ProtocolError, match="JWKS"):
        verify(token, fake_server.url + "/jwks", JwksCache())


def test_a_jwks_over_http_off_loopback_is_refused_without_a_request():
    token = jwt.encode(CLAIMS, new_rsa_key(), algorithm="RS256")
    with pytest.raises(ProtocolError, match="jwks_uri must use https"):
        verify(token, "http://idp.example/jwks", JwksCache())
