"""The notebook handle with the background refresher: with 3-second tokens a kernel's cells only ever
meet the cache, and a revoked refresh token shows as sign-in needed (widget, terminal) and is the
provider's error where nobody can be reached."""
from __future__ import annotations

import nbformat
import pytest

import nbauth
from idp.server import NATIVE_CLIENT
from nbauth.exceptions import OAuthError
from nbauth.ui import Status
from support.kernel import Kernel, displayed, kernel_env  # noqa: F401 - a fixture
from support.kernel_sign_in import shown_code

SCOPES = ["api:read"]
#: Far under one provider round trip (a refresh here takes tens of milliseconds).
CACHE_HIT_BOUND = 0.05
REFUSED = "Sign-in needed: the provider no longer accepts this sign-in (invalid_grant)."
pytestmark = pytest.mark.timeout(120)

SIGN_IN = """
import os, nbauth
me = nbauth.login("nbauth-native", oidc_authority=os.environ["NBAUTH_DEMO_AUTHORITY"], scopes=["api:read"])
"""

#: Asks for a token every 10 ms for 7 seconds (over two token lifetimes), timing each call.
BUSY_CELL = """
import time
slowest, calls, until = 0.0, 0, time.monotonic() + 7
while time.monotonic() < until:
    started = time.perf_counter()
    assert me.token(0)
    slowest, calls = max(slowest, time.perf_counter() - started), calls + 1
    time.sleep(0.01)
print(f"{slowest:.4f} {calls}")
"""

WAIT_FOR_SIGN_IN_NEEDED = """
from nbauth.ui import Status
me.wait_for(Status.SIGN_IN_NEEDED, 15)
print(me.status.value)
"""


def wait_for_status(me, status: Status, timeout: float = 15) -> Status:
    """Wait until the handle's status is ``status``; the status it has then."""
    me.wait_for(status, timeout)
    return me.status


def sign_in_in(kernel: Kernel, provider) -> None:
    kernel.run(SIGN_IN)
    provider.approve_device(shown_code(kernel), "alice")
    assert kernel.run("print(bool(me.token(30)), me.status.value)") == "True signed_in\n"


def test_cells_only_meet_the_cache_while_the_kernel_renews_three_second_tokens(make_idp, kernel_env):  # noqa: F811
    provider = make_idp(access_token_ttl=3)
    kernel_env(provider.issuer)
    kernel = Kernel(nbformat.v4.new_notebook())
    with kernel.client.setup_kernel():
        sign_in_in(kernel, provider)
        provider.reset_stats()
        slowest, calls = kernel.run(BUSY_CELL).split()
    assert float(slowest) < CACHE_HIT_BOUND and int(calls) > 200
    renewals = provider.token_log("refresh_token")
    assert len(renewals) >= 2 and {e["outcome"] for e in renewals} == {"ok"}


def test_a_revoked_refresh_token_shows_in_the_widget_and_the_next_token_call_signs_in_again(
        make_idp, kernel_env):  # noqa: F811
    provider = make_idp(access_token_ttl=3)
    kernel_env(provider.issuer)
    kernel = Kernel(nbformat.v4.new_notebook())
    with kernel.client.setup_kernel():
        sign_in_in(kernel, provider)
        provider.revoke_user_refresh_tokens("alice")
        assert kernel.run(WAIT_FOR_SIGN_IN_NEEDED) == "sign_in_needed\n"
        shown = displayed(kernel.nb.cells[0])
        kernel.client.set_widgets_metadata()
        states = kernel.nb.metadata["widgets"]["application/vnd.jupyter.widget-state+json"]["state"]
        widget_text = " ".join(str(s["state"].get("value", "")) for s in states.values())
        out = kernel.run("try:\n    me.token(0)\nexcept TimeoutError:\n"
                         "    me.wait_until(lambda state: state.user_code, 30)\n"
                         "    print(me.status.value, bool(me.state.user_code))\nme.cancel()")
    assert shown["text/plain"] == REFUSED and REFUSED in shown["text/html"]
    assert "Sign-in needed" in widget_text
    assert out == "waiting True\n"  # a new device code is shown, in the same widget


def login(provider, cache, ui):
    return nbauth.login(NATIVE_CLIENT, oidc_authority=provider.issuer, scopes=SCOPES, ui=ui, cache=cache)


def test_a_revoked_refresh_token_shows_in_the_terminal_and_the_next_token_call_shows_a_code(make_idp, capsys):
    provider = make_idp(access_token_ttl=3)
    me = login(provider, nbauth.SerializableTokenCache(), "terminal")
    provider.approve_device(me.state.user_code, "alice")
    assert me.token(30)
    provider.revoke_user_refresh_tokens("alice")
    assert wait_for_status(me, Status.SIGN_IN_NEEDED) is Status.SIGN_IN_NEEDED
    assert REFUSED in capsys.readouterr().err
    with pytest.raises(TimeoutError):
        me.token(0)
    assert me.status is Status.WAITING and f"the code {me.state.user_code}" in capsys.readouterr().err
    me.cancel()


def test_headless_a_revoked_refresh_token_is_the_providers_error_and_no_code_is_asked_for(make_idp, capsys):
    provider = make_idp(access_token_ttl=3)
    cache = nbauth.SerializableTokenCache()
    app = nbauth.PublicClientApplication(NATIVE_CLIENT, oidc_authority=provider.issuer, token_cache=cache)
    assert "access_token" in app.acquire_token_by_username_password("alice", "alice-pw", SCOPES)
    me = login(provider, cache, "none")  # signed in silently: nothing shown, yet kept fresh
    assert me.status is Status.SIGNED_IN
    provider.revoke_user_refresh_tokens("alice")
    assert wait_for_status(me, Status.SIGN_IN_NEEDED) is Status.SIGN_IN_NEEDED
    with pytest.raises(OAuthError, match="invalid_grant"):
        me.token(0)
    assert [e for e in provider.request_log() if e["endpoint"] == "device_authorization"] == []
    assert capsys.readouterr().err == ""
    result = app.acquire_token_silent_with_error(SCOPES, app.get_accounts()[0], force_refresh=True)
    assert result["error"] == "invalid_grant"  # the MSAL-style answer, for applications


def test_signing_out_ends_the_renewal(idp):
    cache = nbauth.SerializableTokenCache()
    app = nbauth.PublicClientApplication(NATIVE_CLIENT, oidc_authority=idp.issuer, token_cache=cache)
    app.acquire_token_by_username_password("bob", "bob-pw", SCOPES)
    me = login(idp, cache, "none")
    renewal = me.renewal
    assert renewal.active and renewal.account == me.account
    me.sign_out()
    assert not renewal.active and me.renewal is None


def test_a_short_lived_process_can_sign_in_without_background_renewal(idp):
    """The CLI's way: signed in from the cache, and no renewal thread kept for a process that ends."""
    cache = nbauth.SerializableTokenCache()
    app = nbauth.PublicClientApplication(NATIVE_CLIENT, oidc_authority=idp.issuer, token_cache=cache)
    app.acquire_token_by_username_password("bob", "bob-pw", SCOPES)
    me = nbauth.login(NATIVE_CLIENT, oidc_authority=idp.issuer, scopes=SCOPES, cache=cache, ui="none",
                      keep_fresh=False)
    assert me.status is Status.SIGNED_IN and me.token(0)
    assert me.renewal is None
