"""Token requests and responses (RFC 6749 sections 4-5), with Entra's extra error fields."""
import json

import pytest

from nbauth.exceptions import ConfigurationError, OAuthError, ProtocolError
from nbauth.protocol import oauth2
from nbauth.transport import HttpResponse


def answer(status, body, headers=None):
    text = body if isinstance(body, str) else json.dumps(body)
    return HttpResponse(status_code=status, text=text, url="https://idp.test/token", headers=headers or {})


GOOD = {"access_token": "at-secret", "token_type": "Bearer", "expires_in": 3600}


def test_a_good_response_is_returned_with_int_lifetimes():
    parsed = oauth2.parse_token_response(answer(200, dict(GOOD, ext_expires_in="7200", refresh_in=1800.0)))
    assert parsed["access_token"] == "at-secret"
    assert (parsed["expires_in"], parsed["ext_expires_in"], parsed["refresh_in"]) == (3600, 7200, 1800)


def test_the_tokens_of_a_response_print_masked_while_in_flight():
    parsed = oauth2.parse_token_response(answer(200, dict(GOOD, refresh_token="rt-secret", id_token="a.b.c")))
    assert "secret" not in repr(parsed) and "a.b.c" not in repr(parsed) and "<redacted>" in repr(parsed)
    assert (parsed["access_token"], parsed["refresh_token"], json.loads(json.dumps(parsed))["id_token"]) == (
        "at-secret", "rt-secret", "a.b.c")


def test_expires_in_as_a_numeric_string_is_accepted():
    assert oauth2.parse_token_response(answer(200, dict(GOOD, expires_in="3599")))["expires_in"] == 3599


@pytest.mark.parametrize("body, complaint", [
    ("<html>busy</html>", "not a JSON object"),
    ([1, 2], "not a JSON object"),
    ({"token_type": "Bearer"}, "no access_token"),
    ({"access_token": "x"}, "no token_type"),
    (dict(GOOD, expires_in="soon"), "expires_in is not a number"),
    (dict(GOOD, expires_in=-5), "expires_in is not a non-negative"),
    (dict(GOOD, expires_in=True), "expires_in is not a number"),
    (dict(GOOD, refresh_token=123), "refresh_token is not a string"),
])
def test_malformed_responses_are_protocol_errors_without_the_token(body, complaint):
    with pytest.raises(ProtocolError, match=complaint) as caught:
        oauth2.parse_token_response(answer(200, body))
    assert "at-secret" not in str(caught.value)


def test_an_error_response_carries_entras_fields():
    body = {"error": "invalid_grant", "error_description": "AADSTS70000: expired", "error_codes": [70000, "x"],
            "correlation_id": "corr-1", "claims": '{"access_token":{}}'}
    with pytest.raises(OAuthError) as caught:
        oauth2.parse_token_response(answer(400, body))
    error = caught.value
    assert (error.error, error.description, error.error_codes) == ("invalid_grant", "AADSTS70000: expired", [70000])
    assert (error.correlation_id, error.status, error.claims) == ("corr-1", 400, '{"access_token":{}}')
    assert error.to_result()["correlation_id"] == "corr-1"


def test_the_correlation_id_may_come_from_a_header():
    with pytest.raises(OAuthError) as caught:
        oauth2.parse_token_response(answer(401, {"error": "invalid_client"}, {"Client-Request-Id": "hdr-2"}))
    assert caught.value.correlation_id == "hdr-2" and caught.value.description == ""


def test_an_http_error_without_an_oauth_error_is_a_protocol_error():
    with pytest.raises(ProtocolError, match="HTTP 502"):
        oauth2.parse_token_response(answer(502, "Bad gateway"))
    with pytest.raises(ProtocolError, match="without an OAuth error"):
        oauth2.parse_token_response(answer(500, {"message": "oops"}))


def test_an_error_code_that_is_not_a_string_is_a_protocol_error():
    with pytest.raises(ProtocolError, match="no error code"):
        oauth2.parse_token_response(answer(400, {"error": 42}))


def test_grants_carry_their_fields_and_say_whether_they_may_be_resent():
    code = oauth2.authorization_code_grant("the-code", "http://localhost:1", "verifier", ["a", "openid"])
    assert code.form({"client_id": "c", "claims": None}) == {
        "grant_type": "authorization_code", "code": "the-code", "redirect_uri": "http://localhost:1",
        "code_verifier": "verifier", "scope": "a openid", "client_id": "c"}
    assert not code.repeatable and not oauth2.refresh_token_grant("rt").repeatable
    assert oauth2.device_code_grant("dc").repeatable and oauth2.password_grant("u", "p", ["a"]).repeatable


def test_a_grants_repr_names_fields_but_shows_no_values():
    grant = oauth2.password_grant("alice", "hunter2", ["api:read"])
    assert "hunter2" not in repr(grant) and "password" in repr(grant)


def test_client_capabilities_merge_into_the_claims_challenge():
    merged = json.loads(oauth2.merge_claims(["cp1"], '{"access_token": {"nbf": {"essential": true}}}'))
    assert merged == {"access_token": {"nbf": {"essential": True}, "xms_cc": {"values": ["cp1"]}}}
    assert oauth2.merge_claims(None, '{"id_token": {}}') == '{"id_token": {}}'
    assert oauth2.merge_claims([], None) is None
    with pytest.raises(ConfigurationError, match="claims_challenge"):
        oauth2.merge_claims(["cp1"], "not json")
