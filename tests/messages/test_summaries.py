"""Conversation summaries kept by the messages service as batches are stored: count, unread
count, last message and snippet, whatever order the batches come in (SQLite and PostgreSQL)."""

from __future__ import annotations

from sqlalchemy import select

from strongroom.messages.models import Conversation, Message
from strongroom.messages.records import MessageRecord
from strongroom.runtime import Runtime
from tests.factories import store_records, vault_user

T0 = 1_700_000_000_000


def incoming(who: str, at: int, body: str, read: bool = False) -> MessageRecord:
    return MessageRecord(
        kind="sms", direction="in", date_ms=at, body=body, sender=who, participants=[who],
        read=read,
    )  # fmt: skip


def summaries(rt: Runtime, account: int) -> dict[str, tuple[int, int, str, str]]:
    with rt.db.read() as s:
        rows = s.execute(
            select(
                Conversation.message_count,
                Conversation.unread_count,
                Conversation.snippet,
                Message.body,
            )
            .join(Message, Message.id == Conversation.last_message_id)
            .where(Conversation.account_id == account)
        ).all()
    return {r.body.split()[0]: (r.message_count, r.unread_count, r.snippet, r.body) for r in rows}


def test_summaries_follow_the_newest_message_whatever_the_order_of_messages(
    runtime: Runtime,
) -> None:
    account = vault_user(runtime)
    ann, bob = "+15550100001", "+15550100002"
    store_records(
        runtime,
        account,
        [incoming(ann, T0 + 5000, "ann newest so far"), incoming(bob, T0, "bob first", True)],
    )
    # A later batch: older messages (the summary keeps its last message and snippet, counts
    # grow), and for bob a newer one (it becomes the last).
    store_records(
        runtime,
        account,
        [
            incoming(ann, T0 + 1000, "ann older"),
            incoming(ann, T0 + 2000, "ann older too", True),
            incoming(bob, T0 + 9000, "bob   newest\nnow"),
        ],
    )
    assert summaries(runtime, account) == {
        "ann": (3, 2, "ann newest so far", "ann newest so far"),
        "bob": (2, 1, "bob newest now", "bob   newest\nnow"),
    }
    # Within one batch, the newest need not come last
    store_records(
        runtime,
        account,
        [
            incoming(ann, T0 + 8000, "ann newest"),
            incoming(ann, T0 + 7000, "ann just before", True),
            incoming(ann, T0 + 6000, "ann before that"),
        ],
    )
    assert summaries(runtime, account)["ann"] == (6, 4, "ann newest", "ann newest")
