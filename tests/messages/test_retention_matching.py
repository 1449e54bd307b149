"""A message older than the account keeps, sent again while the vault still holds it (the
expiry job has not run yet), is that message: a duplicate, not a refusal (SQLite and
PostgreSQL)."""

from __future__ import annotations

from sqlalchemy import func, select, update

from strongroom.accounts.models import Account
from strongroom.clock import DAY_MS
from strongroom.messages.models import Message
from strongroom.messages.records import MessageRecord
from strongroom.runtime import Runtime
from tests.factories import store_records, vault_user


def test_an_old_copy_of_a_stored_message_is_a_duplicate_and_an_unknown_one_is_refused(
    runtime: Runtime,
) -> None:
    account = vault_user(runtime)
    now = runtime.clock.now_ms()

    def old(body: str) -> MessageRecord:
        return MessageRecord(kind="sms", direction="out", date_ms=now - 60 * DAY_MS,
                             body=body, participants=["+15550100001"])  # fmt: skip

    [first] = store_records(runtime, account, [old("kept")])
    assert first.status == "created"
    with runtime.db.write() as s:
        s.execute(update(Account).where(Account.id == account).values(message_retention_days=30))

    again, unknown = store_records(runtime, account, [old("kept"), old("never stored")])
    assert (again.status, again.id) == ("duplicate", first.id)
    assert unknown.status == "rejected" and unknown.problem is not None
    assert unknown.problem["code"] == "expired"
    with runtime.db.read() as s:
        bodies = s.scalars(select(Message.body).where(Message.account_id == account)).all()
        assert s.scalar(select(func.count()).select_from(Message)) == 1
    assert bodies == ["kept"]
