from __future__ import annotations

import pytest

from strongroom.formats.tapbacks import TAPBACKS, is_tapback, target_guid


@pytest.mark.parametrize(
    ("kind", "expected"),
    [(0, False), (1000, False), (2000, True), (2007, True), (2008, False), (3005, True),
     (3008, False), (-2000, False)],
)  # fmt: skip
def test_only_2000_to_2007_and_3000_to_3007_are_tapbacks(kind: int, expected: bool) -> None:
    assert is_tapback(kind) is expected


def test_the_six_classic_tapbacks_are_named_in_apples_order() -> None:
    assert [TAPBACKS[i] for i in range(6)] == [
        "love", "like", "dislike", "laugh", "emphasize", "question",
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("associated", "target"),
    [("p:0/ABC-1", "ABC-1"), ("p:2/ABC-2", "ABC-2"), ("bp:ABC-3", "ABC-3"), ("ABC-4", "ABC-4"),
     (None, None), ("", None), ("p:0/", None)],
)  # fmt: skip
def test_target_guid_strips_the_part_prefix(associated: str | None, target: str | None) -> None:
    assert target_guid(associated) == target
