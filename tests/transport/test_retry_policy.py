"""The retry policy alone: which answers are retried, after how long (no I/O)."""
import email.utils

import pytest

from nbauth.transport.retry import RetryPolicy, parse_retry_after

NOW = 1_700_000_000.0


@pytest.mark.parametrize("value, expected", [
    ("0", 0.0), ("7", 7.0), (" 12 ", 12.0), (None, None), ("", None), ("soon", None), ("-3", None),
    (email.utils.formatdate(NOW + 30, usegmt=True), 30.0),
    (email.utils.formatdate(NOW - 30, usegmt=True), 0.0),
])
def test_parse_retry_after(value, expected):
    assert parse_retry_after(value, NOW) == expected


def test_refused_answers_are_retried_even_for_a_consumable_grant():
    policy = RetryPolicy(max_attempts=3)
    for status in (429, 503):
        assert policy.delay_after_status(1, status, 2.0, repeatable=False) == 2.0


@pytest.mark.parametrize("status", [500, 502, 504])
def test_server_errors_are_retried_only_when_repeatable(status):
    policy = RetryPolicy(max_attempts=3, backoff=0.5)
    delay = policy.delay_after_status(1, status, None, repeatable=True)
    assert 0.25 <= delay <= 0.5
    assert policy.delay_after_status(1, status, None, repeatable=False) is None


@pytest.mark.parametrize("status", [200, 400, 401, 404])
def test_final_answers_are_not_retried(status):
    assert RetryPolicy().delay_after_status(1, status, 0.0, repeatable=True) is None


def test_attempts_are_bounded():
    policy = RetryPolicy(max_attempts=3)
    assert policy.delay_after_status(2, 503, 0.0, repeatable=True) == 0.0
    assert policy.delay_after_status(3, 503, 0.0, repeatable=True) is None
    assert policy.delay_after_error(3, sent=False, repeatable=True) is None


def test_retry_after_beyond_the_cap_gives_up_instead_of_hanging():
    assert RetryPolicy(max_delay=30).delay_after_status(1, 429, 3600.0, repeatable=True) is None


def test_a_consumable_request_that_may_have_arrived_is_never_resent():
    policy = RetryPolicy()
    assert policy.delay_after_error(1, sent=True, repeatable=False) is None
    assert policy.delay_after_error(1, sent=False, repeatable=False) is not None
    assert policy.delay_after_error(1, sent=True, repeatable=True) is not None


def test_backoff_grows_and_is_capped():
    policy = RetryPolicy(max_attempts=10, backoff=1.0, max_delay=3.0)
    delays = [policy.delay_after_error(n, sent=True, repeatable=True) for n in (1, 2, 3, 4)]
    assert 0.5 <= delays[0] <= 1.0 and 1.0 <= delays[1] <= 2.0
    assert all(d <= 3.0 for d in delays)
