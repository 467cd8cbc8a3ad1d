"""The terminal presenter: the link and code on stderr, then one status line kept up to date.

Every line goes through ``text.printable`` as it is written, so a provider string cannot move
the cursor or reorder the text, however the state was made."""
from __future__ import annotations

import sys
import threading
from typing import Any, Optional, TextIO

from ..clock import Clock, system_clock
from .base import Presenter
from .detect import isatty
from .text import FlowState, Status, instruction, printable, status_line

_CLEAR_LINE = "\r\x1b[K"


class TerminalPresenter(Presenter):
    """Writes to ``stream`` (stderr). On a terminal the status line is redrawn in place each
    ``tick`` seconds (the countdown); on a pipe each new status gets its own line. Ctrl-C is
    handled by whoever waits for the sign-in (``SignIn.token`` cancels the flow)."""

    def __init__(self, stream: Optional[TextIO] = None, *, clock: Clock = system_clock, tick: float = 1.0,
                 **actions: Any):
        super().__init__(**actions)
        self.stream = sys.stderr if stream is None else stream
        self.clock = clock
        self.tick = tick
        self.in_place = isatty(self.stream)
        self._lock = threading.Lock()
        self._state: Optional[FlowState] = None
        self._stop_ticker: Optional[threading.Event] = None

    def render(self, state: FlowState) -> None:
        with self._lock:
            previous, self._state = self._state, state
            if state.status is Status.WAITING and (previous is None or previous.user_code != state.user_code):
                self._write(("\n" if self.in_place and previous else "") + printable(instruction(state)) + "\n")
            self._draw()
            if state.status is not Status.WAITING:
                self._write("\n" if self.in_place else "")
                if self._stop_ticker is not None:
                    self._stop_ticker.set()
                    self._stop_ticker = None
            elif self.in_place and self._stop_ticker is None:
                self._stop_ticker = threading.Event()
                threading.Thread(target=self._run_ticker, args=(self._stop_ticker,),
                                 name="nbauth-terminal-countdown", daemon=True).start()

    def _draw(self) -> None:
        line = printable(status_line(self._state, self.clock()))
        self._write(_CLEAR_LINE + line if self.in_place else line + "\n")

    def _write(self, text: str) -> None:
        if text:
            self.stream.write(text)
            self.stream.flush()

    def _run_ticker(self, stop: threading.Event) -> None:
        while not stop.wait(self.tick):
            with self._lock:
                if not stop.is_set():
                    self._draw()
