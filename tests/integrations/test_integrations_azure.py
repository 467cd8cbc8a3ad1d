"""NbauthCredential in a real azure-core pipeline (BearerTokenCredentialPolicy, RequestsTransport)
against a loopback https API that takes only the local provider's tokens."""
import base64
import time

import pytest
from azure.core.credentials import SupportsTokenInfo, TokenCredential
from azure.core.exceptions import ClientAuthenticationError
from azure.core.pipeline import Pipeline
from azure.core.pipeline.policies import BearerTokenCredentialPolicy
from azure.core.pipeline.transport import RequestsTransport
from azure.core.rest import HttpRequest

import nbauth
from nbauth.exceptions import ConfigurationError
from nbauth.integrations.azure import AccessToken, AccessTokenInfo, NbauthCredential
from support.fake_http import FakeServer
from support.integrations import (SCOPES, bearer_of, challenge, checking_api, signed_in_app, signed_in_handle,
                                       verified_claims)

CLAIMS = '{"access_token":{"nbf":{"essential":true,"value":"1604106651"}}}'


@pytest.fixture
def credential(idp):
    return NbauthCredential(signed_in_handle(idp))


@pytest.fixture
def https_api(session_ca):
    with FakeServer(ca=session_ca) as server:
        yield server


def call_through_pipeline(credential, url):
    pipeline = Pipeline(RequestsTransport(), policies=[BearerTokenCredentialPolicy(credential, *SCOPES)])
    with pipeline:
        return pipeline.run(HttpRequest("GET", url)).http_response


def test_the_policy_sends_a_real_token_of_the_provider(credential, https_api, idp):
    https_api.route("GET", "/data", checking_api(idp))
    response = call_through_pipeline(credential, https_api.url + "/data")
    assert response.status_code == 200 and response.json()["sub"] == "alice"
    (request,) = https_api.requests_to("/data")
    claims = verified_claims(idp, bearer_of(request))
    assert claims["iss"] == idp.issuer and claims["scope"] == "api:read"
    assert idp.token_log() == []  # from the cache


def test_a_claims_challenge_through_the_policy_gets_a_token_from_the_provider(credential, https_api, idp):
    claims = base64.b64encode(CLAIMS.encode()).decode()
    https_api.route("GET", "/data", checking_api(idp, [challenge("insufficient_claims", claims=claims)]))
    response = call_through_pipeline(credential, https_api.url + "/data")
    assert response.status_code == 200
    first, second = (bearer_of(r) for r in https_api.requests_to("/data"))
    assert first != second and verified_claims(idp, second)["sub"] == "alice"
    assert idp.count("refresh_token") == 1


def test_tokens_have_azure_cores_shapes_and_hide_in_reprs(credential):
    assert isinstance(credential, TokenCredential) and isinstance(credential, SupportsTokenInfo)
    now = time.time()
    token = credential.get_token(*SCOPES)
    assert isinstance(token, AccessToken) and isinstance(token.expires_on, int)
    assert now + 200 < token.expires_on <= now + 301  # the provider's 300-second tokens
    info = credential.get_token_info(*SCOPES, options={"enable_cae": True})
    assert isinstance(info, AccessTokenInfo) and (info.token, info.token_type) == (token.token, "Bearer")
    assert token.token not in repr(token) + repr(info) and "<redacted>" in repr(token)
    with credential as same:
        assert same is credential


def test_a_tenant_is_refused_unless_it_is_the_apps_own(credential):
    with pytest.raises(ConfigurationError, match="at an authority without tenants, not at tenant 'contoso'"):
        credential.get_token(*SCOPES, tenant_id="contoso")
    entra = nbauth.PublicClientApplication("client", authority="https://login.microsoftonline.com/Contoso")
    credential = NbauthCredential(lambda scopes, **options: None, account=None)
    assert credential.tenant_id is None
    credential = NbauthCredential(entra, account={"home_account_id": "x"})
    assert credential.tenant_id == "Contoso"
    with pytest.raises(ConfigurationError, match="at tenant 'Contoso', not at tenant 'fabrikam'"):
        credential.get_token("User.Read", tenant_id="fabrikam")


def test_a_failed_refresh_is_azure_cores_authentication_error(idp):
    app, account = signed_in_app(idp, user="bob")
    credential = NbauthCredential(app, account=account)
    idp.revoke_user_refresh_tokens("bob")
    assert credential.get_token(*SCOPES).token  # still fresh in the cache
    with pytest.raises(ClientAuthenticationError, match="invalid_grant") as raised:
        credential.get_token(*SCOPES, claims=CLAIMS)  # claims skip the cache: the refresh is refused
    assert raised.value.__cause__.error == "invalid_grant"
