"""Time for the reference server: the system clock, or a manual one for tests."""

from __future__ import annotations

import threading
import time


class Clock:
    """Epoch milliseconds that never go backwards."""

    def __init__(self) -> None:
        self._last = 0
        self._lock = threading.Lock()

    def _raw(self) -> int:
        return int(time.time() * 1000)

    def now_ms(self) -> int:
        with self._lock:
            self._last = max(self._last, self._raw())
            return self._last


class ManualClock(Clock):
    """A clock that moves only when told to."""

    def __init__(self, start_ms: int = 1_700_000_000_000) -> None:
        super().__init__()
        self.current = start_ms

    def _raw(self) -> int:
        return self.current

    def advance(self, ms: int) -> None:
        self.current += ms
