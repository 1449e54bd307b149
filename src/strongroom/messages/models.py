"""Tables of the message vault: handles, conversations, messages, parts, reactions, calls, and the
fingerprints of deleted or expired messages that keep them from coming back.

Message ids are ordered by date: ``id = date_ms << 16 | slot`` (see :mod:`messages.ids`), so
"newest first" is "highest id first" everywhere, full-text search included.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from strongroom.db import Base, BigId

_ACCOUNT = "accounts.id"


class Handle(Base):
    """A phone number (E.164), e-mail address (lower-case) or other sender name of an account."""

    __tablename__ = "handles"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey(_ACCOUNT, ondelete="CASCADE"))
    value: Mapped[str] = mapped_column(String(320))
    kind: Mapped[str] = mapped_column(String(8))  # phone, email, short, name

    __table_args__ = (UniqueConstraint("account_id", "value"),)


class Conversation(Base):
    """A thread with one set of participants (a group chat is one, each 1:1 thread another)."""

    __tablename__ = "conversations"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey(_ACCOUNT, ondelete="CASCADE"))
    participants_key: Mapped[str] = mapped_column(String(64))
    title: Mapped[str | None] = mapped_column(String(500))
    last_message_id: Mapped[int] = mapped_column(BigInteger, default=0)
    message_count: Mapped[int] = mapped_column(Integer, default=0)
    unread_count: Mapped[int] = mapped_column(Integer, default=0)
    snippet: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[int] = mapped_column(BigInteger)

    __table_args__ = (
        UniqueConstraint("account_id", "participants_key"),
        Index("ix_conversations_account_last", "account_id", "last_message_id"),
    )


class ConversationParticipant(Base):
    __tablename__ = "conversation_participants"

    conversation_id: Mapped[int] = mapped_column(
        ForeignKey("conversations.id", ondelete="CASCADE"), primary_key=True
    )
    handle_id: Mapped[int] = mapped_column(
        ForeignKey("handles.id", ondelete="CASCADE"), primary_key=True, index=True
    )


class Message(Base):
    __tablename__ = "messages"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    account_id: Mapped[int] = mapped_column(ForeignKey(_ACCOUNT, ondelete="CASCADE"))
    conversation_id: Mapped[int] = mapped_column(ForeignKey("conversations.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(8))
    direction: Mapped[str] = mapped_column(String(3))
    sender_id: Mapped[int | None] = mapped_column(ForeignKey("handles.id", ondelete="SET NULL"))
    date: Mapped[int] = mapped_column(BigInteger)
    date_sent: Mapped[int | None] = mapped_column(BigInteger)
    date_precision: Mapped[str] = mapped_column(String(2), default="ms")
    read: Mapped[bool] = mapped_column(Boolean)
    status: Mapped[str] = mapped_column(String(16))
    subject: Mapped[str | None] = mapped_column(Text)
    body: Mapped[str] = mapped_column(Text)
    part_count: Mapped[int] = mapped_column(Integer, default=0)
    guid: Mapped[str | None] = mapped_column(String(200))
    reply_to_guid: Mapped[str | None] = mapped_column(String(200))
    source: Mapped[str] = mapped_column(String(32))
    fingerprint: Mapped[bytes] = mapped_column(LargeBinary(16))
    extra: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[int] = mapped_column(BigInteger)

    # PostgreSQL also has ix_messages_account_fingerprint (account_id, fingerprint) and
    # ix_messages_account_guid (account_id, guid), made by the migrations for that dialect only:
    # SQLite finds duplicates, and the targets of tapbacks, by time instead (migrations 0007 and
    # 0014).
    __table_args__ = (
        Index("ix_messages_conversation_id", "conversation_id", "id"),
        Index("ix_messages_account_id", "account_id", "id"),
    )


class MessagePart(Base):
    """An attachment (or the text/SMIL pieces of an MMS); its bytes are a stored content."""

    __tablename__ = "message_parts"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey(_ACCOUNT, ondelete="CASCADE"))
    message_id: Mapped[int] = mapped_column(
        ForeignKey("messages.id", ondelete="CASCADE"), index=True
    )
    seq: Mapped[int] = mapped_column(Integer)
    content_type: Mapped[str] = mapped_column(String(255))
    filename: Mapped[str | None] = mapped_column(String(255))
    size: Mapped[int] = mapped_column(BigInteger)
    content_id: Mapped[int] = mapped_column(ForeignKey("contents.id"), index=True)
    extra: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class Reaction(Base):
    """A tapback on a message; ``sender_id`` None means the account owner reacted."""

    __tablename__ = "reactions"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    message_id: Mapped[int] = mapped_column(
        ForeignKey("messages.id", ondelete="CASCADE"), index=True
    )
    sender_id: Mapped[int | None] = mapped_column(ForeignKey("handles.id", ondelete="SET NULL"))
    reaction: Mapped[str] = mapped_column(String(32))
    date: Mapped[int] = mapped_column(BigInteger)


class Gone(Base):
    """The fingerprint of a message deleted or expired from the vault, so that a stale device
    or a re-import cannot bring it back."""

    __tablename__ = "messages_gone"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey(_ACCOUNT, ondelete="CASCADE"))
    message_id: Mapped[int] = mapped_column(BigInteger)
    fingerprint: Mapped[bytes] = mapped_column(LargeBinary(16))
    date: Mapped[int] = mapped_column(BigInteger)
    date_precision: Mapped[str] = mapped_column(String(2))
    reason: Mapped[str] = mapped_column(String(8))  # deleted, expired
    at: Mapped[int] = mapped_column(BigInteger)

    __table_args__ = (Index("ix_messages_gone_account_fingerprint", "account_id", "fingerprint"),)


class Call(Base):
    __tablename__ = "calls"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey(_ACCOUNT, ondelete="CASCADE"))
    handle_id: Mapped[int] = mapped_column(ForeignKey("handles.id", ondelete="CASCADE"))
    date: Mapped[int] = mapped_column(BigInteger)
    duration_s: Mapped[int] = mapped_column(Integer)
    type: Mapped[str] = mapped_column(String(16))
    name: Mapped[str | None] = mapped_column(String(255))
    source: Mapped[str] = mapped_column(String(32))
    extra: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)

    __table_args__ = (
        UniqueConstraint("account_id", "handle_id", "date", "type"),
        Index("ix_calls_account_date", "account_id", "date"),
    )
