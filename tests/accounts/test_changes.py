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
