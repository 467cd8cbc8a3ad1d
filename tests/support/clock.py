"""One fake clock for every test that fakes time: a callable clock and a ``wait`` that moves it.

``FakeClock()`` is a clock (``clock()`` gives the time) and ``clock.wait`` is nbauth's
``Wait``: it advances the time at once instead of sleeping, returns at once when the event is
already set, and records each wait in ``waits``, so tests of expiry, slow_down, backoff and
renewal run in milliseconds. ``run_in_real_time()`` lets it run on from where it stands, for a
test whose next part needs a person (or a provider) to act between polls.
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
        self._real_offset: Optional[float] = None  # set once running in real time

    def __call__(self) -> float:
        offset = self._real_offset
        return self.now if offset is None else time.monotonic() + offset

    def advance(self, seconds: float) -> None:
        with self._lock:
            self.now += seconds
            if self._real_offset is not None:
                self._real_offset += seconds

    def wait(self, seconds: float, cancelled: threading.Event) -> bool:
        """nbauth's ``Wait`` without the waiting: the time jumps by ``seconds`` unless cancelled."""
        with self._lock:
            self.waits.append(seconds)
            if self._real_offset is not None:
                real = True
            elif cancelled.is_set():
                return True
            else:
                real, self.now = False, self.now + max(0.0, seconds)
        return cancelled.wait(max(0.0, seconds)) if real else cancelled.is_set()

    def run_in_real_time(self) -> None:
        """From now on the time runs on in real time from where it stands, and waits take real time."""
        with self._lock:
            self._real_offset = self.now - time.monotonic()
