"""Reading WWW-Authenticate answers: which 401s earn one retry, and with what claims."""
import base64
import json

import pytest

from nbauth.integrations.challenge import Challenge, Retry, decode_claims, parse_challenges, retry_for

CLAIMS = '{"access_token":{"nbf":{"essential":true,"value":"1604106651"}}}'
ENTRA_CLAIMS = base64.b64encode(CLAIMS.encode()).decode()  # padded, standard alphabet, as Entra sends


def test_entra_claims_challenge_is_parsed_and_decoded():
    header = ('Bearer realm="", authorization_uri="https://login.microsoftonline.com/common/oauth2/authorize", '
              f'client_id="00000003-0000-0000-c000-000000000000", error="insufficient_claims", claims="{ENTRA_CLAIMS}"')
    (challenge,) = parse_challenges(header)
    assert challenge.scheme == "Bearer" and challenge.params["realm"] == ""
    assert challenge.params["authorization_uri"] == "https://login.microsoftonline.com/common/oauth2/authorize"
    assert retry_for(header) == Retry("insufficient_claims", CLAIMS)


def test_several_challenges_quoted_escapes_and_case():
    header = 'Basic realm="files, and more", BEARER Error=invalid_token, error_description="the \\"token\\" expired"'
    assert parse_challenges(header) == [
        Challenge("Basic", {"realm": "files, and more"}),
        Challenge("BEARER", {"error": "invalid_token", "error_description": 'the "token" expired'}),
    ]
    assert retry_for(header) == Retry("invalid_token", None)


@pytest.mark.parametrize("encode", [
    lambda raw: base64.b64encode(raw).decode(),
    lambda raw: base64.b64encode(raw).decode().rstrip("="),
    lambda raw: base64.urlsafe_b64encode(raw).decode().rstrip("="),
])
def test_claims_in_either_base64_alphabet_with_or_without_padding(encode):
    raw = json.dumps({"access_token": {"acrs": {"essential": True, "value": "c1?>"}}}).encode()
    assert decode_claims(encode(raw)) == raw.decode()


@pytest.mark.parametrize("header", [
    None, "", "Basic realm=\"x\"",
    'Bearer realm="api"',  # no error: the request carried no token at all
    'Bearer error="insufficient_scope", scope="api:write"',  # a new token for the same scopes won't help
    'Bearer error="insufficient_claims"',  # no claims to ask for
    'Bearer error="insufficient_claims", claims="not base64!"',
    f'Bearer error="insufficient_claims", claims="{base64.b64encode(b"[1, 2]").decode()}"',  # not an object
    'Bearer error="invalid_request"',
    'Basic error="invalid_token"',  # another scheme's parameters
])
def test_no_retry_where_a_new_token_cannot_help(header):
    assert retry_for(header) is None


def test_a_parameter_before_any_scheme_and_empty_values_are_tolerated():
    assert parse_challenges('error="x", Bearer error=, realm=""') == [Challenge("Bearer", {"error": "", "realm": ""})]
