"""Export selections from command-line and query-string text."""

from __future__ import annotations

import pytest

from strongroom.errors import InvalidInput
from strongroom.messages.selection import parse_when


@pytest.mark.parametrize(
    ("text_value", "end", "expected"),
    [
        ("2024-01-31", False, 1_706_659_200_000),
        ("2024-01-31", True, 1_706_745_600_000),
        ("2024-01-31T18:00:00Z", False, 1_706_724_000_000),
        ("2024-01-31T19:00:00+01:00", True, 1_706_724_000_000),
        ("2024-01-31T18:00", False, 1_706_724_000_000),
    ],
)
def test_dates_are_days_or_iso_times_in_utc(text_value, end, expected):
    assert parse_when(text_value, "--since", end=end) == expected


def test_a_bad_date_names_the_option():
    with pytest.raises(InvalidInput, match="--until: 'yesterday' is not a date"):
        parse_when("yesterday", "--until")
