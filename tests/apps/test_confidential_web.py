"""The web app's authorization-code flow against the local provider, a person played by
``idp.browser.login``: state, iss and nonce checked, PKCE sent, tokens cached for the user."""
from __future__ import annotations

import warnings
from urllib.parse import parse_qsl, urlsplit

import pytest

from idp.browser import login
from idp.server import CLIENT_SECRET, CONFIDENTIAL_CLIENT, WEB_REDIRECT_URI
from nbauth import ConfidentialClientApplication, ConfigurationError, FlowError
from nbauth.cache import TokenCache
from nbauth.protocol.pkce import new_pkce


def new_app(idp):
    return ConfidentialClientApplication(CONFIDENTIAL_CLIENT, CLIENT_SECRET, oidc_authority=idp.issuer,
                                         token_cache=TokenCache())


def redirect_params(url: str) -> dict:
    assert url.startswith(WEB_REDIRECT_URI), url
    return dict(parse_qsl(urlsplit(url).query))


def sign_in(idp, flow, user="alice") -> dict:
    return redirect_params(login(flow["auth_uri"], user, verify=idp.ca_path))


def code_calls(idp) -> int:
    return len(idp.token_log("authorization_code"))


def test_a_person_signs_in_and_the_web_app_gets_their_tokens(idp):
    app = new_app(idp)
    flow = app.initiate_auth_code_flow(["api:read"], redirect_uri=WEB_REDIRECT_URI, login_hint="alice")
    query = dict(parse_qsl(urlsplit(flow["auth_uri"]).query))
    assert query["code_challenge_method"] == "S256" and query["state"] == flow["state"]
    assert query["nonce"] == flow["nonce"] and "code_verifier" not in query and query["login_hint"] == "alice"
    assert {"state", "nonce", "code_verifier", "auth_uri", "redirect_uri", "scope", "claims_challenge"} <= set(flow)
    assert flow["code_verifier"] not in repr(flow)

    result = app.acquire_token_by_auth_code_flow(flow, sign_in(idp, flow))
    assert result["token_source"] == "identity_provider" and result["scope"] == "api:read"
    assert result["id_token_claims"]["sub"] == "alice" and result["id_token_claims"]["nonce"] == flow["nonce"]
    (account,) = app.get_accounts()
    assert account["username"] == "alice@example.test" and account["account_source"] == "authorization_code"
    silent = app.acquire_token_silent(["api:read"], account)
    assert silent["token_source"] == "cache" and silent["access_token"] == result["access_token"]


def test_a_tampered_state_is_rejected_before_the_code_is_redeemed(idp):
    app = new_app(idp)
    flow = app.initiate_auth_code_flow(["api:read"], redirect_uri=WEB_REDIRECT_URI)
    response = sign_in(idp, flow)
    before = code_calls(idp)
    with pytest.raises(FlowError, match="state does not match") as caught:
        app.acquire_token_by_auth_code_flow(flow, dict(response, state=response["state"] + "x"))
    assert code_calls(idp) == before and app.get_accounts() == []
    assert response["code"] not in str(caught.value) and response["state"] not in str(caught.value)
    with pytest.raises(FlowError):
        app.acquire_token_by_auth_code_flow(flow, {k: v for k, v in response.items() if k != "state"})
    # the genuine response still works: nothing was spent on the forged ones
    assert "access_token" in app.acquire_token_by_auth_code_flow(flow, response)


def test_a_response_from_another_issuer_is_rejected(idp):
    app = new_app(idp)
    flow = app.initiate_auth_code_flow(["api:read"], redirect_uri=WEB_REDIRECT_URI)
    response = sign_in(idp, flow)
    with pytest.raises(FlowError, match="RFC 9207"):
        app.acquire_token_by_auth_code_flow(flow, dict(response, iss="https://evil.example.test"))


def test_a_flow_whose_nonce_differs_from_the_id_tokens_caches_nothing(idp):
    app = new_app(idp)
    flow = app.initiate_auth_code_flow(["api:read"], redirect_uri=WEB_REDIRECT_URI)
    response = sign_in(idp, flow)
    result = app.acquire_token_by_auth_code_flow(dict(flow, nonce="another-sign-ins-nonce"), response)
    assert result["error"] == "invalid_id_token" and "nonce" in result["error_description"]
    assert app.get_accounts() == [] and "access_token" not in result


def test_the_providers_refusal_and_a_spent_code_are_error_results(idp):
    app = new_app(idp)
    refused_flow = app.initiate_auth_code_flow(["api:read"], redirect_uri=WEB_REDIRECT_URI)
    refused = app.acquire_token_by_auth_code_flow(
        refused_flow, {"state": refused_flow["state"], "iss": idp.issuer, "error": "access_denied",
                       "error_description": "no"})
    assert refused == {"error": "access_denied", "error_description": "no"}
    flow = app.initiate_auth_code_flow(["api:read"], redirect_uri=WEB_REDIRECT_URI)
    response = sign_in(idp, flow)
    assert "access_token" in app.acquire_token_by_auth_code_flow(flow, response)
    with warnings.catch_warnings():  # the flow is used up (tests/test_security_state.py); the code, sent
        warnings.simplefilter("ignore", DeprecationWarning)  # again by MSAL's older method, is spent too
        spent = app.acquire_token_by_authorization_code(response["code"], ["api:read"], WEB_REDIRECT_URI,
                                                        data={"code_verifier": flow["code_verifier"]})
    assert spent["error"] == "invalid_grant"


def test_scopes_at_redemption_must_be_a_subset_of_the_flows(idp):
    app = new_app(idp)
    flow = app.initiate_auth_code_flow(["api:read"], redirect_uri=WEB_REDIRECT_URI)
    response = sign_in(idp, flow)
    with pytest.raises(FlowError, match="subset"):
        app.acquire_token_by_auth_code_flow(flow, response, scopes=["api:write"])
    assert app.acquire_token_by_auth_code_flow(flow, response, scopes=["api:read"])["scope"] == "api:read"


def test_flow_options_reach_the_url_and_bad_ones_are_named(idp):
    app = new_app(idp)
    flow = app.initiate_auth_code_flow(["api:read"], redirect_uri=WEB_REDIRECT_URI, state="my-state",
                                       prompt="login", max_age=60, response_mode="form_post")
    query = dict(parse_qsl(urlsplit(flow["auth_uri"]).query))
    assert (query["state"], query["prompt"], query["max_age"], query["response_mode"]) == \
        ("my-state", "login", "60", "form_post")
    for kwargs, fragment in (({}, "redirect_uri is required"),
                             ({"redirect_uri": WEB_REDIRECT_URI, "response_mode": "fragment"}, "response_mode"),
                             ({"redirect_uri": WEB_REDIRECT_URI, "state": ""}, "state must be")):
        with pytest.raises(ConfigurationError, match=fragment):
            app.initiate_auth_code_flow(["api:read"], **kwargs)
    for broken in ({}, dict(flow, code_verifier=None), "not a dict"):
        with pytest.raises(ConfigurationError, match="initiate_auth_code_flow"):
            app.acquire_token_by_auth_code_flow(broken, {"code": "c", "state": "my-state"})


def test_msals_older_pair_signs_in_with_the_callers_state_and_nonce(idp):
    app = new_app(idp)
    with pytest.warns(DeprecationWarning):
        url = app.get_authorization_request_url(["api:read"], state="s-123", nonce="n-456",
                                                redirect_uri=WEB_REDIRECT_URI)
    query = dict(parse_qsl(urlsplit(url).query))
    assert (query["state"], query["nonce"], query["response_type"]) == ("s-123", "n-456", "code")
    response = redirect_params(login(url, "bob", verify=idp.ca_path))
    assert response["state"] == "s-123"  # the caller's to check, in this older style
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        result = app.acquire_token_by_authorization_code(response["code"], ["api:read"],
                                                         redirect_uri=WEB_REDIRECT_URI, nonce="n-456")
    assert result["id_token_claims"]["sub"] == "bob" and result["id_token_claims"]["nonce"] == "n-456"
    with pytest.raises(ConfigurationError, match="response_type"), warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        app.get_authorization_request_url(["api:read"], response_type="token")


def test_the_older_pair_takes_pkce_as_msal_does(idp):
    app = new_app(idp)
    pkce = new_pkce()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        url = app.get_authorization_request_url(["api:read"], state="s", redirect_uri=WEB_REDIRECT_URI,
                                                code_challenge=pkce.challenge, code_challenge_method="S256")
        assert dict(parse_qsl(urlsplit(url).query))["code_challenge"] == pkce.challenge
        code = redirect_params(login(url, "alice", verify=idp.ca_path))["code"]
        result = app.acquire_token_by_authorization_code(code, ["api:read"], redirect_uri=WEB_REDIRECT_URI,
                                                         data={"code_verifier": pkce.verifier})
        assert result["id_token_claims"]["sub"] == "alice"
        for kwargs, fragment in (({"code_challenge": pkce.challenge}, "S256"),
                                 ({"code_challenge": pkce.challenge, "code_challenge_method": "plain"}, "S256"),
                                 ({"scope": "x"}, "sets .'scope'. itself"), ({"max_age": 5}, "must be strings")):
            with pytest.raises(ConfigurationError, match=fragment):
                app.get_authorization_request_url(["api:read"], **kwargs)
        with pytest.raises(ConfigurationError, match="only hold code_verifier"):
            app.acquire_token_by_authorization_code("c", ["api:read"], data={"grant_type": "password"})


def test_the_older_pair_checks_the_nonce_too(idp):
    app = new_app(idp)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        url = app.get_authorization_request_url(["api:read"], nonce="n-1", redirect_uri=WEB_REDIRECT_URI)
        code = redirect_params(login(url, "alice", verify=idp.ca_path))["code"]
        result = app.acquire_token_by_authorization_code(code, ["api:read"], redirect_uri=WEB_REDIRECT_URI,
                                                         nonce="n-2")
    assert result["error"] == "invalid_id_token" and app.get_accounts() == []


def test_a_public_client_has_the_auth_code_flow_too_as_in_msal(idp):
    """MSAL puts the auth-code methods on the shared base: a desktop app that runs its own
    redirect listener uses them with PKCE and no secret."""
    from idp.server import NATIVE_CLIENT
    from nbauth import PublicClientApplication

    app = PublicClientApplication(NATIVE_CLIENT, oidc_authority=idp.issuer, token_cache=TokenCache())
    flow = app.initiate_auth_code_flow(["api:read"], redirect_uri="http://127.0.0.1:8400/callback")
    redirect = login(flow["auth_uri"], "bob", verify=idp.ca_path)
    result = app.acquire_token_by_auth_code_flow(flow, dict(parse_qsl(urlsplit(redirect).query)))
    assert result["id_token_claims"]["sub"] == "bob" and "refresh_token" in result
    assert app.get_accounts()[0]["username"] == "bob@example.test"


def test_max_age_is_sent_and_the_auth_time_it_asks_for_is_checked(idp):
    app = new_app(idp)
    flow = app.initiate_auth_code_flow(["api:read"], redirect_uri=WEB_REDIRECT_URI, max_age=3600)
    assert dict(parse_qsl(urlsplit(flow["auth_uri"]).query))["max_age"] == "3600"
    result = app.acquire_token_by_auth_code_flow(flow, sign_in(idp, flow))
    assert isinstance(result["id_token_claims"]["auth_time"], int)


def test_a_changed_max_age_in_the_flow_is_refused(idp):
    app = new_app(idp)
    flow = app.initiate_auth_code_flow(["api:read"], redirect_uri=WEB_REDIRECT_URI, max_age=3600)
    with pytest.raises(ConfigurationError, match="unchanged"):
        app.acquire_token_by_auth_code_flow(dict(flow, max_age="soon"), {"state": flow["state"], "code": "x"})
