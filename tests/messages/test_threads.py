"""Conversations found or created for a batch: one per set of participants, titled once."""

from __future__ import annotations

from sqlalchemy import select

from strongroom.messages.models import Conversation
from strongroom.messages.records import MessageRecord
from strongroom.runtime import Runtime
from tests.factories import store_records, vault_user

T0 = 1_700_000_000_000
ANN, BEN, CAT = "+15550100011", "+15550100012", "+15550100013"


def _group(i: int, members: list[str], title: str | None) -> MessageRecord:
    return MessageRecord(kind="mms", direction="in", date_ms=T0 + i * 1000, body=f"m{i}",
                         sender=members[0], participants=members, group_title=title)  # fmt: skip


def test_a_later_batch_names_an_untitled_group_and_never_renames_a_titled_one(
    runtime: Runtime,
) -> None:
    account = vault_user(runtime)
    store_records(runtime, account, [
        _group(0, [ANN, BEN], None),
        _group(1, [ANN, CAT], "Climbing"),
        _group(2, [ANN, CAT], None),
    ])  # fmt: skip
    store_records(runtime, account, [
        _group(3, [BEN, ANN], "Book club"),  # the same people, listed in another order
        _group(4, [ANN, CAT], "Renamed?"),
        _group(5, [BEN, CAT], None),  # new
    ])  # fmt: skip
    with runtime.db.read() as s:
        rows = s.execute(
            select(Conversation.title, Conversation.message_count)
            .where(Conversation.account_id == account)
            .order_by(Conversation.id)
        ).all()
    assert [tuple(r) for r in rows] == [("Book club", 2), ("Climbing", 3), (None, 1)]
