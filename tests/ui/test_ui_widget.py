"""The notebook widget's states and clicks, driven in-process (no kernel, no browser)."""
import base64
import json
import os
import pathlib
import re
import sys
import time
import types
from dataclasses import replace

import pytest
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from nbauth.ui.base import BrowserActions
from nbauth.ui.relay import deliver
from nbauth.ui.text import FlowState, Status, message
from nbauth.ui.widget import WidgetPresenter

NOW = 1_700_000_000.0
FLOW = {"verification_uri": "https://idp.example/device",
        "verification_uri_complete": "https://idp.example/device?user_code=WDJB-MJHT",
        "user_code": "WDJB-MJHT", "expires_at": NOW + 300}


@pytest.fixture
def calls():
    return []


@pytest.fixture
def relay_folder(tmp_path):
    return tmp_path / "runtime" / "nbauth-relay"


@pytest.fixture
def presenter(calls, relay_folder):
    return WidgetPresenter(on_retry=lambda: calls.append("retry"), on_sign_out=lambda: calls.append("sign_out"),
                           relay_folder=relay_folder)


def waiting(**flow):
    return FlowState.from_flow({**FLOW, **flow}, "https://idp.example")


def visible(widget):
    return widget.layout.display != "none"


def shown_buttons(presenter):
    return [b.description for b in presenter.buttons.values() if visible(b)]


def everything(presenter):
    """All the widget state a saved notebook could keep, and the display's text fallbacks."""
    parts = [presenter.prompt, presenter.code, presenter.helper, presenter.status]
    bundle = presenter._repr_mimebundle_()
    return json.dumps([p.get_state() for p in parts]) + bundle["text/plain"] + bundle["text/html"]


def test_waiting_shows_link_code_copy_and_cancel(presenter):
    presenter.show(waiting())
    assert 'href="https://idp.example/device?user_code=WDJB-MJHT" target="_blank"' in presenter.prompt.value
    assert re.search(r'class="nbauth-code"[^>]*>WDJB-MJHT<', presenter.code.value)
    assert (presenter.helper.code, presenter.helper.expires_at) == ("WDJB-MJHT", NOW + 300)
    assert visible(presenter.prompt) and visible(presenter.code_row)
    assert shown_buttons(presenter) == ["Cancel"]
    assert "Waiting for you to sign in." in presenter.status.value
    assert "expires" not in presenter.status.value  # the browser counts down, not a stale kernel string


def test_display_bundle_carries_text_fallbacks(presenter):
    presenter.show(waiting())
    bundle = presenter._repr_mimebundle_()
    assert bundle["application/vnd.jupyter.widget-view+json"]["model_id"] == presenter.view.model_id
    assert "https://idp.example/device?user_code=WDJB-MJHT" in bundle["text/plain"]
    assert "WDJB-MJHT" in bundle["text/plain"] and "WDJB-MJHT" in bundle["text/html"]


def test_cancel_button_sets_the_cancel_event(presenter):
    presenter.show(waiting())
    presenter.cancel_button.click()
    assert presenter.cancel_event.is_set()
    presenter.show(waiting(user_code="NEW-CODE"))
    assert not presenter.cancel_event.is_set()


def test_update_while_waiting_keeps_the_code_and_a_cancellation(presenter):
    presenter.show(waiting())
    presenter.cancel()
    presenter.update(waiting())
    assert presenter.cancel_event.is_set() and presenter.helper.code == "WDJB-MJHT"


def test_signed_in_collapses_to_one_line_without_code_or_link(presenter, calls):
    presenter.show(waiting())
    presenter.finish(waiting().settle(Status.SIGNED_IN, "alice@example.org"))
    assert not visible(presenter.prompt) and not visible(presenter.code_row)
    assert shown_buttons(presenter) == ["Sign out"]
    assert "Signed in as alice@example.org at https://idp.example. Tokens refresh automatically." in \
        presenter.status.value
    saved = everything(presenter)
    assert "WDJB" not in saved and "idp.example/device" not in saved


def test_sign_out_asks_first_because_it_revokes(presenter, calls):
    presenter.finish(waiting().settle(Status.SIGNED_IN, "alice@example.org"))
    presenter.sign_out_button.click()
    assert calls == [] and shown_buttons(presenter) == ["Sign out and revoke", "Keep signed in"]
    assert "Sign out? This also revokes the sign-in at idp.example" in presenter.status.value
    presenter.buttons["keep"].click()
    assert shown_buttons(presenter) == ["Sign out"] and "Signed in as" in presenter.status.value
    presenter.sign_out_button.click()
    presenter.buttons["confirm_sign_out"].click()
    assert calls == ["sign_out"]


@pytest.mark.parametrize("status", [Status.EXPIRED, Status.CANCELLED, Status.DENIED, Status.ERROR,
                                    Status.SIGNED_OUT, Status.SIGN_IN_NEEDED])
def test_ended_without_sign_in_offers_sign_in_again(presenter, calls, status):
    presenter.show(waiting())
    presenter.finish(waiting().settle(status, "why"))
    assert shown_buttons(presenter) == ["Sign in again"]
    assert "WDJB" not in everything(presenter)
    presenter.retry_button.click()
    assert calls == ["retry"]


def test_without_actions_no_retry_or_sign_out_buttons():
    presenter = WidgetPresenter()
    presenter.show(waiting())
    presenter.finish(waiting().settle(Status.SIGNED_IN, "alice"))
    assert shown_buttons(presenter) == []
    presenter.finish(waiting().settle(Status.CANCELLED))
    assert shown_buttons(presenter) == []


def test_hostile_provider_strings_are_inert(presenter):
    presenter.show(waiting(verification_uri="javascript:alert(1)//<b>x</b>", verification_uri_complete=None,
                           user_code='<img src=x onerror="alert(1)">'))
    html = presenter.prompt.value + presenter.code.value
    assert "href" not in html and "<img" not in html and "<b>" not in html
    assert "javascript:alert(1)//&lt;b&gt;x&lt;/b&gt;" in html
    presenter.finish(waiting().settle(Status.ERROR, "<script>alert(1)</script>"))
    assert "<script>" not in presenter.status.value
    assert "&lt;script&gt;" in presenter.status.value


def test_only_the_ui_widget_modules_import_ipywidgets():
    package = pathlib.Path(__file__).resolve().parents[2] / "nbauth"
    importers = sorted(str(path.relative_to(package)) for path in package.rglob("*.py")
                       if re.search(r"^\s*(import|from) (ipywidgets|anywidget|IPython)\b", path.read_text(), re.M))
    assert importers == ["ui/browser.py", "ui/frontend.py", "ui/widget.py"]


def test_contacting_shows_cancel_and_no_code(presenter):
    presenter.show(FlowState(status=Status.WAITING, method="contacting", authority="https://idp.example"))
    assert "Contacting idp.example\u2026" in presenter.status.value  # the host, as the title names it
    assert "nbauth-spinner" in presenter.header.value and "Sign in to idp.example" in presenter.header.value
    assert shown_buttons(presenter) == ["Cancel"] and not visible(presenter.code_row)


def test_retrying_keeps_the_code_and_says_so(presenter):
    presenter.show(waiting())
    presenter.update(replace(waiting(), retrying=True))
    assert presenter.helper.code == "WDJB-MJHT" and visible(presenter.code_row)
    assert "the provider is not answering, retrying" in presenter.status.value


def test_a_saved_sign_in_is_one_line_with_sign_out(presenter):
    presenter.finish(replace(waiting().settle(Status.SIGNED_IN, "alice"), saved=True))
    assert "Signed in as alice at https://idp.example (saved sign-in)." in presenter.status.value
    assert shown_buttons(presenter) == ["Sign out"] and "nbauth-spinner" not in presenter.header.value


def test_the_primary_action_opens_the_sign_in_page_and_the_kernel_says_when_the_code_expires(presenter):
    presenter.show(waiting(expires_at=time.time() + 299))
    assert re.search(r'<a class="nbauth-link nbauth-primary" href="https://idp.example/device\?user_code=WDJB-MJHT"'
                     r'[^>]*>Open sign-in page</a>', presenter.prompt.value)
    assert "On another device, go to" in presenter.prompt.value
    assert "Code expires in about 5 minutes" in presenter.expiry.value  # for front ends without the countdown
    presenter.finish(waiting().settle(Status.EXPIRED, "The device code expired before the sign-in was completed."))
    assert presenter.expiry.value == ""
    assert re.sub("<[^>]+>", "", presenter.status.value).count("expired") == 1  # said once


def test_a_click_through_the_relay_cancels_while_the_kernel_is_busy(presenter, relay_folder):
    presenter.show(waiting())
    assert presenter.helper.relay_id == presenter.inbox.id
    deliver(relay_folder, presenter.inbox.id, json.dumps({"action": "cancel", "id": "k1"}).encode())
    assert presenter.cancel_event.wait(5)  # the widget's thread read the relay file
    presenter.finish(waiting().settle(Status.CANCELLED))
    presenter.retry_button.click()  # the same click's comm copy would be dropped; a new one acts
    presenter._from_comm({"kind": "click", "click": {"action": "cancel", "id": "k1"}})


def test_without_a_usable_runtime_folder_clicks_go_over_the_comm_alone(tmp_path, calls):
    (tmp_path / "file").write_text("")
    presenter = WidgetPresenter(on_retry=lambda: calls.append("retry"), relay_folder=tmp_path / "file" / "relay")
    assert presenter.helper.relay_id == "" and not presenter.clicks_reach_busy_kernel(0)
    presenter.finish(waiting().settle(Status.CANCELLED))
    presenter._from_comm({"kind": "click", "click": {"action": "retry", "id": "c1"}})
    presenter._from_comm({"kind": "click", "click": {"action": "retry", "id": "c1"}})
    assert calls == ["retry"]


def test_the_browser_answer_comes_sealed_through_the_relay_and_never_in_clear(relay_folder):
    got, sent = [], []
    actions = BrowserActions(start=lambda uri: "https://idp.example/authorize?state=s1", redirect=got.append,
                             closed=got.append, use_code=lambda: got.append("code"))
    presenter = WidgetPresenter(browser=actions, relay_folder=relay_folder)
    presenter.browser.send = sent.append
    presenter.show(FlowState(status=Status.WAITING, method="choose", authority="https://idp.example"))
    assert shown_buttons(presenter) == ["Use a code instead"]  # hidden by the style where the browser's show
    presenter._from_comm({"kind": "click", "click": {"action": "start", "id": "s", "redirect_uri": "http://x/cb"}})
    assert sent[0]["kind"] == "open" and sent[0]["click"] == "s"
    key = base64.urlsafe_b64decode(sent[0]["key"] + "=" * (-len(sent[0]["key"]) % 4))
    assert sent[0]["key"] not in json.dumps([presenter.browser.get_state(), presenter.helper.get_state()])
    params, nonce = {"code": "AUTH-CODE-123", "state": "s1"}, os.urandom(12)
    sealed = base64.urlsafe_b64encode(nonce + AESGCM(key).encrypt(
        nonce, json.dumps(params).encode(), presenter.inbox.id.encode())).decode()
    deliver(relay_folder, presenter.inbox.id, json.dumps({"action": "redirect", "id": "r", "sealed": sealed}).encode())
    presenter.inbox.poll()
    assert got == [params]
    assert b"AUTH-CODE-123" not in (relay_folder / presenter.inbox.id).read_bytes()
    presenter._from_comm({"kind": "click", "click": {"action": "redirect", "id": "r"}, "params": params})
    assert got == [params]  # the comm's copy of the same click is dropped
    presenter.finish(FlowState(status=Status.CANCELLED))


def test_reveal_shows_the_widget_again_in_the_asking_cell(presenter, monkeypatch):
    import IPython.display

    shown, cell = [], ["cell-1"]
    monkeypatch.setattr("nbauth.ui.widget._current_cell", lambda: cell[0])
    monkeypatch.setattr(IPython.display, "display", lambda obj, **kw: shown.append(kw) or Handle())
    presenter.reveal()
    assert shown == []  # nothing shown yet: the first show displays it where it runs
    presenter.show(waiting())
    presenter.reveal()
    assert len(shown) == 1  # already in this cell
    cell[0] = "cell-3"
    presenter.reveal()
    presenter.reveal()
    assert shown[1:] == [{"display_id": "d1"}]  # once, under the same display id: both outputs follow it


class Handle:
    display_id = "d1"

    def __init__(self):
        self.updates = []

    def update(self, obj):
        self.updates.append(obj._repr_mimebundle_()["text/plain"])


def test_the_display_is_not_renewed_between_the_browser_phases(monkeypatch, relay_folder):
    """A front end renders an updated display anew, and the new view would not know the sign-in window."""
    import IPython.display

    handle = Handle()
    monkeypatch.setattr(IPython.display, "display", lambda obj, **kw: handle)
    actions = BrowserActions(start=lambda uri: None, redirect=print, closed=print, use_code=print)
    presenter = WidgetPresenter(browser=actions, relay_folder=relay_folder)
    choose = FlowState(status=Status.WAITING, method="choose", authority="https://idp.example")
    presenter.show(choose)
    presenter.show(replace(choose, method="browser"))
    presenter.show(replace(choose, detail="The sign-in window was closed"))
    assert handle.updates == []
    presenter.show(waiting())  # a code: text-only front ends need it
    presenter.finish(waiting().settle(Status.CANCELLED))
    assert handle.updates == [message(waiting()), "Sign-in cancelled."]


def test_on_colab_the_custom_widget_manager_renders_it(presenter, monkeypatch):
    enabled = []
    colab = types.SimpleNamespace(enable_custom_widget_manager=lambda: enabled.append(True),
                                  _widgets=types.SimpleNamespace(_installed_url="https://colab.example/wm.js"))
    monkeypatch.setitem(sys.modules, "google.colab.output", colab)
    bundle, metadata = presenter._repr_mimebundle_()
    assert enabled == [True] and "text/plain" in bundle
    assert metadata == {"application/vnd.jupyter.widget-view+json": {
        "colab": {"custom_widget_manager": {"url": "https://colab.example/wm.js"}}}}
