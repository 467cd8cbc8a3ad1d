"""The device flow's driver when the provider does not answer, on a fake clock: with ``ride_out`` it
polls on with backoff (Retry-After honoured) until the code expires and the same code completes once
the provider answers; without it (MSAL's ``acquire_token_by_device_flow``) the failure ends the wait."""
import threading

import pytest

from nbauth.exceptions import OAuthError, ProtocolError, TransportError
from nbauth.flows.device import poll_until_done
from nbauth.protocol.device import parse_device_authorization
from support.clock import FakeClock
from support.scripted_polls import ScriptedPolls

RESPONSE = {"device_code": "dc", "user_code": "U", "verification_uri": "https://idp.test/device",
            "expires_in": 60, "interval": 2}
#: What a provider that does not answer makes ``redeem`` raise, by kind.
FAILURES = {
    "refused": lambda: TransportError("POST https://idp.test/token: connection failed"),
    "timeout": lambda: TransportError("POST https://idp.test/token: no answer before the timeout"),
    "500 html": lambda: ProtocolError("the token endpoint answered HTTP 500 with a body that is not a JSON object",
                                      status=500),
    "503 temporarily_unavailable": lambda: OAuthError("temporarily_unavailable", "busy", status=503),
    "429": lambda: ProtocolError("the token endpoint answered HTTP 429 without an OAuth error", status=429),
}


def run(answers, *, ride_out=True):
    clock = FakeClock(1000.0)
    provider, seen = ScriptedPolls(clock, answers), []
    flow = parse_device_authorization(RESPONSE, clock(), ["api:read"])
    try:
        result = poll_until_done(flow, provider, clock=clock, wait=clock.wait, cancelled=threading.Event(),
                                 on_poll=seen.append, ride_out=ride_out)
    except (OAuthError, ProtocolError, TransportError) as exc:
        result = exc
    return result, provider, [flow.retrying for flow in seen]


@pytest.mark.parametrize("failure", FAILURES)
def test_polling_rides_out_a_provider_that_does_not_answer_and_the_same_code_completes(failure):
    result, provider, retrying = run([FAILURES[failure]() for _ in range(3)] + ["authorization_pending", "token"])
    assert result == {"access_token": "at"}
    assert [t - 1000.0 for t in provider.polled_at] == [0, 2, 6, 14, 16]  # backoff 2, 4, 8; then the interval
    assert retrying == [True, True, True, False, False]


def test_retry_after_of_a_429_is_honoured():
    too_many = ProtocolError("the token endpoint answered HTTP 429 without an OAuth error", status=429,
                             retry_after="20")
    result, provider, _ = run([too_many, "token"])
    assert result == {"access_token": "at"} and provider.polled_at == [1000.0, 1020.0]


def test_an_outage_longer_than_the_code_ends_in_expiry_without_a_poll_after_it():
    result, provider, retrying = run([TransportError("down")] * 100)
    assert isinstance(result, OAuthError) and result.error == "expired_token"
    assert all(retrying) and provider.polled_at[-1] < 1060.0


@pytest.mark.parametrize("answer", [OAuthError("invalid_client", "unknown client", status=401),
                                    OAuthError("invalid_grant", "spent", status=400),
                                    ProtocolError("the token endpoint answered HTTP 200 with a body that is not a "
                                                  "JSON object")])
def test_an_answer_that_is_not_a_blip_still_ends_the_flow(answer):
    result, provider, _ = run([answer])
    assert result is answer and len(provider.polled_at) == 1


def test_a_device_flow_answer_sent_with_a_5xx_keeps_its_meaning():
    result, _, _ = run([OAuthError("access_denied", "no", status=500)])
    assert result.error == "access_denied"


@pytest.mark.parametrize("failure", ["refused", "500 html"])
def test_without_ride_out_the_failure_ends_the_wait_as_in_msal(failure):
    error = FAILURES[failure]()
    result, provider, _ = run([error, "token"], ride_out=False)
    assert result is error and len(provider.polled_at) == 1


def test_without_ride_out_the_providers_oauth_error_is_still_its_answer():
    result, _, _ = run([OAuthError("temporarily_unavailable", "busy", status=503)], ride_out=False)
    assert result.error == "temporarily_unavailable"
