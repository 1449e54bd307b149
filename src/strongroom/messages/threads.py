"""Handles and conversations: find or create them, and keep each conversation's summary current.

A conversation is identified by its set of participants (every handle but the account owner);
``participants_key`` is a hash of the sorted normalised handles.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from sqlalchemy import case, func, select, text, update
from sqlalchemy.orm import Session

from strongroom.db import execute_many, insert_rows, parameters_per_statement, select_in
from strongroom.messages.handles import normalise
from strongroom.messages.models import Conversation, ConversationParticipant, Handle, Message
from strongroom.messages.preparing import participants_key

SNIPPET_LENGTH = 160
_NEW_HANDLE = (
    "INSERT INTO handles (account_id, value, kind) VALUES (?, ?, ?) "
    "ON CONFLICT (account_id, value) DO NOTHING"
)
_HANDLES = "SELECT value, id FROM handles WHERE account_id = ? AND value IN (*)"
_CONVERSATIONS = (
    "SELECT id, participants_key, title FROM conversations "
    "WHERE account_id = ? AND participants_key IN (*)"
)
_NEW_CONVERSATION = text(
    "INSERT INTO conversations (account_id, participants_key, title, last_message_id, "
    "message_count, unread_count, snippet, created_at) "
    "VALUES (:account, :key, :title, 0, 0, 0, '', :now) RETURNING id"
)


@dataclass
class Threads:
    """A cache of an account's handles and conversations for one run of writes."""

    account_id: int
    region: str
    handles: dict[str, int] = field(default_factory=dict)
    conversations: dict[str, int] = field(default_factory=dict)
    looked_up: dict[str, tuple[int, str | None] | None] = field(default_factory=dict)
    """Keys found by :meth:`look_up` (None: none stored), not yet asked for."""

    def handle_ids(self, session: Session, values: Sequence[str]) -> dict[str, int]:
        """Ids of these normalised handles, creating the missing ones."""
        missing = sorted({v for v in values if v not in self.handles})
        if missing:
            execute_many(
                session,
                _NEW_HANDLE,
                [(self.account_id, v, normalise(v, self.region)[1]) for v in missing],
            )
            rows = select_in(session, _HANDLES, (self.account_id,), missing)
            self.handles.update({str(v): int(i) for v, i in rows})
        return {v: self.handles[v] for v in values}

    def look_up(self, session: Session, keys: Iterable[str]) -> None:
        """Find the stored conversations of these participants keys in one query, for the
        :meth:`conversation_id` calls that follow in the same transaction (a batch of an
        import names hundreds of conversations; one query each cost a second per 200,000
        messages)."""
        wanted = list({k for k in keys if k not in self.conversations} - self.looked_up.keys())
        if not wanted:
            return
        for key in wanted:
            self.looked_up[key] = None
        for cid, key, title in select_in(session, _CONVERSATIONS, (self.account_id,), wanted):
            self.looked_up[str(key)] = (int(cid), title)

    def conversation_id(
        self,
        session: Session,
        participants: Sequence[str],
        title: str | None,
        now: int,
        key: str | None = None,
    ) -> tuple[int, bool]:
        """The conversation of these participants (whose :func:`participants_key` is ``key``,
        when known), and whether it was created just now."""
        key = key or participants_key(participants)
        if key in self.conversations:
            return self.conversations[key], False
        if key in self.looked_up:
            found = self.looked_up.pop(key)
        else:
            found = session.execute(
                select(Conversation.id, Conversation.title).where(
                    Conversation.account_id == self.account_id,
                    Conversation.participants_key == key,
                )
            ).first()
        if found is not None:
            if title and not found[1]:
                session.execute(
                    update(Conversation).where(Conversation.id == found[0]).values(title=title)
                )
            self.conversations[key] = int(found[0])
            return int(found[0]), False
        cid = int(
            session.execute(
                _NEW_CONVERSATION,
                {"account": self.account_id, "key": key, "title": title or None, "now": now},
            ).scalar_one()
        )
        ids = self.handle_ids(session, participants)
        insert_rows(
            session,
            ConversationParticipant,
            [{"conversation_id": cid, "handle_id": h} for h in sorted(set(ids.values()))],
        )
        self.conversations[key] = cid
        return cid, True


def snippet_of(body: str, part_count: int) -> str:
    text = " ".join(body.split())
    if not text and part_count:
        return "📎 Attachment"
    return text[:SNIPPET_LENGTH]


@dataclass(frozen=True)
class Bump:
    """Messages newly stored into one conversation: how many, how many unread, the last."""

    conversation_id: int
    added: int
    unread: int
    last_id: int
    snippet: str


def bump(session: Session, bumps: list[Bump]) -> None:
    """Count newly stored messages into their conversations' summaries: one row update per
    conversation (the right-hand sides all read the row as it was), in one statement on
    PostgreSQL, however many conversations."""
    if not bumps:
        return
    if session.get_bind().dialect.name == "postgresql":
        columns = (
            [b.conversation_id for b in bumps],
            [b.added for b in bumps],
            [b.unread for b in bumps],
            [b.last_id for b in bumps],
            [b.snippet for b in bumps],
        )
        session.connection().exec_driver_sql(_BUMP_POSTGRES, columns)
        return
    # SQLite: one statement for many rows too (an executemany lets go of the interpreter lock
    # for every row, and an import's other threads kept the storing thread waiting for it)
    connection = session.connection()
    per = max(1, parameters_per_statement(session) // 5)
    for at in range(0, len(bumps), per):
        part = bumps[at : at + per]
        connection.exec_driver_sql(
            _BUMP_SQLITE.replace("(*)", ", ".join(["(?, ?, ?, ?, ?)"] * len(part))),
            tuple(
                value
                for b in part
                for value in (b.conversation_id, b.added, b.unread, b.last_id, b.snippet)
            ),
        )


_BUMP_SQLITE = (
    "WITH v (id, added, unread, last_id, snippet) AS (VALUES (*)) "
    "UPDATE conversations SET message_count = message_count + v.added, "
    "unread_count = unread_count + v.unread, "
    "snippet = CASE WHEN conversations.last_message_id < v.last_id THEN v.snippet "
    "ELSE conversations.snippet END, "
    "last_message_id = max(conversations.last_message_id, v.last_id) "
    "FROM v WHERE conversations.id = v.id"
)
_BUMP_POSTGRES = (
    "UPDATE conversations AS c SET message_count = c.message_count + v.added, "
    "unread_count = c.unread_count + v.unread, "
    "snippet = CASE WHEN c.last_message_id < v.last_id THEN v.snippet ELSE c.snippet END, "
    "last_message_id = GREATEST(c.last_message_id, v.last_id) "
    "FROM unnest(%s::bigint[], %s::integer[], %s::integer[], %s::bigint[], %s::text[]) "
    "AS v(id, added, unread, last_id, snippet) WHERE c.id = v.id"
)


def refresh(session: Session, conversation_ids: set[int]) -> None:
    """Recompute count, unread count, last message and snippet of these conversations."""
    for cid in conversation_ids:
        total, unread, last = session.execute(
            select(
                func.count(Message.id),
                func.coalesce(
                    func.sum(
                        case((Message.read.is_(False) & (Message.direction == "in"), 1), else_=0)
                    ),
                    0,
                ),
                func.coalesce(func.max(Message.id), 0),
            ).where(Message.conversation_id == cid)
        ).one()
        snippet = ""
        if last:
            body, parts = session.execute(
                select(Message.body, Message.part_count).where(Message.id == last)
            ).one()
            snippet = snippet_of(body, parts)
        session.execute(
            update(Conversation)
            .where(Conversation.id == cid)
            .values(message_count=total, unread_count=unread, last_message_id=last, snippet=snippet)
        )


def participants_of(session: Session, conversation_ids: set[int]) -> dict[int, list[str]]:
    rows = session.execute(
        select(ConversationParticipant.conversation_id, Handle.value)
        .join(Handle, Handle.id == ConversationParticipant.handle_id)
        .where(ConversationParticipant.conversation_id.in_(conversation_ids))
        .order_by(Handle.value)
    ).all()
    found: dict[int, list[str]] = {c: [] for c in conversation_ids}
    for cid, value in rows:
        found[int(cid)].append(str(value))
    return found
