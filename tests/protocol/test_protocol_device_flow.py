"""The device flow as a value: ``advance(flow, answer, now)`` and MSAL's dict view (RFC 8628)."""
import json

import pytest

from nbauth.exceptions import ConfigurationError
from nbauth.protocol.device import advance, from_msal, msal_view, parse_device_authorization
from nbauth.protocol.status import STATUS_OF, Outcome, Status

RESPONSE = {"device_code": "dc-secret", "user_code": "ABCD-EFGH", "verification_uri": "https://idp.test/device",
            "verification_uri_complete": "https://idp.test/device?user_code=ABCD-EFGH",
            "expires_in": 600, "interval": 5, "x_provider": "kept"}


def new_flow(now=1000.0, **fields):
    return parse_device_authorization(dict(RESPONSE, **fields), now, scopes=["api:read"])


@pytest.mark.parametrize("answer, outcome, status", [
    (None, Outcome.SIGNED_IN, Status.SIGNED_IN),
    ("authorization_pending", Outcome.PENDING, Status.WAITING),
    ("slow_down", Outcome.PENDING, Status.WAITING),
    ("access_denied", Outcome.DENIED, Status.DENIED),
    ("authorization_declined", Outcome.DENIED, Status.DENIED),
    ("expired_token", Outcome.EXPIRED, Status.EXPIRED),
    ("code_expired", Outcome.EXPIRED, Status.EXPIRED),
    ("invalid_grant", Outcome.FAILED, Status.ERROR),
])
def test_each_poll_answer_has_one_meaning_and_one_status(answer, outcome, status):
    _, step = advance(new_flow(), answer, 1000.0)
    assert step.outcome is outcome and STATUS_OF[step.outcome] is status


def test_every_outcome_has_a_status():
    assert set(STATUS_OF) == set(Outcome)


def test_pending_polls_again_one_interval_after_the_poll_and_the_value_is_not_edited():
    flow = new_flow()
    later, step = advance(flow, "authorization_pending", 1002.0)
    assert (step.outcome, step.at) == (Outcome.PENDING, 1007.0)
    assert (later.next_poll_at, later.polled_at, later.interval) == (1007.0, 1002.0, 5)
    assert (flow.next_poll_at, flow.polled_at) == (1000.0, None)


def test_slow_down_adds_five_seconds_for_good():
    flow, step = advance(new_flow(), "slow_down", 1000.0)
    assert (flow.interval, step.at) == (10, 1010.0)
    flow, step = advance(flow, "slow_down", 1010.0)
    assert (flow.interval, step.at) == (15, 1025.0)
    flow, step = advance(flow, "authorization_pending", 1025.0)
    assert (flow.interval, step.at) == (15, 1040.0)


def test_a_pending_answer_past_the_codes_lifetime_is_expired():
    _, step = advance(new_flow(), "authorization_pending", 1599.9)
    assert step.outcome is Outcome.PENDING
    _, step = advance(new_flow(), "authorization_pending", 1600.0)
    assert step.outcome is Outcome.EXPIRED and step.error.error == "expired_token"


def test_the_device_code_stays_out_of_the_repr():
    assert "dc-secret" not in repr(new_flow()) and "ABCD-EFGH" in repr(new_flow())
    view = msal_view(new_flow())  # a plain copy of MSAL's dict too
    assert "dc-secret" not in repr(dict(view)) and view["device_code"] == "dc-secret"


def test_msals_view_has_the_providers_fields_and_msals_own():
    flow, _ = advance(new_flow(), "slow_down", 1001.0)
    view = msal_view(flow)
    assert view == dict(RESPONSE, interval=10, expires_at=1600.0, scope=["api:read"], latest_attempt_at=1001.0,
                        message=flow.message)


@pytest.mark.parametrize("through_json", [False, True])
def test_a_view_reads_back_as_the_same_flow(through_json):
    flow, _ = advance(new_flow(), "slow_down", 1001.0)
    view = json.loads(json.dumps(msal_view(flow))) if through_json else msal_view(flow)
    again = from_msal(view, now=1003.0)
    assert (again.device_code, again.interval, again.expires_at, again.scopes, again.polled_at) == (
        "dc-secret", 10, 1600.0, ("api:read",), 1001.0)
    assert msal_view(again) == msal_view(flow)


def test_msals_own_flow_dict_is_accepted():
    msal_flow = {"device_code": "d", "user_code": "U", "verification_uri": "https://v", "expires_in": 900,
                 "interval": 5, "message": "m", "expires_at": 1900.0, "_correlation_id": "c"}
    flow = from_msal(msal_flow, now=1000.0, scopes=["api:read"])
    assert (flow.scopes, flow.next_poll_at, flow.expires_at) == (("api:read",), 1000.0, 1900.0)


@pytest.mark.parametrize("flow, named", [
    ({}, "device_code"), ("not a dict", "device_code"),
    ({"device_code": "d", "expires_at": "soon"}, "expires_at"),
    ({"device_code": "d", "expires_at": 1, "scope": "api:read"}, "scope"),
])
def test_an_unusable_flow_dict_is_named(flow, named):
    with pytest.raises(ConfigurationError, match=named):
        from_msal(flow, now=0.0)
