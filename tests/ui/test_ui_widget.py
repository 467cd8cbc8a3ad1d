"""The notebook widget's states, driven in-process (no kernel, no browser)."""
import json
import pathlib
import re

import pytest

from nbauth.ui.text import FlowState, Status
from nbauth.ui.widget import WidgetPresenter

NOW = 1_700_000_000.0
FLOW = {"verification_uri": "https://idp.example/device",
        "verification_uri_complete": "https://idp.example/device?user_code=WDJB-MJHT",
        "user_code": "WDJB-MJHT", "expires_at": NOW + 300}


@pytest.fixture
def calls():
    return []


@pytest.fixture
def presenter(calls):
    return WidgetPresenter(on_retry=lambda: calls.append("retry"), on_sign_out=lambda: calls.append("sign_out"))


def waiting(**flow):
    return FlowState.from_flow({**FLOW, **flow}, "https://idp.example")


def visible(widget):
    return widget.layout.display != "none"


def shown_buttons(presenter):
    buttons = (presenter.cancel_button, presenter.retry_button, presenter.sign_out_button)
    return [b.description for b in buttons if visible(b)]


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
    presenter.sign_out_button.click()
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
