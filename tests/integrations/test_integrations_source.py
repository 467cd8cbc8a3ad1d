"""token_source: the one seam the integrations take tokens through."""
import threading

import pytest

import nbauth
from idp.server import NATIVE_CLIENT
from nbauth.cache import TokenCache
from nbauth.exceptions import OAuthError
from nbauth.integrations.source import Token, token_from_result, token_source
from support.integrations import SCOPES, signed_in_app, verified_claims


def pending_handle(provider):
    """nbauth.login's handle showing a device code (on the terminal presenter, into stderr)."""
    handle = nbauth.login(NATIVE_CLIENT, oidc_authority=provider.issuer, scopes=SCOPES, cache=TokenCache(),
                          ui="terminal")
    assert handle.status.value == "waiting"
    return handle


def test_a_pending_sign_in_is_waited_for(idp):
    handle = pending_handle(idp)
    source = token_source(handle, timeout=30)
    approver = threading.Timer(0.2, idp.approve_device, args=(handle.state.user_code, "bob"))
    approver.start()
    token = source([])  # the handle's scopes
    approver.join()
    assert verified_claims(idp, token.access_token)["sub"] == "bob"
    assert handle.status.value == "signed_in"


def test_a_sign_in_that_ended_or_is_still_pending_raises_the_handles_reason(idp):
    handle = pending_handle(idp)
    with pytest.raises(TimeoutError, match="no sign-in within 0.1 s"):
        token_source(handle, timeout=0.1)(SCOPES)
    idp.deny_device(handle.state.user_code)
    with pytest.raises(OAuthError) as raised:
        token_source(handle, timeout=30)(SCOPES)
    assert raised.value.error == "access_denied"


def test_an_account_with_no_token_for_the_scopes_needs_interaction(idp):
    app, account = signed_in_app(idp)
    app.remove_account(account)
    with pytest.raises(OAuthError, match="interaction_required: no token in the cache"):
        token_source(app, account=account)(SCOPES)


def test_results_become_tokens_with_absolute_times():
    result = {"access_token": "at", "expires_in": 300, "refresh_in": 150, "token_type": "Bearer"}
    assert token_from_result(result, 1000.5) == Token("at", 1300, "Bearer", 1150)
    assert token_from_result({"access_token": "at", "expires_in": 60, "refresh_on": 1030}, 1000) == \
        Token("at", 1060, "Bearer", 1030)
    with pytest.raises(OAuthError) as raised:
        token_from_result({"error": "invalid_grant", "error_description": "revoked", "claims": "{}"}, 0)
    assert (raised.value.error, raised.value.description, raised.value.claims) == ("invalid_grant", "revoked", "{}")


def test_a_callable_is_its_own_source():
    def source(scopes, *, claims_challenge=None, force_refresh=False):
        return Token("at", 1)
    assert token_source(source) is source
