"""Fuzzing the authorization response: the redirect's query (loopback listener, protocol check)
and the web app's ``auth_response`` and flow dict. Only this sign-in's answer is ever taken."""
import socket
from urllib.parse import quote, urlencode

import pytest
import requests
from hypothesis import example, given
from hypothesis import strategies as st

from support.fake_provider import CLIENT_ID, FakeProvider
from support.fuzzing import fuzz, json_values, mutations, nbauth_error_or_nothing, texts
from nbauth.exceptions import FlowError, OAuthError
from nbauth.flows.loopback import LoopbackListener
from nbauth.protocol.authcode import code_from_redirect, new_authorization_request

ISSUER = "https://idp.test"
REQUEST = new_authorization_request(ISSUER + "/auth", CLIENT_ID, "http://localhost:5000", ["openid"])
VALID = {"code": "code-1", "state": REQUEST.state, "iss": ISSUER, "session_state": "s"}
ERROR_FIELDS = ("error", "error_description", "error_uri")


@fuzz(max_examples=500)
@given(params=mutations(VALID, ERROR_FIELDS), issuer_required=st.booleans())
@example(params=dict(VALID, error=True), issuer_required=False)  # was an OAuthError whose error is True
@example(params=dict(VALID, code=[None]), issuer_required=False)  # was returned as the code
def test_the_redirect_gives_a_code_only_when_state_and_iss_match(params, issuer_required):
    try:
        code = code_from_redirect(params, REQUEST, issuer=ISSUER, issuer_required=issuer_required)
    except OAuthError as error:
        assert params["state"] == REQUEST.state and isinstance(error.error, str) and error.error
        assert isinstance(error.description, str)
    except FlowError as error:
        assert str(error)
    else:
        assert params["state"] == REQUEST.state and isinstance(code, str) and code == params["code"]
        assert params.get("iss", None if not issuer_required else "missing") in (ISSUER, None)
        assert not params.get("error")


# ---- the loopback listener, request by request and over HTTP ------------------------------------------
query_values = texts | st.sampled_from(["state-1", "", "%", "%zz", "&", "=", "+"])
queries = (st.dictionaries(st.sampled_from(["code", "state", "error", "iss", "x"]) | texts, query_values, max_size=4)
           .map(lambda pairs: urlencode(pairs, errors="surrogatepass")) | texts.map(lambda text: quote(text.encode("utf-8", "surrogatepass"), safe="=&%+")) | texts)
paths = st.sampled_from(["/callback", "/", "/callback/", "/Callback", "//callback", "/callback/../callback"]) | texts


def taken(listener) -> bool:
    """Whether the listener has accepted its callback."""
    try:
        listener.wait(0)
    except FlowError:
        return False
    return True


def test_the_listener_takes_only_a_request_with_its_path_and_state():
    with LoopbackListener("state-1", redirect_uri="http://127.0.0.1/callback") as listener:
        @fuzz(max_examples=500)
        @given(path=paths, query=queries)
        @example(path="A://[", query="")  # was "ValueError: Invalid IPv6 URL" in the handler thread
        @example(path="/callback", query="state=state-1&code=c&code=forged")  # a repeated parameter
        def check(path, query):
            taken_before = taken(listener)
            status, page = listener.offer(f"{path}?{query}")
            listener.answered()  # as the handler does once the page went out
            assert status in (200, 400, 404, 409) and page.startswith(b"<!DOCTYPE html>")
            if status in (200, 409):
                assert path == "/callback" and (status == 409) == taken_before
                assert listener.wait(0)["state"] == "state-1"
            else:
                assert taken(listener) == taken_before

        check()


def raw_request(port: int, data: bytes) -> bytes:
    """Send bytes as they are (no client-side checks) and read the whole answer."""
    with socket.create_connection(("127.0.0.1", port), timeout=5) as connection:
        connection.sendall(data)
        connection.shutdown(socket.SHUT_WR)
        chunks = []
        while chunk := connection.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)


def test_requests_of_any_shape_over_http_leave_the_real_callback_working():
    with LoopbackListener("state-1", redirect_uri="http://127.0.0.1/callback") as listener:
        @fuzz(max_examples=80, deadline_ms=2000)
        @given(request_line=st.builds("GET {}?{} HTTP/1.1".format, paths, queries) | texts,
               noise=st.binary(max_size=30))
        def check(request_line, noise):
            answer = raw_request(listener.port, request_line.encode("utf-8", "surrogatepass") + b"\r\n" + noise
                                 + b"\r\n\r\n")
            if taken(listener):
                raise AssertionError(f"a fuzzed request was taken as the callback: {request_line!r}")
            assert answer.startswith((b"HTTP/", b"<!DOCTYPE")) or answer == b""  # 0.9-style for bad syntax

        check()
        page = requests.get(f"http://127.0.0.1:{listener.port}/callback?code=c&state=state-1", timeout=5)
        assert page.status_code == 200 and listener.wait(1)["code"] == "c"


# ---- the web app's flow dict and auth_response -------------------------------------------------------------
@pytest.fixture
def provider(fake_server):
    return FakeProvider(fake_server)


def test_auth_responses_and_flow_dicts_of_any_shape(provider):
    app = provider.app()
    template = app.initiate_auth_code_flow(["api:read"], redirect_uri="http://localhost:5000")
    answer = {"code": "c", "state": template["state"], "iss": provider.issuer}

    @fuzz(max_examples=80, deadline_ms=3000)
    @given(flow_changes=mutations(dict(template)) | st.just(dict(template)),
           response=st.just(answer) | mutations(answer, ERROR_FIELDS) | json_values)
    @example(flow_changes=dict(template, code_verifier=1), response=None)  # was a TypeError in new_pkce
    def check(flow_changes, response):
        flow = app.initiate_auth_code_flow(["api:read"], redirect_uri="http://localhost:5000")
        flow.update({k: v for k, v in flow_changes.items() if k not in ("state", "nonce", "code_verifier")})
        for key in ("state", "nonce", "code_verifier"):  # fresh secrets, unless the fuzzer changed them
            if key not in flow_changes:
                flow.pop(key)
            elif flow_changes[key] != template[key]:
                flow[key] = flow_changes[key]
        if isinstance(response, dict) and response.get("state") == template["state"]:
            response = dict(response, state=flow.get("state"))
        provider.nonce = flow.get("nonce") if isinstance(flow.get("nonce"), str) else None
        with nbauth_error_or_nothing():
            result = app.acquire_token_by_auth_code_flow(flow, response)
            assert "error" in result or result["token_source"] == "identity_provider"
            if "access_token" in result:
                assert response["state"] == flow["state"] and response["code"] == "c"

    check()
