"""Nobody to ask: a one-line error naming the non-interactive options before any request; outcomes
(a saved sign-in used, a sign-out) as a plain display in a kernel's cell, and nowhere in a script."""
import types

import pytest

from nbauth.exceptions import InteractionUnavailable, OAuthError
from nbauth.ui.headless import OPTIONS, HeadlessPresenter, unavailable_message
from nbauth.ui.text import FlowState, Status

SAVED = FlowState(status=Status.SIGNED_IN, detail="alice@example.test", authority="https://idp.example", saved=True)
SAVED_LINE = "Signed in as alice@example.test at https://idp.example (saved sign-in). Tokens refresh automatically."


class DisplayPublisher:
    """The kernel shell's ``display_pub``: what a cell's output receives."""

    def __init__(self):
        self.published = []

    def publish(self, data, metadata=None, **kwargs):
        self.published.append(data)


def test_the_message_is_one_line_naming_every_option():
    text = unavailable_message("a batch run")
    assert "\n" not in text
    assert text.startswith("sign-in needs a person, and none can be reached here (a batch run). Non-interactive options: ")
    assert all(option in text for option in OPTIONS)


def test_ipython_shows_the_error_as_its_one_line_with_the_refusal_that_led_to_it():
    with pytest.raises(InteractionUnavailable) as caught:
        HeadlessPresenter("CI is set").ready()
    [line] = caught.value._render_traceback_()
    assert line == f"InteractionUnavailable: {unavailable_message('CI is set')}"
    try:
        raise caught.value from OAuthError("invalid_grant", "refresh token revoked")
    except InteractionUnavailable as chained:
        [line] = chained._render_traceback_()
    assert line.endswith("(the provider refused the saved sign-in: invalid_grant: refresh token revoked)")


def test_in_a_kernel_a_saved_sign_in_is_a_plain_display():
    shell = types.SimpleNamespace(display_pub=DisplayPublisher())
    presenter = HeadlessPresenter("a batch run", shell=shell)
    presenter.finish(SAVED)
    presenter.finish(SAVED.settle(Status.SIGNED_OUT, "alice@example.test"))
    [saved, signed_out] = shell.display_pub.published
    assert set(saved) == {"text/plain", "text/html"}  # no widget: an HTML export shows it
    assert saved["text/plain"] == SAVED_LINE and "(saved sign-in)" in saved["text/html"]
    assert signed_out["text/plain"] == "Signed out: alice@example.test."


def test_waiting_is_refused_and_a_script_shows_nothing(capsys):
    shell = types.SimpleNamespace(display_pub=DisplayPublisher())
    with pytest.raises(InteractionUnavailable):
        HeadlessPresenter("a batch run", shell=shell).show(FlowState(user_code="ABCD-EFGH"))
    assert shell.display_pub.published == []
    HeadlessPresenter("CI is set").finish(SAVED)
    assert capsys.readouterr() == ("", "")
