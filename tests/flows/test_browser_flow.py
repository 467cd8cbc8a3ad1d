"""The kernel's half of browser sign-in (``nbauth.flows.browser``) against the local provider,
with its login and consent pages played over HTTP (``idp.browser``): no notebook, no browser."""
from __future__ import annotations

from urllib.parse import parse_qsl, urlsplit

import pytest

from idp.browser import login
from idp.server import EMAILS
from nbauth.apps.public import PublicClientApplication
from nbauth.exceptions import ConfigurationError, FlowError, OAuthError
from nbauth.flows.browser import (BrowserFlow, RedirectNotRegistered, checked_redirect_uri, redirect_uri_for,
                                  refused)
from nbauth.transport.base import HttpResponse

SCOPES = ["email", "api:read"]
LAB_URI = "http://127.0.0.1:8888/nbauth/callback"  # registered without the port (loopback)


@pytest.fixture
def flow(idp, tmp_path):
    app = PublicClientApplication("nbauth-native", oidc_authority=idp.issuer)
    return BrowserFlow(app, SCOPES, app.service.transport.get)


def params_of(url: str) -> dict:
    return dict(parse_qsl(urlsplit(url).query))


def test_sign_in_redeems_the_redirect_once(flow, idp):
    auth_uri = flow.start(LAB_URI)
    sent = params_of(auth_uri)
    assert sent["redirect_uri"] == LAB_URI and sent["code_challenge_method"] == "S256"
    assert "code_verifier" not in auth_uri
    back = login(auth_uri, "alice", verify=idp.ca_path)
    assert back.startswith(LAB_URI + "?")
    params = params_of(back)
    result = flow.answer(params)
    assert result.id_token_claims["email"] == EMAILS["alice"] and result.access_token
    assert result.account["username"] == EMAILS["alice"]
    assert flow.answer(params) is None  # taken once: the same redirect again is ignored
    assert not flow.pending


def test_another_sign_ins_answer_is_ignored(flow, idp):
    flow.start(LAB_URI)
    assert flow.answer({"code": "c", "state": "not-this-one"}) is None
    assert flow.pending  # still waiting for its own answer
    with pytest.raises(FlowError):
        flow.answer({"code": ["c"], "state": "x"})


def test_provider_error_comes_back_as_the_providers_oauth_error(flow, idp):
    auth_uri = flow.start(LAB_URI)
    with pytest.raises(OAuthError) as refused:
        flow.answer({"error": "access_denied", "error_description": "<b>no</b>",
                     "state": params_of(auth_uri)["state"], "iss": idp.issuer})
    assert (refused.value.error, refused.value.description) == ("access_denied", "<b>no</b>")


def test_unregistered_redirect_uri_is_named(flow, idp):
    with pytest.raises(RedirectNotRegistered) as caught:
        flow.start("http://127.0.0.1:8888/user/alice/nbauth/callback")
    assert caught.value.redirect_uri == "http://127.0.0.1:8888/user/alice/nbauth/callback"
    assert "Mobile and desktop applications" in str(caught.value)
    assert not flow.pending


@pytest.mark.parametrize("uri, problem", [
    ("http://jupyter.example.org/nbauth/callback", "https"),
    ("https://jupyter.example.org/nbauth/callback?x=1", "without query"),
    ("https://jupyter.example.org/other", "end in /nbauth/callback"),
    ("javascript:alert(1)//nbauth/callback", "redirect URI"),
    (None, "redirect URI"),
])
def test_redirect_uri_proposed_by_the_page_is_checked(uri, problem):
    with pytest.raises(ConfigurationError, match=problem):
        checked_redirect_uri(uri)


@pytest.mark.parametrize("page, base, hub, expected", [
    ("http://127.0.0.1:8888/lab", "/", None, "http://127.0.0.1:8888/nbauth/callback"),
    ("https://nb.example.org/user/ann/lab/tree/a.ipynb", "/user/ann/", "/hub/",
     "https://nb.example.org/hub/user-redirect/nbauth/callback"),
    ("https://example.org:8443/", "/jupyter", None, "https://example.org:8443/jupyter/nbauth/callback"),
])
def test_redirect_uri_for_a_page(page, base, hub, expected):
    assert redirect_uri_for(page, base, hub) == expected


@pytest.mark.parametrize("status, headers, text, verdict", [
    (303, {"Location": LAB_URI + "?error=login_required"}, "", False),
    (302, {"Location": "/oidc/interaction/x"}, "", None),
    (400, {}, "redirect_uri did not match", True),
    (200, {}, "AADSTS50011: The redirect URI ... does not match", True),
    (200, {}, "<html>sign in</html>", None),
])
def test_reading_the_probes_answer(status, headers, text, verdict):
    response = HttpResponse(status, text, "https://op.example/authorize?x", headers)
    assert refused(response, LAB_URI) is verdict
