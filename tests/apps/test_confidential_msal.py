"""App-only tokens in MSAL's cache format: the real msal serves what nbauth cached, and the other
way round, with no request to the provider."""
from __future__ import annotations

import msal
import pytest

from idp.server import CLIENT_SECRET, CONFIDENTIAL_CLIENT
from nbauth import ConfidentialClientApplication
from nbauth.cache import SerializableTokenCache


@pytest.fixture
def idp(make_idp):
    return make_idp(access_token_ttl=3600)  # msal serves nothing with under five minutes left


def app_token_requests(idp) -> int:
    return len(idp.token_log("client_credentials"))


def test_msal_serves_the_app_token_nbauth_cached(idp):
    ours = SerializableTokenCache()
    token = ConfidentialClientApplication(CONFIDENTIAL_CLIENT, CLIENT_SECRET, oidc_authority=idp.issuer,
                                          token_cache=ours).acquire_token_for_client(["api:read"])["access_token"]
    theirs = msal.SerializableTokenCache()
    theirs.deserialize(ours.serialize())
    before = app_token_requests(idp)
    result = msal.ConfidentialClientApplication(CONFIDENTIAL_CLIENT, client_credential=CLIENT_SECRET,
                                                oidc_authority=idp.issuer, token_cache=theirs) \
        .acquire_token_for_client(["api:read"])
    assert (result["access_token"], result["token_source"]) == (token, "cache")
    assert app_token_requests(idp) == before


def test_nbauth_serves_the_app_token_msal_cached_and_removes_it(idp):
    theirs = msal.SerializableTokenCache()
    token = msal.ConfidentialClientApplication(CONFIDENTIAL_CLIENT, client_credential=CLIENT_SECRET,
                                               oidc_authority=idp.issuer, token_cache=theirs) \
        .acquire_token_for_client(["api:read"])["access_token"]
    ours = SerializableTokenCache()
    ours.deserialize(theirs.serialize())
    app = ConfidentialClientApplication(CONFIDENTIAL_CLIENT, CLIENT_SECRET, oidc_authority=idp.issuer,
                                        token_cache=ours)
    before = app_token_requests(idp)
    result = app.acquire_token_for_client(["api:read"])
    assert (result["access_token"], result["token_source"]) == (token, "cache")
    assert app_token_requests(idp) == before
    app.remove_tokens_for_client()
    assert token not in ours.serialize()
