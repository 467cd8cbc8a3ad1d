"""The one clock seam: production code asks here, tests pass their own callable."""
from __future__ import annotations

import time
from typing import Callable

Clock = Callable[[], float]

#: Wall-clock seconds since the epoch, as token lifetimes are written.
system_clock: Clock = time.time
