"""The authorization request URL and the checks on the redirect back (RFC 6749, 7636, 9207)."""
from urllib.parse import parse_qs, urlsplit

import pytest

from nbauth.exceptions import ConfigurationError, FlowError, OAuthError
from nbauth.protocol.authcode import code_from_redirect, new_authorization_request, state_matches
from nbauth.protocol.pkce import challenge_s256

ISSUER = "https://idp.test/oidc"


def request(**kwargs):
    return new_authorization_request("https://idp.test/oidc/auth?p=policy", "client-1", "http://localhost:5000",
                                     ["api:read", "openid"], **kwargs)


def query(url):
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}


def test_the_url_carries_state_nonce_and_an_s256_challenge():
    req = request()
    params = query(req.url)
    assert params["p"] == "policy"  # the endpoint's own query is kept
    assert (params["client_id"], params["response_type"], params["scope"]) == ("client-1", "code", "api:read openid")
    assert (params["state"], params["nonce"]) == (req.state, req.nonce)
    assert params["code_challenge"] == challenge_s256(req.pkce.verifier)
    assert params["code_challenge_method"] == "S256"
    assert "code_verifier" not in params and req.pkce.verifier not in req.url


def test_optional_parameters_are_sent_only_when_given():
    params = query(request(prompt="select_account", login_hint="a@b", domain_hint="b", max_age=0,
                           claims='{"id_token":{}}').url)
    assert (params["prompt"], params["login_hint"], params["domain_hint"]) == ("select_account", "a@b", "b")
    assert (params["max_age"], params["claims"]) == ("0", '{"id_token":{}}')
    assert not {"prompt", "login_hint", "domain_hint", "max_age", "claims"} & set(query(request().url))


def test_each_request_has_fresh_secrets_and_hides_them_in_its_repr():
    first, second = request(), request()
    assert first.state != second.state and first.nonce != second.nonce
    assert first.state not in repr(first) and first.nonce not in repr(first)


def test_a_bad_max_age_is_refused():
    with pytest.raises(ConfigurationError, match="max_age"):
        request(max_age=-1)


def test_the_matching_redirect_gives_the_code():
    req = request()
    assert code_from_redirect({"code": "c1", "state": req.state, "iss": ISSUER}, req, issuer=ISSUER) == "c1"
    assert state_matches({"state": req.state}, req.state)


@pytest.mark.parametrize("state", [None, "", "forged"])
def test_a_redirect_with_another_state_is_refused(state):
    req = request()
    params = {"code": "c1"} if state is None else {"code": "c1", "state": state}
    with pytest.raises(FlowError, match="state does not match"):
        code_from_redirect(params, req, issuer=ISSUER)


def test_rfc_9207_iss_must_match_and_be_present_when_advertised():
    req = request()
    with pytest.raises(FlowError, match="issuer 'https://evil.test'"):
        code_from_redirect({"code": "c", "state": req.state, "iss": "https://evil.test"}, req, issuer=ISSUER)
    with pytest.raises(FlowError, match="no iss"):
        code_from_redirect({"code": "c", "state": req.state}, req, issuer=ISSUER, issuer_required=True)
    assert code_from_redirect({"code": "c", "state": req.state}, req, issuer=ISSUER) == "c"


def test_an_error_redirect_is_the_providers_oauth_error():
    req = request()
    with pytest.raises(OAuthError) as caught:
        code_from_redirect({"error": "access_denied", "error_description": "no", "state": req.state}, req,
                           issuer=ISSUER)
    assert (caught.value.error, caught.value.description) == ("access_denied", "no")


def test_a_redirect_without_code_or_error_is_refused():
    req = request()
    with pytest.raises(FlowError, match="neither a code nor an error"):
        code_from_redirect({"state": req.state}, req, issuer=ISSUER)
