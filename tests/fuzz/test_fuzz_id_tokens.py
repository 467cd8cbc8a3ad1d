"""Fuzzing ID tokens and the JWKS they are checked against: verified, or a clear nbauth error.

Tokens are built by hand so that every part can be wrong: random segments and base64 noise,
headers of any shape (correctly signed over), claims of any shape (correctly signed), and
key sets of any shape served over HTTP by a loopback FakeServer.
"""
import base64
import json
import time

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding
from hypothesis import example, given
from hypothesis import strategies as st

from support.fake_provider import CLIENT_ID, FakeProvider, new_rsa_key, public_jwk
from support.fuzzing import deeply_nested, fuzz, json_texts, json_values, mutations, nbauth_error_or_nothing, texts
from nbauth.exceptions import IdTokenError, NbauthError
from nbauth.provider.jwks import JwksCache, verify_signature
from nbauth.protocol.idtoken_claims import DEFAULT_LEEWAY, check_id_token_claims
from nbauth.transport import RetryPolicy, Transport

KEY = new_rsa_key()
ISSUER = "https://idp.test"
NOW = 1_700_000_000
NONCE = "n-0f3a"
CLAIMS = {"iss": ISSUER, "sub": "alice", "aud": CLIENT_ID, "iat": NOW, "exp": NOW + 300, "nbf": NOW,
          "nonce": NONCE, "azp": CLIENT_ID, "tid": "t1"}
HEADER = {"alg": "RS256", "kid": "k1", "typ": "JWT"}


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def signed(header, claims, key=KEY) -> str:
    """An RS256 signature by ``key`` over whatever header and claims (any JSON values)."""
    signing_input = f"{b64(json.dumps(header).encode())}.{b64(json.dumps(claims).encode())}"
    signature = key.sign(signing_input.encode(), padding.PKCS1v15(), hashes.SHA256())
    return f"{signing_input}.{b64(signature)}"


@pytest.fixture
def jwks(fake_server):
    """The JWKS route (a dict the test may change) and its URL."""
    published = {"keys": [public_jwk(KEY, "k1")]}
    fake_server.route("GET", "/jwks", lambda request: (200, {}, published))
    return published, fake_server.url + "/jwks"


def strict_json(value) -> bool:
    """Whether ``value`` serializes as strict JSON (no NaN or Infinity, which nbauth refuses)."""
    try:
        json.dumps(value, allow_nan=False)
    except ValueError:
        return False
    return True


def transport():
    return Transport(retry=RetryPolicy(max_attempts=1), timeout=(2, 2))


segment = st.binary(max_size=40).map(b64) | texts | json_values.map(lambda v: b64(json.dumps(v).encode()))
noise_tokens = st.lists(segment, min_size=1, max_size=5).map(".".join) | texts


def test_noise_and_random_segments_are_refused(jwks):
    _, uri = jwks
    cache = JwksCache()

    @fuzz(max_examples=300)
    @given(token=noise_tokens)
    @example(token="\ud800")  # was a UnicodeEncodeError in PyJWT
    @example(token=f"{b64(deeply_nested().encode())}.e30.c2ln")  # was a RecursionError in PyJWT
    def check(token):
        with pytest.raises(IdTokenError):
            verify_signature(token, uri, transport(), cache=cache)

    check()


def test_headers_of_any_shape_verify_only_as_rs256_with_a_known_key(jwks):
    _, uri = jwks
    cache = JwksCache()

    @fuzz(max_examples=300)
    @given(header=mutations(HEADER, ("jku", "x5u", "jwk", "crit", "b64")) | json_values)
    @example(header={"alg": [], "kid": "k1"})  # was "unhashable type: 'list'"
    def check(header):
        with nbauth_error_or_nothing():
            claims = verify_signature(signed(header, CLAIMS), uri, transport(), cache=cache)
            assert claims == CLAIMS and header["alg"] == "RS256" and header.get("kid", "k1") == "k1"

    check()


def test_key_sets_of_any_shape_never_crash_and_never_hide_the_right_key(jwks):
    published, uri = jwks
    good = public_jwk(KEY, "k1")
    token = signed(HEADER, CLAIMS)

    @fuzz(max_examples=80)
    @given(others=st.lists(mutations(good, ("d", "crv", "x", "y")) | json_values, max_size=3),
           good_first=st.booleans(), keys_field=st.booleans())
    @example(others=[dict(good, n="AA")], good_first=False, keys_field=True)  # a broken k1 hid the good one
    def check(others, good_first, keys_field):
        keys = [good, *others] if good_first else [*others, good]
        published.clear()
        published.update({"keys": keys} if keys_field else {"keys": others})
        try:
            assert verify_signature(token, uri, transport(), cache=JwksCache()) == CLAIMS
        except NbauthError as error:
            assert not keys_field or not strict_json(keys), f"the right key was published, yet: {error}"

    check()


def test_a_jwks_endpoint_answering_anything_gives_a_clear_error(fake_server):
    token = signed(HEADER, CLAIMS)

    @fuzz(max_examples=60, deadline_ms=2000)
    @given(status=st.sampled_from([200, 200, 301, 404]), body=json_texts)
    def check(status, body):
        fake_server.route("GET", "/jwks", (status, {"Content-Type": "application/json"}, body))
        with nbauth_error_or_nothing():
            verify_signature(token, fake_server.url + "/jwks", transport(), cache=JwksCache())
            raise AssertionError("verified without a key")

    check()


@fuzz(max_examples=300)
@given(claims=mutations(CLAIMS, ("auth_time", "acr")), now=st.sampled_from([NOW, NOW + 200, NOW + 10 ** 6]))
@example(claims=dict(CLAIMS, exp=float("nan")), now=NOW + 10 ** 6)  # was accepted: NaN compares false
@example(claims=dict(CLAIMS, exp=10 ** 400), now=NOW)  # was an OverflowError
def test_claims_of_any_shape_pass_only_when_every_check_holds(claims, now):
    with nbauth_error_or_nothing():
        check_id_token_claims(claims, issuer=ISSUER, client_id=CLIENT_ID, now=now, nonce=NONCE)
        assert claims["iss"] == ISSUER and isinstance(claims["sub"], str) and claims["sub"]
        audiences = claims["aud"] if isinstance(claims["aud"], list) else [claims["aud"]]
        assert CLIENT_ID in audiences and claims.get("azp", CLIENT_ID) == CLIENT_ID
        assert now - DEFAULT_LEEWAY < claims["exp"] < float("inf") and claims["iat"] <= now + DEFAULT_LEEWAY
        assert claims["nonce"] == NONCE


@fuzz(max_examples=200)
@given(nonce=texts, expected=texts)
@example(nonce="\ud800", expected="\ud800")  # JSON's "\ud800" escape; was a UnicodeEncodeError
def test_any_nonce_text_is_compared_without_crashing(nonce, expected):
    claims = dict(CLAIMS, nonce=nonce)
    with nbauth_error_or_nothing():
        check_id_token_claims(claims, issuer=ISSUER, client_id=CLIENT_ID, now=NOW, nonce=expected)
        assert nonce == expected


def test_an_app_given_correctly_signed_claims_of_any_shape(fake_server):
    provider = FakeProvider(fake_server)

    @fuzz(max_examples=40, deadline_ms=3000)
    @given(overrides=mutations(provider.claims(), ("nonce", "azp", "tid", "oid", "preferred_username")))
    def check(overrides):
        provider.id_token = lambda claims, p: signed({"alg": "RS256", "kid": p.kid}, overrides, p.key)
        app = provider.app()
        with nbauth_error_or_nothing():
            result = app.acquire_token_by_username_password("alice", "pw", ["api:read"])
            if "error" in result:
                assert result["error"] == "invalid_id_token"
                assert list(app.token_cache.search("IdToken")) == []
            else:
                assert result["id_token_claims"] == overrides and overrides["exp"] > time.time() - DEFAULT_LEEWAY
                assert [a["home_account_id"] for a in app.get_accounts()] == [overrides["sub"]]

    check()
