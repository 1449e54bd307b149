"""Account-wide message work: the service switch and retention."""

from __future__ import annotations

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from strongroom.accounts.models import Account, AccountUsage
from strongroom.clock import DAY_MS
from strongroom.errors import NotFound
from strongroom.messages import ids, service
from strongroom.messages.errors import ConfirmationNeeded
from strongroom.messages.models import Call, Conversation, Gone, Handle, Message

CONFIRM_OFF = "delete-cloud-messages"


def switch(session: Session, account_id: int, enabled: bool, confirm: str | None) -> bool:
    """Turn the messages service on or off; off deletes the cloud copy (devices keep theirs).

    Turning off needs ``confirm == "delete-cloud-messages"`` (ConfirmationNeeded otherwise).
    Every device's sync state becomes invalid, so after turning on again devices start afresh.
    """
    account = session.get(Account, account_id, with_for_update=True)
    if account is None:
        raise NotFound("no such account")
    if enabled:
        account.messages_enabled = True
        return True
    if confirm != CONFIRM_OFF:
        raise ConfirmationNeeded(
            "turning messages off deletes every message stored in the cloud (your phones keep "
            f'their own); confirm with "{CONFIRM_OFF}"'
        )
    for table in (Message, Conversation, Call, Gone, Handle):
        session.execute(delete(table).where(table.account_id == account_id))
    session.execute(
        update(AccountUsage)
        .where(AccountUsage.account_id == account_id, AccountUsage.category == "messages")
        .values(bytes=0, items=0)
    )
    account.messages_enabled = False
    account.changes_floor = account.change_seq
    return False


def expire(session: Session, account_id: int, now: int, batch: int = 1000) -> int:
    """Remove messages older than the account's retention window; return how many.

    Devices receive them as ``expired``, not ``destroyed``, and keep their own copies.
    """
    days = session.scalar(select(Account.message_retention_days).where(Account.id == account_id))
    if days is None:
        return 0
    cutoff = ids.first_id_at(now - days * DAY_MS)
    removed = 0
    while True:
        old = list(
            session.scalars(
                select(Message.id)
                .where(Message.account_id == account_id, Message.id < cutoff)
                .limit(batch)
            )
        )
        if not old:
            return removed
        removed += len(service.remove(session, account_id, old, now, reason="expired"))


def accounts_with_retention(session: Session) -> list[int]:
    return list(
        session.scalars(select(Account.id).where(Account.message_retention_days.is_not(None)))
    )
