"""BearerAuth / authorized_session against the local provider and a loopback API that checks tokens."""
import base64

import msal
import pytest
import requests

from idp.server import CLIENT_SECRET, CONFIDENTIAL_CLIENT, NATIVE_CLIENT
from nbauth import ConfidentialClientApplication
from nbauth.cache import SerializableTokenCache
from nbauth.exceptions import ConfigurationError, OAuthError
from nbauth.integrations.requests_auth import BearerAuth, authorized_session
from nbauth.integrations.source import token_source
from support.fake_http import FakeServer
from support.integrations import SCOPES, challenge, signed_in_app, tokens_seen, verified_claims

CLAIMS = '{"access_token":{"acrs":{"essential":true,"value":"c1"}}}'


def test_requests_carry_the_signed_in_token_served_from_the_cache(handle, api, fake_server, idp):
    session = authorized_session(handle)
    url = api()
    for _ in range(3):
        response = session.get(url)
        assert response.status_code == 200 and response.json()["sub"] == "alice"
    first, *rest = tokens_seen(fake_server)
    assert rest == [first, first] and verified_claims(idp, first)["iss"] == idp.issuer
    assert idp.token_log() == []  # every token came from the cache


def test_an_expired_token_answer_gets_one_refresh_and_one_retry(handle, api, fake_server, idp):
    response = authorized_session(handle).get(api(challenge("invalid_token")))
    assert response.status_code == 200
    assert [r.status_code for r in response.history] == [401]
    first, second = tokens_seen(fake_server)
    assert first != second and verified_claims(idp, second)["sub"] == "alice"
    assert idp.count("refresh_token") == 1 and len(idp.token_log()) == 1


def test_a_second_401_goes_back_to_the_caller_without_another_try(handle, api, fake_server, idp):
    response = authorized_session(handle).get(api(challenge("invalid_token"), challenge("invalid_token")))
    assert response.status_code == 401 and [r.status_code for r in response.history] == [401]
    assert len(fake_server.requests_to("/data")) == 2
    assert len(idp.token_log()) == 1


def test_a_claims_challenge_asks_the_source_for_a_token_with_those_claims(handle, api, fake_server, idp):
    asked = []
    source = token_source(handle)

    def recording_source(scopes, *, claims_challenge=None, force_refresh=False):
        asked.append((list(scopes), claims_challenge, force_refresh))
        return source(scopes, claims_challenge=claims_challenge, force_refresh=force_refresh)

    claims = base64.b64encode(CLAIMS.encode()).decode()
    response = authorized_session(recording_source, SCOPES).get(api(challenge("insufficient_claims", claims=claims)))
    assert response.status_code == 200
    assert asked == [(SCOPES, None, False), (SCOPES, CLAIMS, True)]
    assert idp.count("refresh_token") == 1  # the claims went to the provider with a refresh


@pytest.mark.parametrize("answer", [
    (401, {}, "no challenge at all"),
    challenge("insufficient_scope", scope="api:write"),
    challenge("insufficient_claims", claims="not base64!"),
    (403, {"WWW-Authenticate": 'Bearer error="invalid_token"'}, ""),
])
def test_other_refusals_are_returned_as_they_are(handle, api, fake_server, idp, answer):
    response = authorized_session(handle).get(api(answer))
    assert response.status_code == answer[0] and response.history == []
    assert len(fake_server.requests_to("/data")) == 1 and idp.token_log() == []


def test_a_body_is_sent_again_but_a_stream_is_not(handle, api, fake_server, idp):
    session = authorized_session(handle)
    url = api(challenge("invalid_token"))
    response = session.post(url, json={"rows": [1, 2, 3]})
    assert response.status_code == 200 and response.json()["body"] == '{"rows": [1, 2, 3]}'
    first, second = fake_server.requests_to("/data")
    assert first.body == second.body

    url = api(challenge("invalid_token"))
    response = session.post(url, data=(chunk for chunk in [b"a,b\n", b"1,2\n"]))
    assert response.status_code == 401 and response.history == []
    assert len(fake_server.requests_to("/data")) == 3


def test_a_401_after_a_redirect_elsewhere_gets_no_token(handle, api, fake_server, idp):
    with FakeServer() as elsewhere:
        elsewhere.route("GET", "/landing", challenge("invalid_token"))
        fake_server.route("GET", "/moved", (302, {"Location": elsewhere.url + "/landing"}, ""))
        response = authorized_session(handle).get(fake_server.url + "/moved")
        assert response.status_code == 401 and [r.status_code for r in response.history] == [302]
        (landing,) = elsewhere.requests_to("/landing")
    assert "Authorization" not in landing.headers and idp.token_log() == []


def test_when_no_new_token_can_be_had_the_error_is_raised(idp, api, fake_server):
    app, account = signed_in_app(idp, user="bob")
    session = authorized_session(app, SCOPES, account=account)
    assert session.get(api()).status_code == 200
    idp.revoke_user_refresh_tokens("bob")
    with pytest.raises(OAuthError) as raised:
        session.get(api(challenge("invalid_token")))
    assert raised.value.error == "invalid_grant"
    assert len(fake_server.requests_to("/data")) == 2


def test_a_confidential_app_sends_its_own_token_and_asks_anew_when_told(idp, api, fake_server):
    app = ConfidentialClientApplication(CONFIDENTIAL_CLIENT, CLIENT_SECRET, oidc_authority=idp.issuer)
    idp.reset_stats()
    session = requests.Session()
    assert authorized_session(app, SCOPES, session=session) is session
    assert session.get(api()).json()["client_id"] == CONFIDENTIAL_CLIENT
    response = session.get(api(challenge("invalid_token")))
    assert response.status_code == 200
    first, cached, fresh = tokens_seen(fake_server)
    assert first == cached != fresh
    assert idp.count("client_credentials") == 2


def test_msals_own_application_is_a_token_source_too(idp, api, fake_server):
    ours = SerializableTokenCache()
    signed_in_app(idp, cache=ours)
    theirs = msal.SerializableTokenCache()
    theirs.deserialize(ours.serialize())  # the same format: msal takes over alice's sign-in
    app = msal.PublicClientApplication(NATIVE_CLIENT, oidc_authority=idp.issuer, token_cache=theirs)
    (account,) = app.get_accounts()
    response = requests.get(api(challenge("invalid_token")), auth=BearerAuth(app, SCOPES, account=account))
    assert response.status_code == 200 and response.history[0].status_code == 401


def test_bad_sources_are_named(idp):
    app, _ = signed_in_app(idp)
    with pytest.raises(ConfigurationError, match="pass account="):
        BearerAuth(app, SCOPES)
    with pytest.raises(ConfigurationError, match="not int"):
        BearerAuth(42)
    with pytest.raises(ConfigurationError, match="scopes are needed"):
        requests.Request("GET", "http://127.0.0.1:9/", auth=BearerAuth(app, account=app.get_accounts()[0])).prepare()


def test_no_token_in_reprs(handle):
    auth = BearerAuth(handle)
    token = token_source(handle)(SCOPES)
    assert token.access_token not in repr(token) and "access_token=<redacted>" in repr(token)
    assert repr(auth) == "<BearerAuth scopes=[]>"
