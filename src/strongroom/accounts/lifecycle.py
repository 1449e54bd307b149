"""Cancelling, reactivating and finally purging an account.

Cancelling puts the account on hold: it keeps everything for the hold period (180 days by
default) but cannot be used, except to reactivate.  After the hold a job purges it: every blob in
its namespace, then its row, which takes every other row of the account with it (each table
references ``accounts`` with ``ON DELETE CASCADE``).
"""

from __future__ import annotations

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from strongroom.accounts.models import Account, AccountKey, Device, WebSession
from strongroom.accounts.service import AccountView, get_account
from strongroom.blobs import BlobStore
from strongroom.errors import Conflict, Gone
from strongroom.types import Millis

ACTIVE, HELD, PURGING = "active", "held", "purging"


def cancel(session: Session, account_id: int, *, now: Millis, hold_ms: int) -> AccountView:
    """Put the account on hold until ``now + hold_ms``; its devices stop working at once.

    Raises Conflict if it is already cancelled.
    """
    account = get_account(session, account_id)
    if account.status != ACTIVE:
        raise Conflict("this account is already cancelled")
    account.status = HELD
    account.held_until = now + hold_ms
    return AccountView.of(account)


def reactivate(session: Session, account_id: int, *, now: Millis) -> AccountView:
    """End the hold; everything is as it was.  Raises Gone after the hold, Conflict if active."""
    account = get_account(session, account_id)
    if account.status == ACTIVE:
        raise Conflict("this account is active")
    if account.status == PURGING or (account.held_until or 0) <= now:
        raise Gone("the hold period is over and the account is being deleted")
    account.status = ACTIVE
    account.held_until = None
    return AccountView.of(account)


def due_for_purge(session: Session, now: Millis) -> list[int]:
    """Accounts whose hold has ended, and purges that crashed half-way."""
    return list(
        session.scalars(
            select(Account.id).where(
                ((Account.status == HELD) & (Account.held_until <= now))
                | (Account.status == PURGING)
            )
        )
    )


def begin_purge(session: Session, account_id: int, now: Millis) -> str | None:
    """Mark the account as being purged and lock it out; return its blob namespace.

    Returns None if the account was reactivated (or purged) meanwhile.
    """
    marked = session.execute(
        update(Account)
        .where(
            Account.id == account_id,
            ((Account.status == HELD) & (Account.held_until <= now)) | (Account.status == PURGING),
        )
        .values(status=PURGING)
    )
    if marked.rowcount == 0:  # type: ignore[attr-defined]
        return None
    session.execute(delete(WebSession).where(WebSession.account_id == account_id))
    session.execute(update(Device).where(Device.account_id == account_id).values(revoked_at=now))
    return session.scalar(select(AccountKey.namespace).where(AccountKey.account_id == account_id))


def purge_blobs(store: BlobStore, namespace: str) -> int:
    """Delete every blob of a namespace (outside any transaction: it may take long)."""
    return store.delete_namespace(namespace)


def finish_purge(session: Session, account_id: int) -> None:
    """Delete the account row and, through the cascades, every row of the account."""
    session.execute(delete(Account).where(Account.id == account_id, Account.status == PURGING))
