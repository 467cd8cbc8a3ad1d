"""SerializableTokenCache: MSAL's JSON text, kept whole across a round trip."""
import json

import msal
import pytest

from nbauth.cache import CredentialType, SerializableTokenCache
from nbauth.exceptions import ConfigurationError
from support.cache import NOW, entra_event, oidc_event


def test_round_trip_keeps_unknown_sections_and_fields():
    source = SerializableTokenCache()
    source.add(entra_event(), now=NOW)
    document = json.loads(source.serialize())
    (key, at), = document["AccessToken"].items()
    at["future_field"] = {"nested": [1, 2]}
    document["FutureSection"] = {"x": {"y": 1}}
    document["Version"] = 2

    copy = SerializableTokenCache()
    copy.deserialize(json.dumps(document))
    assert json.loads(copy.serialize()) == document
    (found,) = copy.search(CredentialType.ACCESS_TOKEN, ["user.read"], now=NOW)
    assert found["future_field"] == {"nested": [1, 2]}


def test_keys_written_by_another_sdk_are_kept():
    document = {"AccessToken": {"SomeOtherKeyFormat": {
        "credential_type": "AccessToken", "secret": "s", "home_account_id": "h", "environment": "e",
        "client_id": "c", "realm": "r", "target": "a", "expires_on": str(NOW + 60)}}}
    cache = SerializableTokenCache()
    cache.deserialize(json.dumps(document))
    assert list(json.loads(cache.serialize())["AccessToken"]) == ["SomeOtherKeyFormat"]
    assert len(list(cache.search(CredentialType.ACCESS_TOKEN, ["A"], {"client_id": "c"}, now=NOW))) == 1
    list(cache.search(CredentialType.ACCESS_TOKEN, now=NOW + 61))  # expiry removes it by its own key
    assert json.loads(cache.serialize())["AccessToken"] == {}


def test_has_state_changed_follows_msal():
    cache = SerializableTokenCache()
    assert not cache.has_state_changed
    cache.add(oidc_event(), now=NOW)
    assert cache.has_state_changed
    state = cache.serialize()
    assert not cache.has_state_changed
    cache.deserialize(state)
    assert not cache.has_state_changed
    (rt,) = cache.search(CredentialType.REFRESH_TOKEN)
    cache.update_rt(rt, "rotated")
    assert cache.has_state_changed


def test_msal_reads_ours_and_we_read_msals():
    ours = SerializableTokenCache()
    ours.add(entra_event(), now=NOW)
    theirs = msal.SerializableTokenCache()
    theirs.deserialize(ours.serialize())
    (at,) = theirs.search(CredentialType.ACCESS_TOKEN, ["User.Read"], now=NOW)
    assert at["secret"] == "at-uid-1-User.Read"

    theirs.add(oidc_event("carol"), now=NOW)
    ours.deserialize(theirs.serialize())
    assert len(list(ours.search(CredentialType.ACCOUNT))) == 2


@pytest.mark.parametrize("state", ["{", "[]", b"\xff\xfe", "null"])
def test_bad_state_is_a_clear_error(state):
    cache = SerializableTokenCache()
    cache.add(oidc_event(), now=NOW)
    with pytest.raises(ConfigurationError, match="cannot deserialize the token cache"):
        cache.deserialize(state)
    assert len(list(cache.search(CredentialType.ACCOUNT))) == 1  # the previous state stays


def test_empty_state_is_an_empty_cache():
    cache = SerializableTokenCache()
    cache.add(oidc_event(), now=NOW)
    cache.deserialize(None)
    assert list(cache.search(CredentialType.ACCOUNT)) == []
