from __future__ import annotations

import subprocess
import sys
import time

import pytest
from sqlalchemy import select

from strongroom.accounts import changes
from strongroom.accounts.changes import CREATED, DESTROYED, EXPIRED, UPDATED
from strongroom.accounts.models import Change
from strongroom.clock import DAY_MS
from tests.factories import make_user


def _record(rt, account_id, kind, items):
    with rt.db.write() as s:
        return changes.record(s, account_id, kind, items, rt.clock.now_ms())


def _since(rt, account_id, kind, since, max_changes=100):
    with rt.db.read() as s:
        return changes.changes_since(s, account_id, kind, since, max_changes)


def test_each_change_gets_the_next_number_of_its_account(runtime):
    alice, bob = make_user(runtime, "alice"), make_user(runtime, "bob")
    assert _record(runtime, alice, "item", [(1, CREATED), (2, CREATED)]) == 2
    assert _record(runtime, bob, "item", [(9, CREATED)]) == 1
    assert _record(runtime, alice, "file", [(5, CREATED)]) == 3
    result = _since(runtime, alice, "item", None)
    assert (result.old_state, result.new_state, result.has_more) == (0, 3, False)
    assert result.created == [1, 2]
    assert _since(runtime, alice, "file", 2).created == [5]
    assert _since(runtime, bob, "item", 0).created == [9]


def test_changes_fold_per_object(runtime):
    a = make_user(runtime)
    _record(runtime, a, "item", [(1, CREATED), (2, CREATED), (3, CREATED)])
    state = _since(runtime, a, "item", None).new_state
    _record(runtime, a, "item", [(1, UPDATED), (1, UPDATED), (2, DESTROYED), (4, CREATED)])
    _record(runtime, a, "item", [(4, DESTROYED), (3, EXPIRED), (5, CREATED), (5, UPDATED)])
    result = _since(runtime, a, "item", state)
    assert result.updated == [1]
    assert result.destroyed == [2]
    assert result.expired == [3]
    assert result.created == [5]  # 4 came and went: the device never needs to hear of it
    assert result.new_state == 11


def test_paging_hands_out_every_change_once(runtime):
    a = make_user(runtime)
    _record(runtime, a, "item", [(i, CREATED) for i in range(1, 26)])
    seen, state, pages = [], None, 0
    while True:
        page = _since(runtime, a, "item", state, max_changes=10)
        seen += page.created
        state, pages = page.new_state, pages + 1
        if not page.has_more:
            break
    assert seen == list(range(1, 26)) and pages == 3 and state == 25
    assert _since(runtime, a, "item", state).created == []


def test_state_outside_the_kept_history_cannot_be_calculated(runtime, clock):
    a = make_user(runtime)
    _record(runtime, a, "item", [(1, CREATED), (2, CREATED)])
    clock.advance(days=200)
    _record(runtime, a, "item", [(3, CREATED)])
    with runtime.db.write() as s:
        assert changes.compact(s, clock.now_ms() - 180 * DAY_MS) == 2
    with pytest.raises(changes.CannotCalculateChanges):
        _since(runtime, a, "item", 0)
    with pytest.raises(changes.CannotCalculateChanges):
        _since(runtime, a, "item", 1)
    assert _since(runtime, a, "item", 2).created == [3]
    with pytest.raises(changes.CannotCalculateChanges):
        _since(runtime, a, "item", 99)  # a state this account never had


@pytest.mark.slow
def test_two_writer_processes_never_duplicate_or_leave_a_gap_a_reader_could_skip(runtime):
    """Two processes append at once while this one reads changes as they land."""
    a = make_user(runtime)
    per_writer = 150
    writers = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "tests.accounts.changes_writer",
                runtime.settings.database_url,
                str(a),
                str(1 + w * 10_000),
                str(per_writer),
            ]
        )
        for w in range(2)
    ]
    seen: list[int] = []
    state = None
    deadline = time.monotonic() + 120
    while True:
        running = any(w.poll() is None for w in writers)
        page = _since(runtime, a, "item", state, max_changes=37)
        seen += page.created
        state = page.new_state
        if not running and not page.has_more:
            page = _since(runtime, a, "item", state)
            seen += page.created
            if not page.created:
                break
        assert time.monotonic() < deadline
    assert all(w.returncode == 0 for w in writers)
    expected = {1 + w * 10_000 + i for w in range(2) for i in range(per_writer)}
    assert len(seen) == len(expected) and set(seen) == expected  # none skipped, none twice
    with runtime.db.read() as s:
        seqs = sorted(s.scalars(select(Change.seq).where(Change.account_id == a)))
    assert seqs == list(range(1, 2 * per_writer + 1))


def test_one_change_of_many_objects_is_stored_as_the_same_runs(runtime):
    a, b = make_user(runtime, "alice"), make_user(runtime, "bob")
    ids = [50_000 + 3 * i for i in range(changes.RUN * 2 + 7)]
    _record(runtime, a, "item", [(1, UPDATED)])
    _record(runtime, b, "item", [(1, UPDATED)])
    _record(runtime, a, "item", [(i, CREATED) for i in ids])
    with runtime.db.write() as s:
        top = changes.record_all(s, b, "item", ids, CREATED, runtime.clock.now_ms())
        assert changes.record_all(s, b, "item", [], CREATED, 0) == top == len(ids) + 1
        with pytest.raises(ValueError):
            changes.record_all(s, b, "item", ids, "created", 0)
    with runtime.db.read() as s:
        stored = {
            account: s.execute(
                select(Change.seq, Change.object_id, Change.change, Change.run_length)
                .where(Change.account_id == account)
                .order_by(Change.seq)
            ).all()
            for account in (a, b)
        }
    assert stored[a] == stored[b]
    assert [r.run_length for r in stored[b]] == [1, changes.RUN, changes.RUN, 7]
    assert sorted(_since(runtime, b, "item", 1, max_changes=5000).created) == ids


def test_a_big_batch_is_kept_as_runs_and_read_back_one_position_at_a_time(runtime, clock):
    a = make_user(runtime)
    big = changes.RUN * 2 + 500
    _record(runtime, a, "item", [(1, CREATED)])
    items = [(10_000 + i, CREATED) for i in range(big)]
    items[700] = (5, UPDATED)  # another change ends a run
    _record(runtime, a, "item", items)
    _record(runtime, a, "other", [(7, CREATED), (8, CREATED)])
    _record(runtime, a, "item", [(10_000, DESTROYED), (1, UPDATED)])
    with runtime.db.read() as s:
        runs = s.execute(
            select(Change.seq, Change.run_length).where(Change.account_id == a).order_by(Change.seq)
        ).all()
    # A run ends where the change differs and after RUN positions; another kind is its own.
    assert [tuple(r) for r in runs] == [
        (1, 1), (2, 700), (702, 1), (703, 1000), (1703, big - 1701),
        (big + 2, 2), (big + 4, 1), (big + 5, 1),
    ]  # fmt: skip
    assert sum(n for _, n in runs) == big + 5

    positions = [(1, 1, CREATED)] + [
        (2 + i, oid, change) for i, (oid, change) in enumerate(items)
    ] + [(big + 4, 10_000, DESTROYED), (big + 5, 1, UPDATED)]  # fmt: skip

    def folded(low: int, high: int) -> tuple[list[int], list[int], list[int]]:
        """What positions low+1..high tell a device, folded per object (the old way)."""
        result = changes.ChangeSet(low, high, False)
        changes._coalesce(result, [(o, c) for q, o, c in positions if low < q <= high])
        return sorted(result.created), sorted(result.updated), sorted(result.destroyed)

    # Paged from every kind of state: before the runs, inside one, at a run's last position.
    for since, page in [(None, 333), (1, 1000), (2, 999), (701, 1), (1500, 250), (big, 7)]:
        state, read = since, 0
        while True:
            result = _since(runtime, a, "item", state, max_changes=page)
            assert result.old_state == (state or 0)
            got = sorted(result.created), sorted(result.updated), sorted(result.destroyed)
            assert got == folded(result.old_state, result.new_state), (since, state)
            read += result.new_state - result.old_state
            state = result.new_state
            if not result.has_more:
                break
        assert state == big + 5 and read == big + 5 - (since or 0)

    assert _since(runtime, a, "other", big + 1).created == [7, 8]
    assert _since(runtime, a, "other", big + 2).created == [8]

    clock.advance(days=200)
    _record(runtime, a, "item", [(2, CREATED)])
    with runtime.db.write() as s:
        assert changes.compact(s, clock.now_ms() - 180 * DAY_MS) == big + 5
    with pytest.raises(changes.CannotCalculateChanges):
        _since(runtime, a, "item", big + 4)
    assert _since(runtime, a, "item", big + 5).created == [2]
