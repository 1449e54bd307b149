"""Times in Apple's Messages databases: counted from 2001-01-01 UTC (Core Data's reference date).

iOS 11 and macOS 10.13 moved from seconds to nanoseconds, and databases carried across upgrades
(and merged iCloud copies) hold both, so the unit is decided per value: a count of seconds beyond
10^11 would be the year 5170, so anything larger is nanoseconds.
"""

from __future__ import annotations

from strongroom.messages.records import Precision

APPLE_EPOCH_MS = 978_307_200_000
"""2001-01-01T00:00:00Z in Unix milliseconds."""
_NANOSECOND_THRESHOLD = 100_000_000_000


def apple_time_ms(value: int | float | None) -> tuple[int, Precision] | None:
    """Unix milliseconds and the precision the source carried; None for a missing time (0/NULL)."""
    if not value:
        return None
    if isinstance(value, float):
        value = int(value)
    if abs(value) >= _NANOSECOND_THRESHOLD:
        return APPLE_EPOCH_MS + value // 1_000_000, "ms"
    return APPLE_EPOCH_MS + value * 1000, "s"
