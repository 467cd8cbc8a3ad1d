"""The terminal presenter: the link and code on stderr, then the status.

In a script on a terminal one status line is kept up to date in place (a countdown). At an
interactive prompt (IPython's terminal, the ``python`` REPL, ``python -i``) the prompt shares the
line, so nothing is redrawn: the link and code are printed once with the clock time the code
expires, and the outcome once; in IPython the later lines are printed above its prompt, which is
drawn again with what the person was typing. Every line goes through ``text.printable`` as it is
written, so a provider string cannot move the cursor or reorder the text, however the state was made.
"""
from __future__ import annotations

import sys
import threading
from typing import Any, Hashable, Optional, TextIO

from ..clock import Clock, system_clock
from .base import Presenter
from .detect import isatty
from .text import FlowState, Status, instruction, printable, status_line

_CLEAR_LINE = "\r\x1b[K"


class TerminalPresenter(Presenter):
    """Writes to ``stream`` (stderr). On a terminal the status line is redrawn in place each
    ``tick`` seconds (the countdown); on a pipe each new status gets its own line; with ``repl``
    (an interactive prompt) only a new code and the outcome are written. Ctrl-C is handled by
    whoever waits for the sign-in (``SignIn.token`` cancels the flow)."""

    def __init__(self, stream: Optional[TextIO] = None, *, clock: Clock = system_clock, tick: float = 1.0,
                 repl: bool = False, **actions: Any):
        super().__init__(**actions)
        self.stream = sys.stderr if stream is None else stream
        self.clock = clock
        self.tick = tick
        self.repl = repl
        self.in_place = isatty(self.stream) and not repl
        self._lock = threading.Lock()
        self._state: Optional[FlowState] = None
        self._stop_ticker: Optional[threading.Event] = None

    def render(self, state: FlowState) -> None:
        with self._lock:
            previous, self._state = self._state, state
            if self.repl:
                if previous is None or _headline(previous) != _headline(state):
                    self._write_at_prompt(self._lines(state, previous, None))
                return
            self._write(self._lines(state, previous, self.clock()))
            if state.status is not Status.WAITING:
                self._stop()
            elif self.in_place and self._stop_ticker is None:
                self._stop_ticker = threading.Event()
                threading.Thread(target=self._run_ticker, args=(self._stop_ticker,),
                                 name="nbauth-terminal-countdown", daemon=True).start()

    def _lines(self, state: FlowState, previous: Optional[FlowState], now: Optional[float]) -> str:
        """What to write for ``state``: a new code's instruction, then the status (in place, or a line)."""
        text = ""
        if state.status is Status.WAITING and state.user_code and (
                previous is None or previous.user_code != state.user_code):
            text = ("\n" if self.in_place and previous else "") + printable(instruction(state)) + "\n"
        line = printable(status_line(state, now))
        if not self.in_place:
            return text + line + "\n"
        return text + _CLEAR_LINE + line + ("" if state.status is Status.WAITING else "\n")

    def _stop(self) -> None:
        if self._stop_ticker is not None:
            self._stop_ticker.set()
            self._stop_ticker = None

    def _write(self, text: str) -> None:
        if text:
            self.stream.write(text)
            self.stream.flush()

    def _write_at_prompt(self, text: str) -> None:
        """Write without disturbing an interactive prompt: above IPython's prompt while it reads a
        line; from another thread in the ``python`` REPL, on a line of its own."""
        app = _reading_prompt()
        if app is not None:
            from prompt_toolkit.application import run_in_terminal

            app.loop.call_soon_threadsafe(run_in_terminal, lambda: self._write(text))
        elif threading.current_thread() is not threading.main_thread():
            self._write("\n" + text)
        else:
            self._write(text)

    def _run_ticker(self, stop: threading.Event) -> None:
        while not stop.wait(self.tick):
            with self._lock:
                if not stop.is_set():
                    self._write(_CLEAR_LINE + printable(status_line(self._state, self.clock())))


def _headline(state: FlowState) -> Hashable:
    """What an interactive prompt is told about: a new code, a new way of waiting, or the outcome
    (not the countdown, nor the provider's passing silence)."""
    if state.status is Status.WAITING:
        return state.status, state.method, state.user_code
    return state.status, state.detail, state.saved


def _reading_prompt() -> Any:
    """IPython's prompt_toolkit application while it reads a line, else None (never imports IPython)."""
    get_ipython = getattr(sys.modules.get("IPython"), "get_ipython", None)
    session = getattr(get_ipython() if callable(get_ipython) else None, "pt_app", None)
    app = getattr(session, "app", None)
    return app if getattr(app, "is_running", False) and getattr(app, "loop", None) is not None else None
