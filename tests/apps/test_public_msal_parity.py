"""The same device-code sign-in through msal 1.39 and through nbauth: same shapes, and nbauth
serves a 5-minute token from its cache where msal counts it as expired."""
import msal
import pytest

import nbauth
from idp.server import NATIVE_CLIENT


def device_sign_in(module, idp):
    app = module.PublicClientApplication(NATIVE_CLIENT, oidc_authority=idp.issuer)
    flow = app.initiate_device_flow(["api:read"])
    idp.approve_device(flow["user_code"], "alice")
    result = app.acquire_token_by_device_flow(flow)
    (account,) = app.get_accounts()
    return app, flow, result, account


def test_flow_result_and_account_have_msals_shape(idp):
    _, their_flow, theirs, their_account = device_sign_in(msal, idp)
    _, our_flow, ours, our_account = device_sign_in(nbauth, idp)
    assert set(their_flow) - {"_correlation_id"} <= set(our_flow)
    assert set(theirs) == set(ours)
    assert (theirs["scope"], theirs["token_type"], theirs["token_source"]) == \
        (ours["scope"], ours["token_type"], ours["token_source"])
    assert their_account == our_account


def test_a_five_minute_token_is_served_from_nbauths_cache_but_refreshed_by_msal(idp):
    for module, source in ((msal, "identity_provider"), (nbauth, "cache")):
        app, _, first, account = device_sign_in(module, idp)
        refreshes = idp.count("refresh_token")
        assert app.acquire_token_silent(["api:read"], account)["token_source"] == source
        assert idp.count("refresh_token") == refreshes + (source == "identity_provider")


def test_reserved_scopes_are_refused_as_msal_refuses_them(idp):
    for module in (msal, nbauth):
        app = module.PublicClientApplication(NATIVE_CLIENT, oidc_authority=idp.issuer)
        with pytest.raises(ValueError, match="reserved|must not include"):
            app.initiate_device_flow(["openid"])
