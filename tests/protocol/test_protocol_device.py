"""Reading the device authorization response (RFC 8628 section 3.2) into MSAL's flow fields."""
import pytest

from nbauth.exceptions import ProtocolError
from nbauth.protocol.device import msal_view, parse_device_authorization

RESPONSE = {"device_code": "dc", "user_code": "ABCD-EFGH", "verification_uri": "https://idp.test/device",
            "expires_in": 600, "interval": 5}


def test_the_flow_gets_msals_fields():
    flow = msal_view(parse_device_authorization(dict(RESPONSE, interval="7"), now=1000.0))
    assert (flow["interval"], flow["expires_in"], flow["expires_at"]) == (7, 600, 1600.0)
    assert "https://idp.test/device" in flow["message"] and "ABCD-EFGH" in flow["message"]


def test_defaults_and_entras_verification_url_spelling():
    body = {"device_code": "dc", "user_code": "U", "verification_url": "https://v", "message": "Go to https://v"}
    flow = msal_view(parse_device_authorization(body, now=0))
    assert (flow["verification_uri"], flow["interval"], flow["expires_in"]) == ("https://v", 5, 1800)
    assert flow["message"] == "Go to https://v"


@pytest.mark.parametrize("missing", ["device_code", "user_code", "verification_uri"])
def test_a_response_without_a_required_field_is_a_protocol_error(missing):
    body = {k: v for k, v in RESPONSE.items() if k != missing}
    with pytest.raises(ProtocolError, match=missing):
        parse_device_authorization(body, now=0)
