"""An import's batches sharing transactions (SQLite): fewer commits, the same vault; a batch
that fails takes the batches of its open transaction with it, leaves no picture off the
reclaiming lists, and the import run again stores everything once."""

from __future__ import annotations

import hashlib

import pytest
from sqlalchemy import event, func, select

from strongroom.accounts.keys import vault_for
from strongroom.content.models import Pack
from strongroom.messages.ingest import Ingest
from strongroom.messages.models import Message, MessagePart
from strongroom.messages.records import InlineContent, MessageRecord, PartRecord
from strongroom.runtime import Runtime
from tests.factories import vault_user

T0 = 1_700_000_000_000
BOB = "+15550100001"


class Crash(Exception):
    """A batch failing on purpose."""


def _ingest(rt: Runtime, account: int) -> Ingest:
    with rt.db.read() as s:
        vault = vault_for(s, rt.store, rt.keyring, account)
    return Ingest(rt.db, vault, rt.clock, account, source="sbr-xml")


def _batch(first: int, n: int = 10) -> list[tuple[str | None, MessageRecord]]:
    """``n`` messages from ``first`` on, every fifth with a picture of its own."""
    batch = []
    for i in range(first, first + n):
        parts = []
        if i % 5 == 4:
            data = hashlib.sha256(b"%d" % i).digest() * 64
            parts = [PartRecord("image/png", InlineContent(data), f"p{i}.png")]
        batch.append(
            (None, MessageRecord("mms" if parts else "sms", "in", T0 + i * 1000, f"m{i}",
                                 sender=BOB, participants=[BOB], parts=parts))
        )  # fmt: skip
    return batch


def _count(rt: Runtime, model: type, account: int) -> int:
    with rt.db.read() as s:
        query = select(func.count()).select_from(model).where(model.account_id == account)
        return int(s.scalar(query) or 0)


def test_batches_share_a_transaction_until_it_holds_enough(runtime: Runtime) -> None:
    account = vault_user(runtime)
    ingest = _ingest(runtime, account)
    ingest.share_transactions(25, 60)
    commits: list[int] = []
    listener = lambda conn: commits.append(1)  # noqa: E731
    event.listen(runtime.db.engine, "commit", listener)
    try:
        for b in range(6):
            outcomes = ingest.add(_batch(b * 10))
            assert [o.status for o in outcomes] == ["created"] * 10
        ingest.commit()  # nothing left open: the sixth batch filled the second transaction
    finally:
        event.remove(runtime.db.engine, "commit", listener)
    # SQLite: batches 1-3 in one transaction, 4-6 in another; PostgreSQL: one each.
    assert len(commits) == (2 if runtime.db.is_sqlite else 6)
    assert _count(runtime, Message, account) == 60
    assert _count(runtime, MessagePart, account) == 12


def test_a_failed_batch_takes_its_open_transaction_with_it(
    runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    account = vault_user(runtime)
    ingest = _ingest(runtime, account)
    ingest.share_transactions(1000, 60)
    ingest.add(_batch(0))
    ingest.add(_batch(10))
    real_store = Ingest._store

    def fails_half_way(self, s, items, *args):
        real_store(self, s, items[:5], *args)  # half of it written, then the failure
        raise Crash

    monkeypatch.setattr(Ingest, "_store", fails_half_way)
    with pytest.raises(Crash):
        ingest.add(_batch(20))
    monkeypatch.undo()
    # SQLite: the two batches before it shared its transaction and went with it; PostgreSQL
    # (a transaction each) keeps them.  Never half a batch.
    stored = 0 if runtime.db.is_sqlite else 20
    assert _count(runtime, Message, account) == stored
    assert _count(runtime, MessagePart, account) == stored // 5
    with runtime.db.read() as s:
        vault = vault_for(s, runtime.store, runtime.keyring, account)
        recorded = {vault.name_of(p) for p in s.scalars(select(Pack.pack_id))}
    written = {info.name for info in runtime.store.list()}
    assert written and written == recorded  # every picture's pack on the lists for reclaiming
    again = _ingest(runtime, account)
    again.share_transactions(1000, 60)
    statuses = [o.status for b in range(3) for o in again.add(_batch(b * 10))]
    again.commit()
    assert statuses.count("created") == 30 - stored
    assert statuses.count("duplicate") == stored
    assert _count(runtime, Message, account) == 30
    assert _count(runtime, MessagePart, account) == 6
