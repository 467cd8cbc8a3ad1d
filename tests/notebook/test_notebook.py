"""``nbauth.login`` and its ``SignIn`` handle, in-process against the local provider."""
import time
from pathlib import Path

import nbformat
import pytest

import nbauth
from idp.server import EMAILS, NATIVE_CLIENT
from nbauth.exceptions import FlowError, InteractionUnavailable, NbauthError, OAuthError, SignInTimeout
from nbauth.ui import Status
from support.clock import FakeClock

SCOPES = ["api:read"]


@pytest.fixture
def cache():
    return nbauth.SerializableTokenCache()


def login(provider, cache, ui="terminal", **kwargs):
    return nbauth.login(NATIVE_CLIENT, oidc_authority=provider.issuer, scopes=SCOPES, ui=ui, cache=cache, **kwargs)


def test_a_cell_waiting_for_a_token_while_the_browser_is_offered_gets_a_device_code(idp, cache):
    me = login(idp, cache, ui="widget", method="browser")
    assert me.wait_until(lambda state: state.method != "contacting", 30)  # the widget asks in the background
    assert (me.status, me.state.method, me.state.user_code) == (Status.WAITING, "choose", "")
    with pytest.raises(SignInTimeout):
        me.token(timeout=0.01)  # the widget's browser button could not reach a waiting kernel
    assert me.wait_until(lambda state: state.user_code, 30) and me.status is Status.WAITING
    idp.approve_device(me.state.user_code, "alice")
    assert me.token(timeout=30)
    me.cancel()


def device_authorizations(provider):
    return [e for e in provider.request_log() if e["endpoint"] == "device_authorization"]


def test_login_returns_while_pending_and_token_waits_for_approval(idp, cache, capsys):
    started = time.perf_counter()
    me = login(idp, cache)
    assert time.perf_counter() - started < 5
    assert me.status is Status.WAITING
    code = me.state.user_code
    assert f"the code {code}" in capsys.readouterr().err
    idp.approve_device(code, "alice")
    token = me.token(timeout=30)
    assert token and me.status is Status.SIGNED_IN
    assert me.account["username"] == EMAILS["alice"]
    assert me.state.user_code == ""
    assert "Signed in as alice@example.test" in capsys.readouterr().err
    assert me.token(timeout=0) == token  # at once from the cache
    assert "alice" in repr(me) and token not in repr(me)


def test_second_login_is_silent_from_the_cache(idp, cache, capsys):
    first = login(idp, cache)
    idp.approve_device(first.state.user_code, "bob")
    first.token(timeout=30)
    capsys.readouterr()
    idp.reset_stats()
    again = login(idp, cache, ui="none")  # nobody needed: the cache has bob
    assert again.status is Status.SIGNED_IN and again.account["username"] == EMAILS["bob"]
    assert again.token(timeout=0)
    assert device_authorizations(idp) == [] and capsys.readouterr().err == ""


def test_cancel_stops_polling_at_once(make_idp, cache):
    provider = make_idp(device_interval=5)
    me = login(provider, cache)
    code = me.state.user_code
    started = time.perf_counter()
    me.cancel()
    assert time.perf_counter() - started < 2  # not a whole 5-second interval
    assert me.status is Status.CANCELLED
    polls = len(provider.token_log("device_code", user_code=code))
    provider.approve_device(code, "alice")
    with pytest.raises(FlowError, match="cancelled"):
        me.token(timeout=0)
    assert len(provider.token_log("device_code", user_code=code)) == polls


def test_denied(idp, cache):
    me = login(idp, cache)
    idp.deny_device(me.state.user_code)
    assert me.wait(30) is Status.DENIED
    with pytest.raises(OAuthError) as caught:
        me.token(timeout=0)
    assert caught.value.error == "access_denied"


def test_expired_then_sign_in_again(make_idp, cache):
    provider, clock = make_idp(device_code_ttl=2), FakeClock()
    me = login(provider, cache, clock=clock, wait=clock.wait)  # the first code's 2 s pass at once
    first = me.state.user_code
    assert me.wait(30) is Status.EXPIRED and me.state.detail.startswith("The device code expired")
    assert sum(clock.waits) == 2.0
    with pytest.raises(OAuthError, match="expired_token"):
        me.token(timeout=0)
    clock.run_in_real_time()  # so the approval below comes before the new code's (2 s) end
    me.sign_in_again()
    assert me.status is Status.WAITING and me.state.user_code not in ("", first)
    provider.approve_device(me.state.user_code, "alice")
    assert me.token(timeout=30)


def test_timeout_while_pending_leaves_the_code_valid(idp, cache):
    me = login(idp, cache)
    started = time.perf_counter()
    with pytest.raises(SignInTimeout, match="call token") as caught:
        me.token(timeout=0.2)
    assert isinstance(caught.value, TimeoutError) and isinstance(caught.value, NbauthError)
    assert time.perf_counter() - started < 2
    assert me.status is Status.WAITING
    me.cancel()


def test_wait_for_a_status_says_whether_it_came(idp, cache):
    me = login(idp, cache)
    assert not me.wait_for(Status.SIGNED_IN, timeout=0.05)
    idp.approve_device(me.state.user_code, "alice")
    assert me.wait_for("signed_in", timeout=30) and me.status is Status.SIGNED_IN  # the value works too
    with pytest.raises(ValueError, match="signed in"):
        me.wait_for("signed in")


def test_headless_fails_before_asking_for_a_code(idp, cache):
    idp.reset_stats()
    started = time.perf_counter()
    with pytest.raises(InteractionUnavailable, match="ui='none'"):
        login(idp, cache, ui="none")
    assert time.perf_counter() - started < 5
    assert device_authorizations(idp) == []


def test_sign_out_forgets_the_account_and_revokes_its_refresh_token(idp, cache):
    me = login(idp, cache)
    idp.approve_device(me.state.user_code, "alice")
    me.token(timeout=30)
    app = me.app
    refresh_token = next(iter(cache.search(cache.CredentialType.REFRESH_TOKEN)))["secret"]
    idp.reset_stats()
    me.sign_out()
    assert me.status is Status.SIGNED_OUT and me.account is None
    assert app.get_accounts() == []
    assert [e["outcome"] for e in idp.request_log() if e["endpoint"] == "revocation"] == ["ok"]
    result = app.acquire_token_by_refresh_token(refresh_token, SCOPES)
    assert result.get("error") == "invalid_grant"
    with pytest.raises(FlowError, match="sign_in_again"):
        me.token(timeout=0)


def test_retry_button_shows_a_failure_instead_of_raising(make_idp, cache):
    provider = make_idp()
    me = login(provider, cache)
    me.cancel()
    provider.stop()  # the provider is gone: the new code cannot be had
    me.presenter.on_retry()
    assert me.status is Status.ERROR and me.state.detail.endswith("/device/auth: connection failed")
    with pytest.raises(nbauth.TransportError):
        me.token(timeout=0)


@pytest.mark.parametrize("path", sorted((Path(__file__).resolve().parents[2] / "notebooks").glob("*.ipynb")),
                         ids=lambda path: path.name)
def test_committed_notebooks_are_valid_and_carry_no_outputs(path):
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    code = [cell for cell in nb.cells if cell.cell_type == "code"]
    assert code and all(cell.outputs == [] and cell.execution_count is None for cell in code)
    assert "widgets" not in nb.metadata


def test_scopes_as_one_string_is_refused(idp, cache):
    with pytest.raises(nbauth.ConfigurationError, match=r"scopes must be a list of scope strings"):
        nbauth.login(NATIVE_CLIENT, oidc_authority=idp.issuer, scopes="api:read", cache=cache)
