"""Scopes as MSAL handles them: reserved scopes added, refused from callers, hidden in reports."""
import pytest

from nbauth.exceptions import ConfigurationError
from nbauth.protocol import scopes


def test_decorate_adds_the_reserved_scopes_after_the_callers():
    assert scopes.decorate(["api:read"]) == ["api:read", "offline_access", "openid", "profile"]


def test_decorate_with_no_scopes_asks_for_the_reserved_ones_only():
    assert scopes.decorate([]) == ["offline_access", "openid", "profile"]


def test_exclude_scopes_drops_reserved_ones_like_msal():
    assert scopes.decorate(["api:read"], exclude={"offline_access"}) == ["api:read", "openid", "profile"]


@pytest.mark.parametrize("reserved", ["openid", "OpenID", "offline_access", "Profile"])
def test_a_reserved_scope_from_the_caller_is_refused_naming_it(reserved):
    with pytest.raises(ConfigurationError, match=reserved):
        scopes.decorate(["api:read", reserved])


def test_a_single_string_is_refused_rather_than_read_letter_by_letter():
    with pytest.raises(ConfigurationError, match="list of scope strings"):
        scopes.decorate("api:read")


@pytest.mark.parametrize("bad", ["", "two words", None, 3])
def test_entries_that_are_not_scopes_are_refused(bad):
    with pytest.raises(ConfigurationError, match="not a scope"):
        scopes.normalize(["api:read", bad])


def test_scopes_are_a_case_insensitive_set_keeping_the_first_spelling():
    assert scopes.normalize(["Api:Read", "api:read", "api:write", "API:WRITE"]) == ["Api:Read", "api:write"]


def test_reported_scopes_come_from_the_response_without_the_reserved_ones():
    assert scopes.granted("openid api:read offline_access", ["x"]) == ["api:read"]


def test_reported_scopes_fall_back_to_the_request_when_the_response_has_none():
    assert scopes.granted(None, ["api:read", "openid", "profile"]) == ["api:read"]
    assert scopes.granted("  ", ["api:read"]) == ["api:read"]
