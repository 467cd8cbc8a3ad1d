"""ID-token claim checks (OpenID Connect Core 3.1.3.7)."""
import pytest

from nbauth.exceptions import IdTokenError
from nbauth.protocol.idtoken_claims import check_id_token_claims

NOW = 1_700_000_000
ISSUER = "https://idp.test/oidc"


def claims(**overrides):
    base = {"iss": ISSUER, "sub": "alice", "aud": "client-1", "exp": NOW + 300, "iat": NOW, "nonce": "n-1"}
    base.update(overrides)
    return {k: v for k, v in base.items() if v is not None}


def check(token_claims, **kwargs):
    kwargs = {"issuer": ISSUER, "client_id": "client-1", "now": NOW, "nonce": "n-1", **kwargs}
    check_id_token_claims(token_claims, **kwargs)


def test_good_claims_pass():
    check(claims())
    check(claims(aud=["client-1", "api"], azp="client-1"))
    check(claims(exp=NOW - 30, iat=NOW + 30, nbf=NOW + 30))  # within the leeway


@pytest.mark.parametrize("overrides, complaint", [
    ({"iss": "https://evil.test"}, "issuer 'https://evil.test'"),
    ({"iss": None}, "issuer None"),
    ({"sub": None}, "no sub"),
    ({"aud": "other-client"}, "issued to 'other-client'"),
    ({"aud": ["api", "other"]}, "issued to"),
    ({"aud": ["client-1", "api"]}, "no azp"),
    ({"aud": ["client-1", "api"], "azp": "api"}, "azp is 'api'"),
    ({"exp": NOW - 61}, "expired"),
    ({"exp": None}, "exp claim is missing"),
    ({"exp": "tomorrow"}, "exp claim is not a number"),
    ({"iat": NOW + 61}, "iat is in the future"),
    ({"nbf": NOW + 61}, "not valid yet"),
    ({"nonce": "n-2"}, "nonce does not match"),
    ({"nonce": None}, "nonce does not match"),
])
def test_each_bad_claim_is_named(overrides, complaint):
    with pytest.raises(IdTokenError, match=complaint):
        check(claims(**overrides))


def test_nonce_is_checked_only_when_the_request_sent_one():
    check(claims(nonce=None), nonce=None)
    check(claims(nonce="whatever"), nonce=None)


def test_entras_tenant_placeholder_is_filled_from_tid():
    template = "https://login.microsoftonline.com/{tenantid}/v2.0"
    check(claims(iss="https://login.microsoftonline.com/t-1/v2.0", tid="t-1"), issuer=template)
    with pytest.raises(IdTokenError, match="issuer"):
        check(claims(iss="https://login.microsoftonline.com/t-2/v2.0", tid="t-1"), issuer=template)


def test_max_age_needs_a_recent_enough_auth_time():
    """OpenID Core 3.1.3.7: with max_age asked for, auth_time is required and must be recent."""
    check(claims(auth_time=NOW - 600), max_age=600)
    check(claims(auth_time=NOW - 650), max_age=600)  # within the leeway
    check(claims(), max_age=None)  # not asked: auth_time may be absent
    with pytest.raises(IdTokenError, match="older than the max_age of 600 s"):
        check(claims(auth_time=NOW - 700), max_age=600)
    with pytest.raises(IdTokenError, match="auth_time claim is missing"):
        check(claims(), max_age=600)
