"""Reading and changing stored messages: views, conversation pages, read state, deletion."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import delete, insert, select, update
from sqlalchemy.orm import Session

from strongroom.accounts import changes, usage
from strongroom.errors import NotFound
from strongroom.messages import ids, threads
from strongroom.messages.models import Conversation, Gone, Handle, Message, MessagePart, Reaction

MAX_PAGE = 500


@dataclass(frozen=True)
class PartView:
    id: int
    content_type: str
    filename: str | None
    size: int
    content_id: int


@dataclass(frozen=True)
class ReactionView:
    reaction: str
    sender: str | None
    date: int


@dataclass
class MessageView:
    id: int
    conversation_id: int
    kind: str
    direction: str
    sender: str | None
    participants: list[str]
    date: int
    date_sent: int | None
    read: bool
    status: str
    subject: str | None
    body: str
    guid: str | None
    reply_to_guid: str | None
    source: str
    extra: dict[str, Any]
    date_precision: str = "ms"
    parts: list[PartView] = field(default_factory=list)
    reactions: list[ReactionView] = field(default_factory=list)


@dataclass(frozen=True)
class ConversationView:
    id: int
    participants: list[str]
    title: str | None
    last_message_id: int
    last_message_at: int | None
    snippet: str
    unread_count: int
    message_count: int


def _views(session: Session, rows: list[Message]) -> list[MessageView]:
    if not rows:
        return []
    mids = [m.id for m in rows]
    handles = {m.sender_id for m in rows if m.sender_id is not None}
    values = (
        dict(session.execute(select(Handle.id, Handle.value).where(Handle.id.in_(handles))).all())
        if handles
        else {}
    )
    people = threads.participants_of(session, {m.conversation_id for m in rows})
    parts: dict[int, list[PartView]] = defaultdict(list)
    for p in session.scalars(
        select(MessagePart).where(MessagePart.message_id.in_(mids)).order_by(MessagePart.seq)
    ):
        parts[p.message_id].append(PartView(p.id, p.content_type, p.filename, p.size, p.content_id))
    reactions: dict[int, list[ReactionView]] = defaultdict(list)
    for mid, reaction, value, date in session.execute(
        select(Reaction.message_id, Reaction.reaction, Handle.value, Reaction.date)
        .outerjoin(Handle, Handle.id == Reaction.sender_id)
        .where(Reaction.message_id.in_(mids))
        .order_by(Reaction.date)
    ):
        reactions[mid].append(ReactionView(reaction, value, date))
    return [
        MessageView(
            id=m.id,
            conversation_id=m.conversation_id,
            kind=m.kind,
            direction=m.direction,
            sender=values.get(m.sender_id) if m.sender_id else None,
            participants=people.get(m.conversation_id, []),
            date=m.date,
            date_sent=m.date_sent,
            read=m.read,
            status=m.status,
            subject=m.subject,
            body=m.body,
            guid=m.guid,
            reply_to_guid=m.reply_to_guid,
            source=m.source,
            extra=dict(m.extra or {}),
            date_precision=m.date_precision,
            parts=parts[m.id],
            reactions=reactions[m.id],
        )
        for m in rows
    ]


def get_messages(
    session: Session, account_id: int, message_ids: list[int]
) -> tuple[list[MessageView], list[int]]:
    """The account's messages with these ids (in the order asked), and the ids not found."""
    rows = session.scalars(
        select(Message).where(Message.account_id == account_id, Message.id.in_(set(message_ids)))
    ).all()
    found = {m.id: v for m, v in zip(rows, _views(session, list(rows)), strict=True)}
    return [found[i] for i in message_ids if i in found], [i for i in message_ids if i not in found]


def conversation_messages(
    session: Session, account_id: int, conversation_id: int, before_id: int | None, limit: int
) -> list[MessageView]:
    """A page of a conversation, newest first, older than ``before_id``.  Raises NotFound."""
    owner = session.scalar(
        select(Conversation.account_id).where(Conversation.id == conversation_id)
    )
    if owner != account_id:
        raise NotFound("no such conversation")
    query = select(Message).where(Message.conversation_id == conversation_id)
    if before_id is not None:
        query = query.where(Message.id < before_id)
    rows = session.scalars(query.order_by(Message.id.desc()).limit(min(limit, MAX_PAGE))).all()
    return _views(session, list(rows))


def conversations(
    session: Session, account_id: int, before: tuple[int, int] | None, limit: int
) -> list[ConversationView]:
    """Conversations, most recent message first; ``before`` is the last page's (last_id, id)."""
    query = select(Conversation).where(
        Conversation.account_id == account_id, Conversation.message_count > 0
    )
    if before is not None:
        last, cid = before
        query = query.where(
            (Conversation.last_message_id < last)
            | ((Conversation.last_message_id == last) & (Conversation.id < cid))
        )
    rows = session.scalars(
        query.order_by(Conversation.last_message_id.desc(), Conversation.id.desc()).limit(
            min(limit, MAX_PAGE)
        )
    ).all()
    people = threads.participants_of(session, {c.id for c in rows})
    return [_conversation_view(c, people[c.id]) for c in rows]


def _conversation_view(c: Conversation, participants: list[str]) -> ConversationView:
    return ConversationView(
        id=c.id,
        participants=participants,
        title=c.title,
        last_message_id=c.last_message_id,
        last_message_at=ids.date_of(c.last_message_id) if c.last_message_id else None,
        snippet=c.snippet,
        unread_count=c.unread_count,
        message_count=c.message_count,
    )


def conversation(session: Session, account_id: int, conversation_id: int) -> ConversationView:
    c = session.get(Conversation, conversation_id)
    if c is None or c.account_id != account_id:
        raise NotFound("no such conversation")
    return _conversation_view(c, threads.participants_of(session, {c.id})[c.id])


def part(session: Session, account_id: int, part_id: int) -> PartView:
    """An attachment of the account.  Raises NotFound."""
    p = session.get(MessagePart, part_id)
    if p is None or p.account_id != account_id:
        raise NotFound("no such attachment")
    return PartView(p.id, p.content_type, p.filename, p.size, p.content_id)


@dataclass
class SetResult:
    updated: list[int] = field(default_factory=list)
    destroyed: list[int] = field(default_factory=list)
    not_updated: dict[int, str] = field(default_factory=dict)
    not_destroyed: dict[int, str] = field(default_factory=dict)


def set_read(
    session: Session, account_id: int, wanted: dict[int, bool], now: int, result: SetResult
) -> None:
    """Change read flags; unknown ids go to ``not_updated``."""
    rows = session.execute(
        select(Message.id, Message.read, Message.conversation_id).where(
            Message.account_id == account_id, Message.id.in_(list(wanted))
        )
    ).all()
    known = {mid: (read, cid) for mid, read, cid in rows}
    changed: list[int] = []
    for mid, read in wanted.items():
        if mid not in known:
            result.not_updated[mid] = "not-found"
            continue
        result.updated.append(mid)
        if known[mid][0] != read:
            changed.append(mid)
    for read in (True, False):
        group = [m for m in changed if wanted[m] is read]
        if group:
            session.execute(update(Message).where(Message.id.in_(group)).values(read=read))
    if changed:
        threads.refresh(session, {known[m][1] for m in changed})
        changes.record(session, account_id, "message", [(m, changes.UPDATED) for m in changed], now)


def remove(
    session: Session, account_id: int, message_ids: list[int], now: int, *, reason: str
) -> list[int]:
    """Delete or expire messages, keeping their fingerprints; return the ids removed."""
    rows = session.execute(
        select(
            Message.id,
            Message.conversation_id,
            Message.fingerprint,
            Message.date,
            Message.date_precision,
        ).where(Message.account_id == account_id, Message.id.in_(message_ids))
    ).all()
    if not rows:
        return []
    gone_ids = [r[0] for r in rows]
    session.execute(
        insert(Gone),
        [
            {
                "account_id": account_id,
                "message_id": mid,
                "fingerprint": fp,
                "date": date,
                "date_precision": prec,
                "reason": reason,
                "at": now,
            }
            for mid, _, fp, date, prec in rows
        ],
    )
    freed = session.scalars(
        select(MessagePart.size).where(MessagePart.message_id.in_(gone_ids))
    ).all()
    session.execute(delete(MessagePart).where(MessagePart.message_id.in_(gone_ids)))
    session.execute(delete(Message).where(Message.id.in_(gone_ids)))
    usage.add(session, account_id, "messages", -sum(freed), -len(gone_ids))
    conversation_ids = {r[1] for r in rows}
    threads.refresh(session, conversation_ids)
    kind = changes.DESTROYED if reason == "deleted" else changes.EXPIRED
    changes.record(session, account_id, "message", [(m, kind) for m in gone_ids], now)
    changes.record(
        session, account_id, "conversation", [(c, changes.UPDATED) for c in conversation_ids], now
    )
    return gone_ids


def destroy(
    session: Session, account_id: int, message_ids: list[int], now: int, result: SetResult
) -> None:
    removed = set(remove(session, account_id, message_ids, now, reason="deleted"))
    for mid in message_ids:
        if mid in removed:
            result.destroyed.append(mid)
        else:
            result.not_destroyed[mid] = "not-found"


def destroy_conversation(session: Session, account_id: int, conversation_id: int, now: int) -> int:
    """Delete every message of a conversation; return how many.  Raises NotFound."""
    conversation(session, account_id, conversation_id)
    mids = list(
        session.scalars(select(Message.id).where(Message.conversation_id == conversation_id))
    )
    return len(remove(session, account_id, mids, now, reason="deleted"))


def all_ids(session: Session, account_id: int, after_id: int | None, limit: int) -> list[int]:
    """Every message id of the account, ascending (for a device's full resync)."""
    query = select(Message.id).where(Message.account_id == account_id)
    if after_id is not None:
        query = query.where(Message.id > after_id)
    return list(session.scalars(query.order_by(Message.id).limit(min(limit, 10_000))))


def conversation_messages_after(
    session: Session, account_id: int, conversation_id: int, after_id: int, limit: int
) -> list[MessageView]:
    """The messages of a conversation newer than ``after_id``, oldest first.  Raises NotFound."""
    conversation(session, account_id, conversation_id)
    ids = list(
        session.scalars(
            select(Message.id)
            .where(Message.conversation_id == conversation_id, Message.id > after_id)
            .order_by(Message.id)
            .limit(min(limit, MAX_PAGE))
        )
    )
    return get_messages(session, account_id, ids)[0]


def conversation_titles(
    session: Session, account_id: int, conversation_ids: set[int]
) -> dict[int, str | None]:
    """Group titles of the account's conversations (None for untitled ones)."""
    rows = session.execute(
        select(Conversation.id, Conversation.title).where(
            Conversation.account_id == account_id, Conversation.id.in_(conversation_ids)
        )
    ).all()
    return {int(i): t for i, t in rows}
