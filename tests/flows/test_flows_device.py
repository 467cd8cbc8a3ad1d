"""The device flow's one driver on a fake clock: waits, slow_down, expiry and cancellation in
milliseconds, with ``redeem`` answering as a provider would."""
import threading

import pytest

from nbauth.exceptions import OAuthError
from nbauth.flows.device import STOP_TICK, poll_until_done
from nbauth.protocol.device import parse_device_authorization
from support.clock import FakeClock
from support.scripted_polls import ScriptedPolls

RESPONSE = {"device_code": "dc", "user_code": "U", "verification_uri": "https://idp.test/device",
            "expires_in": 30, "interval": 2}


def run(answers, clock=None, **options):
    clock = clock or FakeClock(1000.0)
    provider = ScriptedPolls(clock, answers)
    flow = parse_device_authorization(RESPONSE, clock(), ["api:read"])
    options.setdefault("cancelled", threading.Event())
    try:
        return poll_until_done(flow, provider, clock=clock, wait=clock.wait, **options), provider
    except OAuthError as exc:
        return exc, provider


def test_polls_at_once_then_every_interval_until_the_token():
    result, provider = run(["authorization_pending", "authorization_pending", "token"])
    assert result == {"access_token": "at"} and provider.polled_at == [1000.0, 1002.0, 1004.0]


def test_slow_down_adds_five_seconds_to_every_later_wait():
    seen = []
    result, provider = run(["slow_down", "authorization_pending", "token"], on_poll=seen.append)
    assert provider.polled_at == [1000.0, 1007.0, 1014.0]
    assert [flow.interval for flow in seen] == [7, 7, 7] and seen[-1].polled_at == 1014.0


def test_the_code_expires_here_without_a_poll_after_its_lifetime():
    clock = FakeClock(1000.0)
    result, provider = run([], clock)
    assert result.error == "expired_token" and "expired before" in result.description
    assert provider.polled_at[-1] < 1030.0 and clock() == 1030.0  # the last wait ends at expiry


@pytest.mark.parametrize("answer", ["access_denied", "expired_token", "invalid_grant"])
def test_the_providers_ending_is_raised_as_it_came(answer):
    result, provider = run(["authorization_pending", answer])
    assert (result.error, result.description, len(provider.polled_at)) == (answer, "from the provider", 2)


def test_a_cancelled_event_ends_the_wait_after_the_poll_in_flight():
    cancelled = threading.Event()
    clock = FakeClock(1000.0)

    class CancelWhilePolling(ScriptedPolls):
        def __call__(self):
            cancelled.set()
            return super().__call__()

    flow = parse_device_authorization(RESPONSE, clock(), [])
    provider = CancelWhilePolling(clock, [])
    with pytest.raises(OAuthError, match="cancelled") as caught:
        poll_until_done(flow, provider, clock=clock, wait=clock.wait, cancelled=cancelled)
    assert caught.value.error == "authorization_pending" and len(provider.polled_at) == 1 and clock.waits == []


def test_a_stop_condition_is_read_at_least_every_tick():
    clock = FakeClock(1000.0)
    stops = iter([False, False, True])
    result, provider = run([], clock, stop=lambda: next(stops))
    assert "cancelled" in result.description and provider.polled_at == [1000.0, 1002.0]
    assert clock.waits == [STOP_TICK, STOP_TICK]  # two ticks make the 2 s interval


def test_a_real_wait_is_woken_by_the_event():
    import time

    from nbauth.clock import system_clock, system_wait

    cancelled = threading.Event()
    flow = parse_device_authorization(dict(RESPONSE, interval=30), system_clock(), [])
    threading.Timer(0.05, cancelled.set).start()
    started = time.monotonic()
    with pytest.raises(OAuthError, match="cancelled"):
        poll_until_done(flow, ScriptedPolls(system_clock, []), clock=system_clock, wait=system_wait, cancelled=cancelled)
    assert time.monotonic() - started < 5
