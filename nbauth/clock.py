"""The one time seam: production code asks here for the time and for waits; tests pass their own."""
from __future__ import annotations

import threading
import time
from typing import Callable

Clock = Callable[[], float]
#: Wait ``seconds`` or until ``cancelled`` is set, whichever comes first; True if it was set.
Wait = Callable[[float, threading.Event], bool]

#: Wall-clock seconds since the epoch, as token lifetimes are written.
system_clock: Clock = time.time


def system_wait(seconds: float, cancelled: threading.Event) -> bool:
    """Block on ``cancelled`` for up to ``seconds`` of real time."""
    return cancelled.wait(max(0.0, seconds))


def sleep_with(wait: Wait) -> Callable[[float], None]:
    """A plain sleep of ``seconds`` through ``wait`` (never cancelled): the HTTP retries' pause."""
    never = threading.Event()

    def sleep(seconds: float) -> None:
        wait(seconds, never)
    return sleep
