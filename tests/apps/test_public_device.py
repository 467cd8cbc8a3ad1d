"""Device-code sign-in (RFC 8628) against the local OpenID provider."""
import json
import threading
import time

import pytest

from support.fake_provider import CLIENT_ID, FakeProvider
from idp.browser import approve_device_via_html
from idp.server import GRANT_DEVICE_CODE, NATIVE_CLIENT
from nbauth import PublicClientApplication
from nbauth.cache import TokenCache
from nbauth.apps.public import cancel_device_flow
from support.clock import FakeClock


def new_app(provider, clock=None):
    """An app on ``provider``; with a ``FakeClock``, its device-code waits take no real time."""
    times = {"clock": clock, "wait": clock.wait} if clock else {}
    return PublicClientApplication(NATIVE_CLIENT, oidc_authority=provider.issuer, token_cache=TokenCache(), **times)


def run_in_thread(target, *args, **kwargs):
    """Start ``target`` in a thread; returns (thread, box) where box["result"] is its return value."""
    box = {}
    thread = threading.Thread(target=lambda: box.update(result=target(*args, **kwargs)), daemon=True)
    thread.start()
    return thread, box


def test_the_flow_has_msals_keys_and_hides_the_device_code(idp):
    flow = new_app(idp).initiate_device_flow(["api:read"])
    assert {"user_code", "device_code", "verification_uri", "verification_uri_complete", "expires_in",
            "interval", "message", "expires_at"} <= set(flow)
    assert flow["interval"] == 1 and flow["verification_uri"].startswith(idp.issuer)
    assert flow["user_code"] in flow["message"]
    assert flow["device_code"] not in repr(flow)


def test_approved_sign_in_returns_tokens_and_lists_the_account(idp):
    app = new_app(idp)
    flow = app.initiate_device_flow(["api:read"])
    idp.approve_device(flow["user_code"], "alice")
    result = app.acquire_token_by_device_flow(flow)
    assert result["token_source"] == "identity_provider" and result["token_type"] == "Bearer"
    assert result["id_token_claims"]["sub"] == "alice" and "refresh_token" in result
    assert "api:read" in result["scope"].split() and "openid" not in result["scope"].split()
    assert result["access_token"] not in repr(result)
    (account,) = app.get_accounts()
    assert (account["username"], account["account_source"]) == ("alice@example.test", GRANT_DEVICE_CODE)


def test_a_person_approving_in_the_browser_pages_signs_in(idp):
    app = new_app(idp)
    flow = app.initiate_device_flow(["api:read"])
    thread, box = run_in_thread(app.acquire_token_by_device_flow, flow)
    approve_device_via_html(flow["verification_uri_complete"], "bob", verify=idp.ca_path)
    thread.join(20)
    assert box["result"]["id_token_claims"]["sub"] == "bob"


def test_denied_sign_in_is_an_access_denied_result(idp):
    app = new_app(idp)
    flow = app.initiate_device_flow(["api:read"])
    idp.deny_device(flow["user_code"])
    result = app.acquire_token_by_device_flow(flow)
    assert result["error"] == "access_denied" and "access_token" not in result
    assert app.get_accounts() == []


def test_an_expired_code_ends_the_flow_with_expired_token(idp):
    clock = FakeClock()
    app = new_app(idp, clock)
    flow = app.initiate_device_flow(["api:read"])
    clock.advance(flow["expires_in"] - 2.5)  # 2.5 s of the code's life left
    result = app.acquire_token_by_device_flow(flow)
    assert result["error"] == "expired_token" and "expired before" in result["error_description"]
    assert clock() == flow["expires_at"] and clock.waits == [1.0, 1.0, 0.5]  # to the end, no more
    assert len(idp.token_log("device_code", user_code=flow["user_code"])) == 3  # it polled meanwhile


def test_slow_down_adds_five_seconds_to_the_interval(idp):
    clock = FakeClock()
    app = new_app(idp, clock)
    flow = app.initiate_device_flow(["api:read"])
    idp.slow_down(flow["user_code"], count=1)
    idp.approve_device(flow["user_code"], "alice")
    result = app.acquire_token_by_device_flow(flow)
    assert "access_token" in result and flow["interval"] == 6 and flow["latest_attempt_at"] == clock()
    polls = idp.token_log("device_code", user_code=flow["user_code"])
    assert [p["outcome"] for p in polls] == ["slow_down", "ok"]
    assert sum(clock.waits) == 6.0  # 1 s interval + 5 s (waited in ticks, to notice MSAL-style cancels)


def test_a_flow_dict_round_tripped_through_json_polls_and_cancels_msals_way(idp):
    app = new_app(idp, FakeClock())
    flow = json.loads(json.dumps(app.initiate_device_flow(["api:read"])))
    idp.approve_device(flow["user_code"], "alice")
    assert "access_token" in app.acquire_token_by_device_flow(flow)
    flow = json.loads(json.dumps(app.initiate_device_flow(["api:read"])))
    cancel_device_flow(flow)
    result = app.acquire_token_by_device_flow(flow)
    assert result["error"] == "authorization_pending" and "cancelled" in result["error_description"]


@pytest.fixture
def slow_idp(make_idp):
    """A provider asking for 30 s between polls, so only a cancellation can end a wait early."""
    return make_idp(device_interval=30)


def start_polling(app, flow):
    polled = threading.Event()

    def exit_condition(f):
        polled.set()
        return False

    thread, box = run_in_thread(app.acquire_token_by_device_flow, flow, exit_condition=exit_condition)
    assert polled.wait(10), "the first poll did not happen"
    return thread, box


def test_cancel_from_another_thread_returns_at_once(slow_idp):
    app = new_app(slow_idp)
    flow = app.initiate_device_flow(["api:read"])
    thread, box = start_polling(app, flow)
    started = time.monotonic()
    cancel_device_flow(flow)
    thread.join(5)
    assert time.monotonic() - started < 0.5
    assert box["result"]["error"] == "authorization_pending"
    assert "cancelled" in box["result"]["error_description"]
    assert len(slow_idp.token_log("device_code", user_code=flow["user_code"])) == 1


def test_msals_way_of_cancelling_works_within_a_second(slow_idp):
    app = new_app(slow_idp)
    flow = app.initiate_device_flow(["api:read"])
    thread, box = start_polling(app, flow)
    started = time.monotonic()
    flow["expires_at"] = 0
    thread.join(5)
    assert time.monotonic() - started < 1.5
    assert "cancelled" in box["result"]["error_description"]


def test_an_exit_condition_that_is_true_polls_once_without_blocking(idp):
    app = new_app(idp)
    flow = app.initiate_device_flow(["api:read"])
    result = app.acquire_token_by_device_flow(flow, exit_condition=lambda f: True)
    assert result["error"] == "authorization_pending"
    assert len(idp.token_log("device_code", user_code=flow["user_code"])) == 1


def test_a_refused_device_authorization_is_an_error_result_like_msals(fake_server):
    provider = FakeProvider(fake_server)
    fake_server.route("POST", "/fake/device", (400, {}, {"error": "invalid_scope", "error_description": "no such"}))
    flow = PublicClientApplication(CLIENT_ID, oidc_authority=provider.issuer).initiate_device_flow(["x"])
    assert (flow["error"], flow["error_description"]) == ("invalid_scope", "no such") and "user_code" not in flow


def test_a_flow_dict_copies_and_pickles_with_a_fresh_cancel_event():
    import copy
    import pickle

    from nbauth.apps.public import DeviceFlowDict

    flow = DeviceFlowDict(device_code="dc", user_code="U", expires_at=1.0)
    flow.cancelled.set()
    for again in (copy.deepcopy(flow), pickle.loads(pickle.dumps(flow))):
        assert again == flow and type(again) is DeviceFlowDict and not again.cancelled.is_set()
