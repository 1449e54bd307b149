"""What an account holds, across the vault's domains: ``strongroom stats``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from strongroom.accounts import usage
from strongroom.locker.models import File
from strongroom.messages.models import Call, Conversation, Message, MessagePart

_NOT_ATTACHMENTS = ("text/plain", "application/smil")


@dataclass(frozen=True)
class VaultStats:
    """What an account holds: the keys of ``strongroom stats --json``."""

    messages: int
    conversations: int
    attachments: int
    calls: int
    files: int
    bytes_used: int
    quota_bytes: int


def stats(session: Session, account_id: int) -> VaultStats:
    """Counts of the account's messages, conversations, attachments (parts other than text and
    SMIL layout), calls and locker files, and its storage use.  Raises NotFound."""
    used = usage.usage(session, account_id)

    def count(query: Any) -> int:
        return int(session.scalar(query) or 0)

    attachments = select(func.count()).where(
        MessagePart.account_id == account_id,
        *[~func.lower(MessagePart.content_type).startswith(t) for t in _NOT_ATTACHMENTS],
    )
    return VaultStats(
        messages=count(select(func.count()).where(Message.account_id == account_id)),
        conversations=count(
            select(func.count()).where(
                Conversation.account_id == account_id, Conversation.message_count > 0
            )
        ),
        attachments=count(attachments),
        calls=count(select(func.count()).where(Call.account_id == account_id)),
        files=count(select(func.count()).where(File.account_id == account_id)),
        bytes_used=used.used_bytes,
        quota_bytes=used.quota_bytes,
    )
