"""Message ids: the date in the high bits, a random slot below, never a stored id twice."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from strongroom.messages import ids
from strongroom.messages.records import MessageRecord
from strongroom.runtime import Runtime
from tests.factories import store_records, vault_user

T0 = 1_700_000_000_000


def _slots(monkeypatch: pytest.MonkeyPatch, values: list[int]) -> None:
    """The slots drawn next are ``values``, in order (a draw of 16 bits per slot at once, or
    one at a time)."""
    given: Iterator[int] = iter(values)

    def draw(bits: int) -> int:
        return sum(next(given) << (16 * i) for i in range(bits // 16))

    monkeypatch.setattr(ids._random, "getrandbits", draw)


def test_a_stored_id_or_one_of_the_same_batch_is_drawn_again(
    runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    account = vault_user(runtime)
    who = "+15550100003"
    records = [
        MessageRecord(kind="sms", direction="in", date_ms=T0 + i, body=f"m{i}", sender=who,
                      participants=[who])
        for i in (0, 5)
    ]  # fmt: skip
    _slots(monkeypatch, [7, 9])
    stored = [o.id for o in store_records(runtime, account, records)]
    assert stored == [ids.make_id(T0, 7), ids.make_id(T0 + 5, 9)]

    with runtime.db.write() as s:
        # The first candidate is the oldest stored id, the next two clash with each other;
        # the newest stored id is taken too.
        _slots(monkeypatch, [7, 3, 3, 9, 8, 4, 9, 10])
        got = ids.allocate(s, [T0, T0 + 1, T0 + 1, T0 + 5])
    assert got[1] == ids.make_id(T0 + 1, 3)
    assert got[0] not in stored and ids.date_of(got[0]) == T0
    assert got[2] != got[1] and ids.date_of(got[2]) == T0 + 1
    assert got[3] not in stored and ids.date_of(got[3]) == T0 + 5
    assert len(set(got)) == 4


def test_in_an_empty_database_the_first_drawn_ids_are_kept(
    runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    with runtime.db.write() as s:
        _slots(monkeypatch, [1, 1])
        assert ids.allocate(s, [T0, T0 + 1]) == [ids.make_id(T0, 1), ids.make_id(T0 + 1, 1)]
