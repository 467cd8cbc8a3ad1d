"""``advance`` with polls the provider did not answer (network failure, 5xx, 429): backoff until the
code expires, the provider's Retry-After honoured, and the count reset once it answers (RFC 8628)."""
import pytest

from nbauth.protocol.device import MAX_BACKOFF, Unanswered, advance, backoff, parse_device_authorization
from nbauth.protocol.status import unanswered_status
from nbauth.protocol.status import Outcome

RESPONSE = {"device_code": "dc-secret", "user_code": "ABCD-EFGH", "verification_uri": "https://idp.test/device",
            "expires_in": 600, "interval": 5}


def new_flow(now=1000.0, **fields):
    return parse_device_authorization(dict(RESPONSE, **fields), now, scopes=["api:read"])


def test_unanswered_polls_back_off_doubling_up_to_the_cap():
    flow, now, waits = new_flow(), 1000.0, []
    for _ in range(5):
        flow, step = advance(flow, Unanswered(), now)
        assert step.outcome is Outcome.PENDING and flow.retrying
        waits.append(step.at - now)
        now = step.at
    assert waits == [5.0, 10.0, 20.0, MAX_BACKOFF, MAX_BACKOFF] and flow.unanswered == 5


def test_an_answer_ends_the_backoff_and_the_interval_is_kept():
    flow, _ = advance(new_flow(), Unanswered(), 1000.0)
    flow, _ = advance(flow, Unanswered(), 1005.0)
    flow, step = advance(flow, "authorization_pending", 1015.0)
    assert (flow.unanswered, flow.retrying, flow.interval, step.at) == (0, False, 5, 1020.0)


def test_retry_after_is_honoured_when_longer_than_the_backoff():
    flow, step = advance(new_flow(), Unanswered(retry_after=42.0), 1000.0)
    assert step.at == 1042.0
    flow, step = advance(new_flow(), Unanswered(retry_after=1.0), 1000.0)
    assert step.at == 1005.0  # never sooner than the interval the provider asked for


def test_a_code_past_its_lifetime_is_expired_even_unanswered():
    _, step = advance(new_flow(), Unanswered(), 1599.0)
    assert step.outcome is Outcome.PENDING and step.at == 1604.0  # the driver stops waiting at expiry
    _, step = advance(new_flow(), Unanswered(), 1600.0)
    assert step.outcome is Outcome.EXPIRED and step.error.error == "expired_token"


@pytest.mark.parametrize("interval, unanswered, wait", [(1, 1, 1.0), (1, 3, 4.0), (1, 9, MAX_BACKOFF),
                                                        (45, 1, 45.0), (45, 4, 45.0)])
def test_backoff_never_goes_under_the_interval(interval, unanswered, wait):
    assert backoff(interval, unanswered) == wait


@pytest.mark.parametrize("status, unanswered", [(429, True), (500, True), (502, True), (503, True), (504, True),
                                                (400, False), (401, False), (404, False), (501, False), (None, False)])
def test_which_statuses_mean_unanswered(status, unanswered):
    assert unanswered_status(status) is unanswered
