"""HttpxBearerAuth with httpx.Client and httpx.AsyncClient against the local provider and a loopback
API that checks its JWTs and answers challenges."""
import asyncio
import base64

import httpx
import pytest

from nbauth.exceptions import OAuthError
from nbauth.integrations.httpx_auth import HttpxBearerAuth
from nbauth.integrations.source import token_source
from support.integrations import SCOPES, challenge, tokens_seen, verified_claims

CLAIMS = '{"access_token":{"acrs":{"essential":true,"value":"c1"}}}'
pytestmark = pytest.mark.timeout(60)


def in_async_client(auth, send):
    """``await send(client)`` in an ``httpx.AsyncClient`` using ``auth``, on a new event loop."""
    async def main():
        async with httpx.AsyncClient(auth=auth) as client:
            return await send(client)
    return asyncio.run(main())


@pytest.fixture(params=["sync", "async"])
def get(request):
    """``get(auth, url, **options)`` through httpx.Client or httpx.AsyncClient."""
    if request.param == "sync":
        return lambda auth, url, **options: httpx.Client(auth=auth).request(options.pop("method", "GET"), url,
                                                                              **options)
    return lambda auth, url, **options: in_async_client(
        auth, lambda client: client.request(options.pop("method", "GET"), url, **options))


def test_requests_carry_the_signed_in_token_served_from_the_cache(handle, api, fake_server, idp, get):
    url, auth = api(), HttpxBearerAuth(handle)
    for _ in range(3):
        response = get(auth, url)
        assert response.status_code == 200 and response.json()["sub"] == "alice"
    first, *rest = tokens_seen(fake_server)
    assert rest == [first, first] and verified_claims(idp, first)["iss"] == idp.issuer
    assert idp.token_log() == []  # every token came from the cache


def test_an_expired_token_answer_gets_one_refresh_and_one_retry(handle, api, fake_server, idp, get):
    response = get(HttpxBearerAuth(handle), api(challenge("invalid_token")), method="POST", json={"n": 1})
    assert response.status_code == 200 and response.json()["body"] == '{"n":1}'
    assert [r.status_code for r in response.history] == [401]
    first, second = tokens_seen(fake_server)
    assert first != second and verified_claims(idp, second)["sub"] == "alice"
    assert idp.count("refresh_token") == 1 and len(idp.token_log()) == 1


def test_a_second_401_goes_back_to_the_caller_without_another_try(handle, api, fake_server, idp, get):
    response = get(HttpxBearerAuth(handle), api(challenge("invalid_token"), challenge("invalid_token")))
    assert response.status_code == 401 and [r.status_code for r in response.history] == [401]
    assert len(fake_server.requests_to("/data")) == 2 and len(idp.token_log()) == 1


def test_a_claims_challenge_asks_the_source_for_a_token_with_those_claims(handle, api, idp, get):
    asked, source = [], token_source(handle)

    def recording_source(scopes, *, claims_challenge=None, force_refresh=False):
        asked.append((list(scopes), claims_challenge, force_refresh))
        return source(scopes, claims_challenge=claims_challenge, force_refresh=force_refresh)

    claims = base64.b64encode(CLAIMS.encode()).decode()
    response = get(HttpxBearerAuth(recording_source, SCOPES), api(challenge("insufficient_claims", claims=claims)))
    assert response.status_code == 200
    assert asked == [(SCOPES, None, False), (SCOPES, CLAIMS, True)]
    assert idp.count("refresh_token") == 1


def test_other_401s_go_back_as_they_are(handle, api, fake_server, idp, get):
    response = get(HttpxBearerAuth(handle), api(challenge("insufficient_scope", scope="api:write")))
    assert response.status_code == 401 and response.history == []
    assert len(fake_server.requests_to("/data")) == 1 and idp.token_log() == []


def test_a_streamed_body_is_not_sent_again_and_the_error_says_so(handle, api, fake_server, idp):
    url, auth = api(challenge("invalid_token")), HttpxBearerAuth(handle)
    with pytest.raises(httpx.HTTPStatusError, match="body is a stream, which cannot be sent again") as raised:
        httpx.Client(auth=auth).post(url, content=iter([b"part one, ", b"part two"]))
    assert raised.value.response.status_code == 401

    async def chunks():
        yield b"async part"
    api(challenge("invalid_token"))
    with pytest.raises(httpx.HTTPStatusError, match="cannot be sent again"):
        in_async_client(auth, lambda client: client.post(url, content=chunks()))
    assert len(fake_server.requests_to("/data")) == 2 and idp.token_log() == []


def test_without_a_token_the_sources_error_is_raised(handle, api, fake_server, get):
    handle.service.remove(handle.account)
    with pytest.raises(OAuthError, match="interaction_required"):
        get(HttpxBearerAuth(handle), api())
    assert fake_server.requests_to("/data") == []


def test_the_requests_auth_given_to_httpx_says_which_class_to_use(handle, api, fake_server):
    from nbauth import BearerAuth

    with pytest.raises(TypeError, match="use nbauth.HttpxBearerAuth with httpx"):
        httpx.get(fake_server.url + "/data", auth=BearerAuth(handle))
