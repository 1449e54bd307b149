from __future__ import annotations

import pytest

from strongroom.formats.apple_dates import APPLE_EPOCH_MS, apple_time_ms

# 2023-11-14T22:13:20.123Z is 721_692_800.123 s after 2001-01-01.
UNIX_MS = 1_700_000_000_123


def test_the_epoch_is_2001_01_01() -> None:
    assert APPLE_EPOCH_MS == 978_307_200_000


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (721_692_800_123_456_789, (UNIX_MS, "ms")),  # iOS 11+: nanoseconds
        (721_692_800, (UNIX_MS - 123, "s")),  # iOS 10 and older: seconds
        (721_692_800.9, (UNIX_MS - 123, "s")),
        (1, (APPLE_EPOCH_MS + 1000, "s")),
        (0, None),
        (None, None),
    ],
)
def test_unit_is_decided_per_value(value: int | float | None, expected: object) -> None:
    assert apple_time_ms(value) == expected
