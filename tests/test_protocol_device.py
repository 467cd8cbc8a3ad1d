"""The device-code grant's states (RFC 8628)."""
import pytest

from nbauth.exceptions import ProtocolError
from nbauth.protocol.device import Poll, after_poll, has_expired, parse_device_authorization

RESPONSE = {"device_code": "dc", "user_code": "ABCD-EFGH", "verification_uri": "https://idp.test/device",
            "expires_in": 600, "interval": 5}


@pytest.mark.parametrize("error, outcome, keep_polling", [
    (None, Poll.SUCCESS, False),
    ("authorization_pending", Poll.PENDING, True),
    ("slow_down", Poll.SLOW_DOWN, True),
    ("access_denied", Poll.DENIED, False),
    ("authorization_declined", Poll.DENIED, False),
    ("expired_token", Poll.EXPIRED, False),
    ("invalid_grant", Poll.FAILED, False),
])
def test_each_poll_answer_has_one_meaning(error, outcome, keep_polling):
    step = after_poll(error, 5)
    assert (step.outcome, step.keep_polling) == (outcome, keep_polling)


def test_slow_down_adds_five_seconds_for_good():
    assert after_poll("slow_down", 5).interval == 10
    assert after_poll("slow_down", after_poll("slow_down", 5).interval).interval == 15
    assert after_poll("authorization_pending", 10).interval == 10


def test_the_flow_gets_msals_fields():
    flow = parse_device_authorization(dict(RESPONSE, interval="7"), now=1000.0)
    assert (flow["interval"], flow["expires_in"], flow["expires_at"]) == (7, 600, 1600.0)
    assert "https://idp.test/device" in flow["message"] and "ABCD-EFGH" in flow["message"]


def test_defaults_and_entras_verification_url_spelling():
    body = {"device_code": "dc", "user_code": "U", "verification_url": "https://v", "message": "Go to https://v"}
    flow = parse_device_authorization(body, now=0)
    assert (flow["verification_uri"], flow["interval"], flow["expires_in"]) == ("https://v", 5, 1800)
    assert flow["message"] == "Go to https://v"


@pytest.mark.parametrize("missing", ["device_code", "user_code", "verification_uri"])
def test_a_response_without_a_required_field_is_a_protocol_error(missing):
    body = {k: v for k, v in RESPONSE.items() if k != missing}
    with pytest.raises(ProtocolError, match=missing):
        parse_device_authorization(body, now=0)


def test_expiry_is_reached_at_expires_at():
    assert not has_expired(100.0, 99.9) and has_expired(100.0, 100.0)
