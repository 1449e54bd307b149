"""Storage used per account and category, and the quota check every write of content makes.

# Race: two uploads to one account could each pass the check and together overflow the quota.
# :func:`reserve` locks the account row (``FOR UPDATE``; SQLite's writer lock does the same), so
# checks and additions of one account happen one at a time.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from strongroom.accounts.models import Account, AccountUsage
from strongroom.db import upsert
from strongroom.errors import NotFound, QuotaExceeded

CATEGORIES = ("messages", "photos", "videos", "music", "documents", "other")


@dataclass(frozen=True)
class Usage:
    used_bytes: int
    quota_bytes: int
    by_category: dict[str, int]

    @property
    def free_bytes(self) -> int:
        return max(0, self.quota_bytes - self.used_bytes)


def usage(session: Session, account_id: int) -> Usage:
    quota = session.scalar(select(Account.quota_bytes).where(Account.id == account_id))
    if quota is None:
        raise NotFound("no such account")
    rows = session.execute(
        select(AccountUsage.category, AccountUsage.bytes).where(
            AccountUsage.account_id == account_id
        )
    ).all()
    by_category = dict.fromkeys(CATEGORIES, 0) | {c: int(b) for c, b in rows}
    return Usage(sum(by_category.values()), int(quota), by_category)


def lock_account(session: Session, account_id: int) -> None:
    """Take the account's row lock for the rest of the transaction.

    # Race: every transaction that changes an account's content takes this lock *first*, so
    # writers of one account queue here instead of deadlocking on rows they both insert (two
    # uploads of the same bytes insert the same content row).
    """
    # Taken once per transaction (finishing an upload reaches this from three places).  Keyed
    # on the innermost transaction: rolling back a savepoint releases what was locked in it.
    transaction = session.get_nested_transaction() or session.get_transaction()
    held: tuple[object, set[int]] | None = session.info.get("locked_accounts")
    if held is None or held[0] is not transaction:
        held = (transaction, set())
        session.info["locked_accounts"] = held
    if account_id in held[1]:
        return
    # FOR NO KEY UPDATE (PostgreSQL): writers of the account queue as with FOR UPDATE, but rows
    # of other tables that merely refer to the account (a stager's chunk rows, on another
    # connection) can still be inserted: their foreign-key check takes a KEY SHARE lock, which
    # FOR UPDATE blocks until this transaction ends.
    session.execute(
        select(Account.id).where(Account.id == account_id).with_for_update(key_share=True)
    )
    held[1].add(account_id)


def reserve(session: Session, account_id: int, nbytes: int) -> Usage:
    """Check that ``nbytes`` more fit, holding the account's lock until the transaction ends.

    Raises QuotaExceeded (saying how much is free) when they do not.
    """
    lock_account(session, account_id)
    current = usage(session, account_id)
    if nbytes > current.free_bytes:
        raise QuotaExceeded(
            f"this needs {nbytes} bytes but only {current.free_bytes} of the account's "
            f"{current.quota_bytes} bytes are free; delete something or ask for more space",
            free_bytes=current.free_bytes,
            quota_bytes=current.quota_bytes,
            needed_bytes=nbytes,
        )
    return current


def add(session: Session, account_id: int, category: str, nbytes: int, items: int = 1) -> None:
    """Count ``nbytes`` and ``items`` (negative to release) against ``category``."""
    upsert(
        session,
        AccountUsage,
        {"account_id": account_id, "category": category, "bytes": nbytes, "items": items},
        key=["account_id", "category"],
        update={
            "bytes": AccountUsage.bytes + nbytes,
            "items": AccountUsage.items + items,
        },
    )
