"""One fake clock for every test that fakes time: a callable clock and a ``wait`` that moves it.

``FakeClock()`` is a clock (``clock()`` gives the time) and ``clock.wait`` is nbauth's
``Wait``: it advances the time at once instead of sleeping, returns at once when the event is
already set, and records each wait in ``waits``, so tests of expiry, slow_down, backoff and
renewal run in milliseconds.
"""
import threading
import time
from typing import List, Optional


class FakeClock:
    """Wall-clock seconds that move only when the test (or a wait) says so."""

    def __init__(self, now: Optional[float] = None):
        self.now = time.time() if now is None else float(now)
        self.waits: List[float] = []
        self._lock = threading.Lock()

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        with self._lock:
            self.now += seconds

    def wait(self, seconds: float, cancelled: threading.Event) -> bool:
        """nbauth's ``Wait`` without the waiting: the time jumps by ``seconds`` unless cancelled."""
        with self._lock:
            self.waits.append(seconds)
            if cancelled.is_set():
                return True
            self.now += max(0.0, seconds)
        return cancelled.is_set()
