"""The change sequence: one increasing number per account, one record per change.

Every change to a syncable object (a message added, flagged read, deleted; a file added, moved,
trashed) is recorded here in the same transaction as the change itself, and a device asks
"what changed since state S?" (JMAP ``/changes``, RFC 8620 section 5.2; IMAP CONDSTORE/QRESYNC,
RFC 7162).

# Race: numbers come from ``accounts.change_seq``, incremented with ``UPDATE ... RETURNING``.  The
# update locks the account's row until the transaction ends, so writers of one account take
# turns: a transaction holding number N commits before any other can take N+1, and a reader can
# never see N+1 without N.  Call :func:`record` as late as possible in a transaction to keep
# that turn short.

Changes recorded together for objects of one kind with the same change (an import batch's
thousands of new messages) are kept as runs, up to :data:`RUN` per row: ``seq`` is the run's
first position and ``more_ids`` the objects after the first, packed, so a big batch costs a
handful of rows instead of one per object.  Readers see one change per position, as before.

Records older than the history window are deleted by :func:`compact`, which raises the account's
``changes_floor``; asking for changes since a state below the floor raises
:class:`CannotCalculateChanges`, and the device resyncs in full.
"""

from __future__ import annotations

import struct
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from strongroom.accounts.errors import ServiceOff
from strongroom.accounts.models import Account, Change
from strongroom.db import insert_tuples
from strongroom.errors import Gone, NotFound
from strongroom.types import Millis

CREATED, UPDATED, DESTROYED, EXPIRED = "c", "u", "d", "x"
RUN = 1000
"""The most changes one row holds (a run of one kind and change, recorded together)."""
_COLUMNS = ("account_id", "seq", "kind", "object_id", "change", "at", "run_length", "more_ids")
_CHANGE_TYPES = frozenset({CREATED, UPDATED, DESTROYED, EXPIRED})


class CannotCalculateChanges(Gone):
    """The state is older than the kept history (or unknown): the client must resync in full."""

    slug = "cannot-calculate-changes"
    title = "Cannot calculate changes"


@dataclass
class ChangeSet:
    """Object ids changed between ``old_state`` and ``new_state``, each in one list at most."""

    old_state: int
    new_state: int
    has_more: bool
    created: list[int] = field(default_factory=list)
    updated: list[int] = field(default_factory=list)
    destroyed: list[int] = field(default_factory=list)
    expired: list[int] = field(default_factory=list)


def record(
    session: Session, account_id: int, kind: str, changes: Iterable[tuple[int, str]], now: Millis
) -> int:
    """Append ``(object_id, change)`` pairs for one kind; return the account's new state.

    Takes the account's sequence lock until the transaction ends (see the module note).
    """
    items = list(changes)
    if not items:
        return current_state(session, account_id)
    if not _CHANGE_TYPES.issuperset(c for _, c in items):
        raise ValueError(f"unknown change type in {items[:3]}")
    return _append(session, account_id, kind, _runs(items), len(items), now)


def record_all(
    session: Session, account_id: int, kind: str, object_ids: list[int], change: str, now: Millis
) -> int:
    """:func:`record` for one change of many objects (an import's new messages), cut into runs
    without looking at each pair."""
    if change not in _CHANGE_TYPES:
        raise ValueError(f"unknown change type {change!r}")
    if not object_ids:
        return current_state(session, account_id)
    runs = ((change, object_ids[at : at + RUN]) for at in range(0, len(object_ids), RUN))
    return _append(session, account_id, kind, runs, len(object_ids), now)


def _runs(items: list[tuple[int, str]]) -> Iterator[tuple[str, list[int]]]:
    """Consecutive pairs of one change, at most :data:`RUN` at a time."""
    start = 0
    while start < len(items):
        change = items[start][1]
        end = start + 1
        while end < len(items) and end - start < RUN and items[end][1] == change:
            end += 1
        yield change, [oid for oid, _ in items[start:end]]
        start = end


def _append(
    session: Session,
    account_id: int,
    kind: str,
    runs: Iterable[tuple[str, list[int]]],
    count: int,
    now: Millis,
) -> int:
    top = session.execute(
        update(Account)
        .where(Account.id == account_id)
        .values(change_seq=Account.change_seq + count)
        .returning(Account.change_seq)
    ).scalar_one()
    rows = []
    seq = top - count + 1
    for change, ids in runs:
        more = _packed(ids[1:]) if len(ids) > 1 else None
        rows.append((account_id, seq, kind, ids[0], change, now, len(ids), more))
        seq += len(ids)
    insert_tuples(session, Change, _COLUMNS, rows)
    return int(top)


def _packed(ids: list[int]) -> bytes:
    return struct.pack(f">{len(ids)}q", *ids)


def _unpacked(more: bytes | None) -> tuple[int, ...]:
    if not more:
        return ()
    return struct.unpack(f">{len(more) // 8}q", more)


def current_state(session: Session, account_id: int) -> int:
    state = session.scalar(select(Account.change_seq).where(Account.id == account_id))
    if state is None:
        raise NotFound("no such account")
    return int(state)


def changes_since(
    session: Session, account_id: int, kind: str, since: int | None, max_changes: int
) -> ChangeSet:
    """What changed for objects of ``kind`` after state ``since`` (None: from the beginning).

    At most ``max_changes`` records are read; ``has_more`` says to call again from
    ``new_state``.  Raises CannotCalculateChanges when ``since`` is below the kept history or
    beyond the current state.
    """
    row = session.execute(
        select(Account.change_seq, Account.changes_floor, Account.messages_enabled).where(
            Account.id == account_id
        )
    ).one_or_none()
    if row is None:
        raise NotFound("no such account")
    current, floor, enabled = int(row[0]), int(row[1]), bool(row[2])
    if kind == "message" and not enabled:
        raise ServiceOff("the messages service is off for this account")
    start = 0 if since is None else since
    if start < floor or start > current:
        raise CannotCalculateChanges(
            "that state is older than the kept history; fetch everything again"
        )
    found = session.execute(
        select(Change.seq, Change.object_id, Change.change, Change.more_ids)
        # Only up to the state read above: everything at or below it has committed (see the
        # module note), while later numbers may belong to transactions still running.  A run
        # that began at most RUN positions before ``start`` may reach beyond it.
        .where(
            Change.account_id == account_id,
            Change.kind == kind,
            Change.seq > start - RUN,
            Change.seq + Change.run_length > start + 1,
            Change.seq <= current,
        )
        .order_by(Change.seq)
        .limit(max_changes + 1)  # each row holds one change at least
    ).all()
    rows: list[tuple[int, int, str]] = []
    for first, oid, change, more in found:
        for i, object_id in enumerate((oid, *_unpacked(more))):
            if start < first + i <= current:
                rows.append((int(first) + i, int(object_id), str(change)))
        if len(rows) > max_changes:
            break
    has_more = len(rows) > max_changes
    rows = rows[:max_changes]
    result = ChangeSet(
        old_state=start,
        new_state=rows[-1][0] if has_more else current,
        has_more=has_more,
    )
    _coalesce(result, [(oid, ch) for _, oid, ch in rows])
    return result


def _coalesce(result: ChangeSet, rows: list[tuple[int, str]]) -> None:
    """Fold several records of one object into the one thing a device needs to do."""
    first: dict[int, str] = {}
    last: dict[int, str] = {}
    for oid, change in rows:
        first.setdefault(oid, change)
        last[oid] = change
    for oid, change in last.items():
        born_here = first[oid] == CREATED
        if change in (DESTROYED, EXPIRED):
            if not born_here:  # created and gone within the window: the device never saw it
                (result.destroyed if change == DESTROYED else result.expired).append(oid)
        elif born_here:
            result.created.append(oid)
        else:
            result.updated.append(oid)


def compact(session: Session, older_than: Millis) -> int:
    """Delete change records older than ``older_than``; raise each account's floor to match.

    Returns how many changes were deleted (a run counts each of its changes).
    """
    floors = session.execute(
        select(Change.account_id, func.max(Change.seq + Change.run_length - 1))
        .where(Change.at < older_than)
        .group_by(Change.account_id)
    ).all()
    deleted = 0
    for account_id, top in floors:
        session.execute(
            update(Account)
            .where(Account.id == account_id, Account.changes_floor < top)
            .values(changes_floor=top)
        )
        old = (Change.account_id == account_id, Change.seq <= top)
        deleted += int(session.scalar(select(func.sum(Change.run_length)).where(*old)) or 0)
        session.execute(delete(Change).where(*old))
    return deleted
