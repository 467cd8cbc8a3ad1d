"""A cache document with parts nbauth cannot use never signs everyone out (as msal): those parts
are kept and written back unchanged, skipped for lookups and named once in a CacheWarning; only
a file that is not a JSON object is set aside."""
import json
import warnings

import msal
import pytest

from nbauth.cache import CredentialType, PersistedTokenCache, SerializableTokenCache
from nbauth.exceptions import CacheWarning
from support.cache import NOW, oidc_event

ACCOUNT, AT = CredentialType.ACCOUNT, CredentialType.ACCESS_TOKEN


def good_document() -> dict:
    """alice and bob signed in (made by the real msal, so the shape is msal's)."""
    cache = msal.SerializableTokenCache()
    cache.add(oidc_event("alice"), now=NOW)
    cache.add(oidc_event("bob"), now=NOW)
    return json.loads(cache.serialize())


def with_odd_parts(document: dict) -> dict:
    """bob's access token with an expiry that is not a number, his refresh token without its
    secret, an entry that is not an object, a field and a section nbauth does not know."""
    document = json.loads(json.dumps(document))
    (bob_at,) = [k for k in document["AccessToken"] if k.startswith("bob-")]
    (bob_rt,) = [k for k in document["RefreshToken"] if k.startswith("bob-")]
    document["AccessToken"][bob_at]["expires_on"] = "soon"
    del document["RefreshToken"][bob_rt]["secret"]
    document["IdToken"]["odd-entry"] = "a string"
    document["Account"]["alice-127.0.0.1-oidc"]["future_field"] = {"kept": True}
    document["FutureSection"] = [1, 2]
    return document


def usernames(cache) -> list:
    return sorted(a["home_account_id"] for a in cache.search(ACCOUNT))


def test_deserialize_keeps_what_it_cannot_use_and_serves_the_rest():
    document = with_odd_parts(good_document())
    cache = SerializableTokenCache()
    with pytest.warns(CacheWarning) as caught:
        cache.deserialize(json.dumps(document))
    (warning,) = caught  # one warning, naming each part skipped
    message = str(warning.message)
    for named in ("bob-127.0.0.1-accesstoken", "expires_on", "bob-127.0.0.1-refreshtoken", "secret",
                  "'odd-entry' in IdToken"):
        assert named in message
    assert usernames(cache) == ["alice", "bob"]
    (alice_at,) = cache.search(AT, ["api"], {"home_account_id": "alice"}, now=NOW)
    assert alice_at["secret"] == "at-alice-openid.profile.api"
    assert list(cache.search(AT, ["api"], {"home_account_id": "bob"}, now=NOW)) == []  # skipped
    assert json.loads(cache.serialize()) == document  # everything written back unchanged


def test_msal_serves_the_same_document_the_same_way():
    document = with_odd_parts(good_document())
    theirs = msal.SerializableTokenCache()
    theirs.deserialize(json.dumps(document))
    assert sorted(a["home_account_id"] for a in theirs.search(ACCOUNT)) == ["alice", "bob"]
    query = {"home_account_id": "alice", "environment": "127.0.0.1", "client_id": "nbauth-native", "realm": "oidc"}
    alice_at = next(theirs.search(AT, ["api", "openid", "profile"], query, now=NOW))  # what acquire_token_silent does
    assert alice_at["secret"] == "at-alice-openid.profile.api"
    ours = SerializableTokenCache()
    with pytest.warns(CacheWarning):
        ours.deserialize(json.dumps(document))
    assert next(ours.search(AT, ["api", "openid", "profile"], query, now=NOW))["secret"] == alice_at["secret"]


def test_a_new_token_replaces_the_entry_it_could_not_use():
    cache = SerializableTokenCache()
    with pytest.warns(CacheWarning):
        cache.deserialize(json.dumps(with_odd_parts(good_document())))
    cache.add(oidc_event("bob"), now=NOW)
    (bob_at,) = cache.search(AT, ["api"], {"home_account_id": "bob"}, now=NOW)
    assert bob_at["expires_on"] == str(NOW + 600)
    saved = json.loads(cache.serialize())
    assert [e["expires_on"] for k, e in saved["AccessToken"].items() if k.startswith("bob-")] == [str(NOW + 600)]


def test_a_known_section_of_another_shape_is_kept_until_nbauth_files_into_it():
    document = dict(good_document(), IdToken=["not", "entries"])
    cache = SerializableTokenCache()
    with pytest.warns(CacheWarning, match="section IdToken is not an object"):
        cache.deserialize(json.dumps(document))
    assert usernames(cache) == ["alice", "bob"]
    assert json.loads(cache.serialize())["IdToken"] == ["not", "entries"]
    cache.add(oidc_event("carol"), now=NOW)
    assert list(json.loads(cache.serialize())["IdToken"]) == ["carol-127.0.0.1-idtoken-nbauth-native-oidc-"]


@pytest.fixture
def path(cache_path):
    return cache_path


def test_a_persisted_file_with_odd_entries_is_not_set_aside(path):
    document = with_odd_parts(good_document())
    path.write_text(json.dumps(document))
    path.chmod(0o600)
    cache = PersistedTokenCache(path, clock=lambda: NOW)
    with pytest.warns(CacheWarning) as caught:
        assert usernames(cache) == ["alice", "bob"]
    assert len(caught) == 1 and str(path) in str(caught[0].message)
    assert [p.name for p in path.parent.iterdir() if ".damaged-" in p.name] == []

    with warnings.catch_warnings():
        warnings.simplefilter("error", CacheWarning)  # named once, not at every read
        cache.add(oidc_event("carol"))
        assert usernames(cache) == ["alice", "bob", "carol"]
    saved = json.loads(path.read_text())
    for section, entries in document.items():  # the odd parts are still there, unchanged
        if isinstance(entries, dict):
            assert {k: v for k, v in saved[section].items() if k in entries} == entries
        else:
            assert saved[section] == entries


@pytest.mark.parametrize("content", [b"[1, 2]", b'"text"', b"null", b"{"])
def test_only_a_file_that_is_not_a_json_object_is_set_aside(path, content):
    path.write_bytes(content)
    path.chmod(0o600)
    cache = PersistedTokenCache(path, clock=lambda: NOW)
    with pytest.warns(CacheWarning, match="is damaged"):
        assert usernames(cache) == []
    assert len([p for p in path.parent.iterdir() if ".damaged-" in p.name]) == 1
