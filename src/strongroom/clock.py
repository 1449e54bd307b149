"""Where "now" comes from: the system clock in production, a clock tests can move.

Every stored time is UTC milliseconds since the epoch (:data:`strongroom.types.Millis`).
"""

from __future__ import annotations

import threading
import time
from abc import ABC, abstractmethod

from strongroom.types import Millis

DAY_MS: Millis = 86_400_000


class Clock(ABC):
    """A source of the current time."""

    @abstractmethod
    def now_ms(self) -> Millis:
        """Return the current time in UTC milliseconds."""


class SystemClock(Clock):
    """The machine's wall clock."""

    def now_ms(self) -> Millis:
        return time.time_ns() // 1_000_000


class ManualClock(Clock):
    """A clock that only moves when told to: for tests of expiry, holds and purges."""

    def __init__(self, start_ms: Millis | None = None) -> None:
        self._now = start_ms if start_ms is not None else SystemClock().now_ms()
        self._lock = threading.Lock()

    def now_ms(self) -> Millis:
        with self._lock:
            return self._now

    def advance(self, *, days: float = 0, seconds: float = 0, ms: int = 0) -> Millis:
        """Move forward and return the new time."""
        with self._lock:
            self._now += int(days * DAY_MS + seconds * 1000) + ms
            return self._now
