"""The cache schema against MSAL itself: the same events give the same keys and entries."""
import json

import msal
import pytest

from nbauth.cache import CredentialType, SerializableTokenCache
from nbauth.cache.schema import entry_key, environment_and_realm, ext_cache_key, read_document
from support.cache import NOW, b64, app_event, entra_event, oidc_event, unsigned_jwt


def _document(cache) -> dict:
    return {name: entries for name, entries in json.loads(cache.serialize()).items() if entries}


def _both(*events):
    ours, theirs = SerializableTokenCache(), msal.SerializableTokenCache()
    for event in events:
        ours.add(event, now=NOW)
        theirs.add(event, now=NOW)
    return _document(ours), _document(theirs)


PARITY_CASES = {
    "entra device code": [entra_event()],
    "entra two tenants and a family app": [entra_event(), entra_event(tenant="tenant-2", foci="1")],
    "entra string lifetimes, refresh_in": [entra_event(expires_in="3600", ext_expires_in="7200", refresh_in=1800)],
    "oidc password grant": [oidc_event()],
    "oidc two users, scopes unsorted": [oidc_event(scopes=("z", "openid", "a")), oidc_event(sub="bob")],
    "client credentials": [app_event()],
    "expires_on only (managed identity)": [dict(app_event(), response={"access_token": "t",
                                                                       "expires_on": str(NOW + 90)})],
    "adfs realm": [dict(oidc_event(), token_endpoint="https://adfs.example.com/adfs/oauth2/token")],
    "username from the request": [oidc_event(id_token=unsigned_jwt({"sub": "s"}))],
    "upn claim": [entra_event(id_token=unsigned_jwt({"sub": "s", "upn": "u@example.com"}))],
    "authorization code establishes the account": [entra_event(grant_type="authorization_code")],
    "refresh grant leaves account_source out": [entra_event(grant_type="refresh_token")],
    "explicit environment": [dict(entra_event(), environment="login.windows.net")],
    "no account creation": [dict(entra_event(), skip_account_creation=True)],
    "key-bound token": [dict(entra_event(), data={"key_id": "k1", "token_type": "pop"})],
    "extended cache key": [dict(app_event(), data={"fmi_path": "a/b", "client_secret": "s"})],
    "client_info without utid falls back to sub": [entra_event(client_info=b64({"uid": "x"}))],
}


@pytest.mark.parametrize("events", PARITY_CASES.values(), ids=PARITY_CASES.keys())
def test_same_document_as_msal(events):
    ours, theirs = _both(*events)
    assert ours == theirs
    assert ours  # the case did store something


def test_entra_account_fields():
    ours, _ = _both(entra_event(uid="u", tenant="t"))
    (account,) = ours["Account"].values()
    assert account == {
        "home_account_id": "u.t", "environment": "login.microsoftonline.com", "realm": "t",
        "local_account_id": "u", "username": "alice@example.com", "authority_type": "MSSTS",
        "account_source": "urn:ietf:params:oauth:grant-type:device_code"}
    (at,) = ours["AccessToken"].values()
    assert (at["cached_at"], at["expires_on"]) == (str(NOW), str(NOW + 3600))  # strings, as MSAL's schema


def test_obo_assertion_hash_is_a_field_not_an_extended_key():
    cache = SerializableTokenCache()
    cache.add(dict(entra_event(), data={"user_assertion_hash": "h1"}), now=NOW)
    document = _document(cache)
    (at,) = document["AccessToken"].values()
    (rt,) = document["RefreshToken"].values()
    assert at["user_assertion_hash"] == rt["user_assertion_hash"] == "h1"
    assert "ext_cache_key" not in at and "-accesstoken-" in next(iter(document["AccessToken"]))


def test_ext_cache_key_matches_msal():
    data = {"fmi_path": "some/path", "other": "é", "scope": "ignored", "client_secret": "ignored"}
    assert ext_cache_key(data) == msal.token_cache._compute_ext_cache_key(data)
    assert ext_cache_key({"scope": "x"}) == ""


def test_keys_match_msal_key_makers():
    msal_makers = msal.TokenCache().key_makers
    entry = {"home_account_id": "U.T", "environment": "Login.Example.com", "client_id": "C",
             "realm": "T", "target": "a B"}
    for credential_type in (CredentialType.ACCESS_TOKEN, CredentialType.REFRESH_TOKEN,
                            CredentialType.ID_TOKEN, CredentialType.ACCOUNT, CredentialType.APP_METADATA):
        assert entry_key(credential_type, entry) == msal_makers[credential_type](**entry)


def test_environment_and_realm_from_the_token_endpoint():
    assert environment_and_realm("https://Login.Example.COM:8443/tenant/oauth2/token") == (
        "login.example.com", "tenant")
    assert environment_and_realm("https://127.0.0.1:9000/oidc/token") == ("127.0.0.1", "oidc")


def test_a_document_that_is_not_an_object_is_refused():
    with pytest.raises(ValueError, match="JSON list"):
        read_document([], {})


@pytest.mark.parametrize("document, complaint", [
    ({"AccessToken": []}, "section AccessToken"),
    ({"RefreshToken": {"k": "v"}}, "entry 'k' in RefreshToken"),
    ({"Account": {"k": {"home_account_id": 7}}}, "home_account_id"),
    ({"AccessToken": {"k": {"secret": "s", "expires_on": "soon"}}}, "expires_on"),
])
def test_read_document_keeps_and_names_what_it_cannot_use(document, complaint):
    reading = read_document(document, {})
    (problem,) = reading.problems
    assert complaint in problem
    assert all(not changed for changed in reading.changed.values())
    kept = {**reading.kept_sections, **{name: entries for name, entries in reading.kept_entries.items() if entries}}
    assert kept == document


def test_read_document_accepts_unknown_sections():
    reading = read_document({"AccessToken": {}, "FutureSection": [1, 2], "Version": 3}, {})
    assert reading.problems == [] and reading.kept_sections == {"FutureSection": [1, 2], "Version": 3}
