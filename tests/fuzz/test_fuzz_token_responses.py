"""Fuzzing what token and device-authorization endpoints answer: parsed, or a clear nbauth error.

The parsers are fed directly (many examples), then through the real path (HTTP on a loopback
FakeServer, ID-token check, cache) with fewer.
"""
import base64
import json

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from support.fake_provider import FakeProvider
from support.fuzzing import deeply_nested, fuzz, json_texts, json_values, mutations, nbauth_error_or_nothing, tweaks
from nbauth.exceptions import OAuthError, ProtocolError
from nbauth.protocol.device import msal_view, parse_device_authorization
from nbauth.protocol.oauth2 import parse_token_response
from nbauth.transport import HttpResponse

ACCESS_TOKEN = "at-SECRET-4a7c"
TOKEN_RESPONSE = {"access_token": ACCESS_TOKEN, "token_type": "Bearer", "expires_in": 3600,
                  "refresh_token": "rt-SECRET-91be", "scope": "api:read", "id_token": "h.p.s"}
TOKEN_EXTRAS = ("ext_expires_in", "refresh_in", "expires_on", "foci", "client_info", "error", "error_description",
                "error_codes", "correlation_id", "claims")
ERROR_RESPONSE = {"error": "invalid_grant", "error_description": "expired", "error_codes": [70008],
                  "correlation_id": "c-1", "claims": "{}"}
DEVICE_RESPONSE = {"device_code": "dc-SECRET", "user_code": "ABCD-EFGH", "verification_uri": "https://idp.test/device",
                   "interval": 5, "expires_in": 900, "message": "Go there"}
DEVICE_EXTRAS = ("verification_url", "verification_uri_complete")
STATUSES = st.sampled_from([200, 201, 204, 301, 400, 401, 403, 404, 418]) | st.integers(100, 599)
HEADERS = st.dictionaries(st.sampled_from(["Content-Type", "x-ms-correlation-id", "client-request-id", "Location"]),
                          st.text(max_size=20) | st.sampled_from(["http://[", "https://elsewhere.example/t"]),
                          max_size=2)


def answer(status, text, headers=None):
    return HttpResponse(status_code=status, text=text, url="https://idp.test/token", headers=headers or {})


token_bodies = mutations(TOKEN_RESPONSE, TOKEN_EXTRAS).map(json.dumps) | json_texts
error_bodies = mutations(ERROR_RESPONSE, ("error_uri",)).map(json.dumps)


FOUND = ['{"access_token": "a", "token_type": "b", "expires_in": %s}' % value  # lifetimes int() could not take
         for value in ("1e999", "Infinity", "NaN", '"inf"', "1" + "0" * 40)]


@fuzz(max_examples=400)
@given(status=STATUSES, text=token_bodies | error_bodies, headers=HEADERS)
@example(status=200, text=deeply_nested(), headers={})  # was a RecursionError
@example(status=200, text=FOUND[0], headers={})
@example(status=200, text=FOUND[1], headers={})
@example(status=200, text=FOUND[2], headers={})
@example(status=200, text=FOUND[3], headers={})
@example(status=200, text=FOUND[4], headers={})
def test_token_responses_parse_or_fail_clearly(status, text, headers):
    with nbauth_error_or_nothing():
        body = parse_token_response(answer(status, text, headers))
        assert status < 400 and "error" not in body
        assert isinstance(body["access_token"], str) and isinstance(body["token_type"], str)
        for name in ("expires_in", "ext_expires_in", "refresh_in", "expires_on"):
            assert name not in body or (type(body[name]) is int and 0 <= body[name] < 10 ** 11), name


@fuzz(max_examples=200)
@given(text=token_bodies)
def test_parse_errors_never_carry_the_access_token(text):
    try:
        parse_token_response(answer(200, text))
    except ProtocolError as error:
        assert ACCESS_TOKEN not in str(error)
    except OAuthError as error:
        assert ACCESS_TOKEN not in str(error) or ACCESS_TOKEN in error.description  # the server said it


@fuzz(max_examples=300)
@given(status=st.sampled_from([400, 401, 500]), text=error_bodies, headers=HEADERS)
@example(status=400, text=json.dumps(dict(ERROR_RESPONSE, error_codes=[False, 7000])), headers={})  # kept False
def test_error_responses_become_msals_error_dict(status, text, headers):
    try:
        parse_token_response(answer(status, text, headers))
    except OAuthError as error:
        result = error.to_result()
        assert isinstance(result["error"], str) and result["error"]
        assert isinstance(result["error_description"], str)
        assert all(type(code) is int for code in result.get("error_codes", []))
        assert isinstance(result.get("correlation_id", ""), str) and isinstance(result.get("claims", ""), str)
    except ProtocolError as error:
        assert str(error)


@fuzz(max_examples=300)
@given(body=mutations(DEVICE_RESPONSE, DEVICE_EXTRAS) | json_values, now=st.floats(0, 2e9))
@example(body=dict(DEVICE_RESPONSE, expires_in=10 ** 400), now=0.0)  # was an OverflowError at expires_at
def test_device_authorization_responses_give_a_flow_or_fail_clearly(body, now):
    if not isinstance(body, dict):
        return  # parse_json_object refused it before (covered by the token-response tests)
    with nbauth_error_or_nothing():
        flow = msal_view(parse_device_authorization(body, now))
        for name in ("device_code", "user_code", "verification_uri", "message"):
            assert isinstance(flow[name], str) and flow[name], name
        assert type(flow["interval"]) is int and flow["interval"] >= 1
        assert flow["expires_at"] == now + flow["expires_in"] and flow["expires_at"] < float("inf")


# ---- through the real path: HTTP, ID-token check, cache ------------------------------------------
@pytest.fixture
def provider(fake_server):
    return FakeProvider(fake_server)


NOT_RETRIED = st.sampled_from([200, 200, 200, 400, 401, 302, 404])  # 429/5xx would wait to retry


def valid_response(provider, **fields):
    return {"access_token": ACCESS_TOKEN, "token_type": "Bearer", "expires_in": 3600, "refresh_token": "rt",
            "scope": "api:read", "id_token": provider.sign(provider.claims()), **fields}


def answers(valid):
    """Token endpoint bodies: the valid one changed a little, a lot, or not JSON at all."""
    return (tweaks(valid, TOKEN_EXTRAS) | mutations(valid, TOKEN_EXTRAS)).map(json.dumps) | json_texts


def test_a_token_endpoint_answering_anything_gives_a_result_or_a_clear_error(provider):
    valid = valid_response(provider)
    deep_client_info = base64.urlsafe_b64encode(deeply_nested().encode()).decode()

    @fuzz(max_examples=60, deadline_ms=3000)
    @given(status=NOT_RETRIED, body=answers(valid),
           content_type=st.sampled_from(["application/json", "text/html", "application/json; charset=latin-1"]))
    @example(status=200, body=json.dumps(dict(valid, client_info=deep_client_info)),  # was a RecursionError
             content_type="application/json")  # in the cache, after the token was checked
    def check(status, body, content_type):
        provider.server.route("POST", provider.mount + "/token", (status, {"Content-Type": content_type}, body))
        app = provider.app()
        with nbauth_error_or_nothing():
            result = app.acquire_token_by_username_password("alice", "pw", ["api:read"])
            if "error" in result:
                assert isinstance(result["error"], str) and "access_token" not in result
                assert list(app.token_cache.search("AccessToken")) == []
            else:
                assert result["access_token"] == ACCESS_TOKEN
                (cached,) = app.token_cache.search("AccessToken")
                assert cached["secret"] == ACCESS_TOKEN
                app.get_accounts()  # whatever was filed can be read back

    check()


def test_a_refresh_answered_with_anything_keeps_the_refresh_token(provider):
    app = provider.app()
    assert "access_token" in app.acquire_token_by_username_password("alice", "pw", ["api:read"])
    (account,) = app.get_accounts()

    @fuzz(max_examples=40, deadline_ms=3000)
    @given(status=NOT_RETRIED, body=answers(valid_response(provider, refresh_token="rt-rotated")))
    def check(status, body):
        provider.server.route("POST", provider.mount + "/token", (status, {"Content-Type": "application/json"}, body))
        (before,) = app.token_cache.search("RefreshToken")
        result = {}
        with nbauth_error_or_nothing():
            result = app.acquire_token_silent_with_error(["api:read"], account, force_refresh=True)
            assert "error" in result or result["access_token"] == ACCESS_TOKEN
        (kept,) = app.token_cache.search("RefreshToken")  # still one: the old, or the rotated one
        assert kept["secret"] in (before["secret"], result.get("refresh_token"))

    check()


def test_a_device_authorization_endpoint_answering_anything(provider):
    @fuzz(max_examples=40, deadline_ms=3000)
    @given(status=NOT_RETRIED, body=mutations(DEVICE_RESPONSE, DEVICE_EXTRAS).map(json.dumps) | json_texts)
    def check(status, body):
        provider.server.route("POST", provider.mount + "/device", (status, {"Content-Type": "application/json"}, body))
        provider.server.route("POST", provider.mount + "/token",
                              (400, {}, {"error": "authorization_pending", "error_description": "wait"}))
        app = provider.app()
        with nbauth_error_or_nothing():
            flow = app.initiate_device_flow(["api:read"])
            if "error" in flow:
                return
            result = app.acquire_token_by_device_flow(flow, exit_condition=lambda f: True)
            assert result["error"] == "authorization_pending"

    check()
