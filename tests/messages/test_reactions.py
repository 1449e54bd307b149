"""Tapbacks that come as rows of their own: each (message, sender, reaction) ends as its latest
record says, whatever order the records of a batch come in, and importing them again changes
nothing."""

from __future__ import annotations

from sqlalchemy import select

from strongroom.accounts.keys import vault_for
from strongroom.messages import ingest
from strongroom.messages.ingest import Ingest
from strongroom.messages.models import Handle, Message, Reaction
from strongroom.messages.records import MessageRecord, ReactionRecord
from strongroom.runtime import Runtime
from tests.factories import store_records, vault_user

T0 = 1_700_000_000_000
BOB = "+15550100001"


def _ingest(rt: Runtime, account: int) -> Ingest:
    with rt.db.read() as s:
        vault = vault_for(s, rt.store, rt.keyring, account)
    return Ingest(rt.db, vault, rt.clock, account, source="messages-db")


def _reactions(rt: Runtime) -> list[tuple[str, str, str, int]]:
    """(message guid, sender or \"owner\", reaction, time) of every stored reaction."""
    with rt.db.read() as s:
        rows = s.execute(
            select(Message.guid, Handle.value, Reaction.reaction, Reaction.date)
            .join(Message, Message.id == Reaction.message_id)
            .outerjoin(Handle, Handle.id == Reaction.sender_id)
        ).all()
    return sorted((str(g), v or "owner", str(r), int(d)) for g, v, r, d in rows)


def test_the_latest_record_of_each_sender_and_reaction_is_what_stays(runtime: Runtime) -> None:
    account = vault_user(runtime)
    store_records(
        runtime,
        account,
        [
            MessageRecord(
                "imessage", "in", T0 + i, f"m{i}", sender=BOB, participants=[BOB], guid=f"G{i}"
            )  # fmt: skip
            for i in range(3)
        ],
    )

    def tap(guid: str, reaction: str, at: int, sender: str | None = BOB, removed: bool = False):
        return ReactionRecord(guid, reaction, sender, T0 + at, removed=removed)

    batch = [
        tap("G0", "love", 30),  # re-added after its removal: stays, with its latest time
        tap("G0", "love", 10),
        tap("G0", "love", 20, removed=True),
        tap("G0", "love", 15, sender=None),  # the owner's own love of the same message
        tap("G1", "like", 10),
        tap("G1", "like", 20, removed=True),  # removed last: gone
        tap("G2", "laugh", 10, sender=" 555 0100 001 "),  # Bob, written another way
        tap("G2", "laugh", 11, sender="   "),  # no sender to be had: left out
        tap("MISSING", "love", 10),
    ]
    ingest = _ingest(runtime, account)
    assert ingest.add_reactions(batch) == 3
    expected = [
        ("G0", BOB, "love", T0 + 30),
        ("G0", "owner", "love", T0 + 15),
        ("G2", BOB, "laugh", T0 + 10),
    ]
    assert _reactions(runtime) == expected
    # Again, in another order and in two batches (each message's records in one): the same
    # end, no copies.
    assert _ingest(runtime, account).add_reactions(batch[::-1][:3]) == 1
    assert _ingest(runtime, account).add_reactions(batch[::-1][3:]) == 2
    assert _reactions(runtime) == expected
    # A later removal in a later batch takes a stored reaction away.
    assert _ingest(runtime, account).add_reactions([tap("G2", "laugh", 40, removed=True)]) == 1
    assert _reactions(runtime) == expected[:2]


def test_tapbacks_find_their_targets_by_the_targets_dates(runtime: Runtime) -> None:
    """A reader that knows a target's date sends it along; SQLite, which keeps no index of
    guids, then reads only the messages of the seconds around it (PostgreSQL asks its index)."""
    account = vault_user(runtime)
    store_records(
        runtime,
        account,
        [
            MessageRecord(
                "imessage",
                "in",
                T0 + i * 60_000,
                f"m{i}",
                sender=BOB,
                participants=[BOB],
                guid=f"G{i}",
            )  # fmt: skip
            for i in range(3000)
        ],
    )
    taps = [
        ReactionRecord("G5", "love", BOB, T0 + 5 * 60_000 + 9, target_date_ms=T0 + 5 * 60_000),
        # a date a second off (another source's rounding) still finds its target
        ReactionRecord(
            "G2000", "like", None, T0 + 2000 * 60_000 + 9, target_date_ms=T0 + 2000 * 60_000 + 1000
        ),  # fmt: skip
        ReactionRecord("G2999", "laugh", BOB, T0 + 2999 * 60_000 + 9),  # no date: by guid alone
        ReactionRecord("NOWHERE", "love", BOB, T0, target_date_ms=T0),
    ]
    assert _ingest(runtime, account).add_reactions(taps) == 3
    assert _reactions(runtime) == [
        ("G2000", "owner", "like", T0 + 2000 * 60_000 + 9),
        ("G2999", BOB, "laugh", T0 + 2999 * 60_000 + 9),
        ("G5", BOB, "love", T0 + 5 * 60_000 + 9),
    ]
    if runtime.db.is_sqlite:
        lo = ingest.ids.first_id_at(T0)
        with runtime.db.read() as s:
            plan = " ".join(
                str(row[-1])
                for row in s.connection().exec_driver_sql(
                    "EXPLAIN QUERY PLAN " + ingest._GUIDS_IN_RANGES.replace("(*)", "(?, ?)"),
                    (lo, lo + 10**9, account),
                )
            )
        assert "USING INDEX ix_messages_account_id" in plan or "PRIMARY KEY" in plan
        assert "SCAN m" not in plan
