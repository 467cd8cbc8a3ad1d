"""The terminal presenter on in-memory streams (the real pseudo-terminal test is test_notebook_terminal)."""
import io
import threading
import time
from dataclasses import replace

from nbauth.ui.terminal import TerminalPresenter
from nbauth.ui.text import FlowState, Status

NOW = 1_700_000_000.0
FLOW = {"verification_uri": "https://idp.example/device", "user_code": "WDJB-MJHT", "expires_at": NOW + 300}


class Tty(io.StringIO):
    def __init__(self):
        super().__init__()
        self.wrote = threading.Condition()

    def isatty(self):
        return True

    def write(self, text):
        with self.wrote:
            n = super().write(text)
            self.wrote.notify_all()
        return n


def waiting():
    return FlowState.from_flow(FLOW, "https://idp.example")


def test_pipe_gets_instruction_then_one_line_per_status():
    stream = io.StringIO()
    presenter = TerminalPresenter(stream, clock=lambda: NOW)
    presenter.show(waiting())
    presenter.finish(waiting().settle(Status.SIGNED_IN, "alice"))
    assert stream.getvalue() == (
        "To sign in, open https://idp.example/device and enter the code WDJB-MJHT\n"
        "Waiting for you to sign in; the code expires in 5:00.\n"
        "Signed in as alice at https://idp.example. Tokens refresh automatically.\n")


def test_terminal_redraws_the_status_line_in_place_with_a_countdown():
    stream, now = Tty(), [NOW]
    presenter = TerminalPresenter(stream, clock=lambda: now[0], tick=0.01)
    presenter.show(waiting())
    now[0] = NOW + 61
    with stream.wrote:
        assert stream.wrote.wait_for(lambda: "expires in 3:59" in stream.getvalue(), timeout=5)
    presenter.finish(waiting().settle(Status.CANCELLED))
    out = stream.getvalue()
    assert out.startswith("To sign in, open https://idp.example/device and enter the code WDJB-MJHT\n"
                          "\r\x1b[KWaiting for you to sign in; the code expires in 5:00.")
    assert out.endswith("\r\x1b[KSign-in cancelled.\n")
    assert out.count("WDJB-MJHT") == 1


def test_ticker_stops_when_the_sign_in_ends():
    stream = Tty()
    presenter = TerminalPresenter(stream, clock=lambda: NOW, tick=0.01)
    presenter.show(waiting())
    presenter.finish(waiting().settle(Status.EXPIRED))
    ticker = [t for t in threading.enumerate() if t.name == "nbauth-terminal-countdown"]
    for thread in ticker:
        thread.join(timeout=5)
    assert not any(t.is_alive() for t in ticker)
    assert stream.getvalue().endswith("sign in again for a new code.\n")


def test_a_new_code_is_printed_again_after_retry():
    stream = io.StringIO()
    presenter = TerminalPresenter(stream, clock=lambda: NOW)
    presenter.show(waiting())
    presenter.finish(waiting().settle(Status.EXPIRED))
    presenter.show(FlowState.from_flow({**FLOW, "user_code": "NEWC-ODEX"}, "https://idp.example"))
    assert "enter the code NEWC-ODEX\n" in stream.getvalue()


def test_at_an_interactive_prompt_the_code_and_the_outcome_are_printed_once():
    stream = Tty()
    presenter = TerminalPresenter(stream, clock=lambda: NOW, tick=0.01, repl=True)
    presenter.show(waiting())
    presenter.update(waiting().settle(Status.WAITING))
    presenter.update(replace(waiting(), retrying=True))  # the provider's silence is not news at a prompt
    assert not [t for t in threading.enumerate() if t.name == "nbauth-terminal-countdown"]
    presenter.finish(waiting().settle(Status.SIGNED_IN, "alice"))
    presenter.finish(waiting().settle(Status.SIGNED_IN, "alice"))
    at = time.strftime("%H:%M:%S %Z", time.localtime(NOW + 300)).strip()
    assert stream.getvalue() == (
        "To sign in, open https://idp.example/device and enter the code WDJB-MJHT\n"
        f"Waiting for you to sign in; the code expires at {at}.\n"
        "Signed in as alice at https://idp.example. Tokens refresh automatically.\n")


def test_at_a_python_prompt_a_line_from_another_thread_starts_on_its_own_line():
    stream = io.StringIO()
    presenter = TerminalPresenter(stream, repl=True)
    worker = threading.Thread(target=presenter.finish, args=(waiting().settle(Status.EXPIRED),))
    worker.start()
    worker.join()
    assert stream.getvalue() == "\nThe code expired before sign-in; sign in again for a new code.\n"


def test_a_saved_sign_in_in_a_script_is_one_line():
    stream = Tty()
    TerminalPresenter(stream).finish(FlowState(status=Status.SIGNED_IN, detail="alice", authority="https://idp.example",
                                               saved=True))
    assert stream.getvalue() == ("\r\x1b[KSigned in as alice at https://idp.example (saved sign-in). "
                                 "Tokens refresh automatically.\n")
