"""When a cached token is fresh, due for refresh, or expired."""
import pytest

from nbauth.protocol.lifecycle import TokenState, entry_times, expiry_margin, token_state


def test_a_five_minute_token_is_served_for_most_of_its_life():
    issued = 1000.0
    assert expiry_margin(300) == 15
    assert token_state(issued + 300, issued + 284, cached_at=issued) is TokenState.FRESH
    assert token_state(issued + 300, issued + 285, cached_at=issued) is TokenState.EXPIRED


def test_an_hour_token_has_a_three_minute_margin_and_long_ones_keep_msals_five():
    issued = 1000.0
    assert (expiry_margin(3600), expiry_margin(6000), expiry_margin(86400)) == (180, 300, 300)
    assert token_state(issued + 3600, issued + 3419, cached_at=issued) is TokenState.FRESH
    assert token_state(issued + 3600, issued + 3420, cached_at=issued) is TokenState.EXPIRED
    assert token_state(issued + 86400, issued + 86100, cached_at=issued) is TokenState.EXPIRED


def test_without_cached_at_the_full_margin_applies():
    assert token_state(1300, 1000) is TokenState.EXPIRED
    assert token_state(1301, 1000) is TokenState.FRESH


def test_refresh_on_makes_a_valid_token_due_for_refresh():
    assert token_state(5000, 2000, cached_at=1000, refresh_on=2500) is TokenState.FRESH
    assert token_state(5000, 2500, cached_at=1000, refresh_on=2500) is TokenState.REFRESH_DUE
    assert token_state(5000, 4900, cached_at=1000, refresh_on=2500) is TokenState.EXPIRED


@pytest.mark.parametrize("entry, state", [
    ({"expires_on": "1300", "cached_at": "1000"}, TokenState.FRESH),
    ({"expires_on": "1300", "cached_at": "1000", "refresh_on": "1100"}, TokenState.REFRESH_DUE),
])
def test_cache_entries_are_read_with_their_string_times(entry, state):
    assert entry_times(entry).state(1200) is state


@pytest.mark.parametrize("entry", [{"expires_on": "nonsense"}, {}])
def test_an_entry_without_a_readable_expiry_has_no_times_so_is_never_served(entry):
    assert entry_times(entry) is None
