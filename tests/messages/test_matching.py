"""Finding stored copies costs one index look-up per message of the batch, however many
messages the account holds and whatever the database's statistics say (SQLite and PostgreSQL).

After a big import PostgreSQL's planner statistics lag behind (autovacuum analyses a table only
now and then); a fingerprint ``IN`` list was then answered by reading every message of the
account, each batch."""

from __future__ import annotations

from sqlalchemy import text

from strongroom.messages import ingest
from strongroom.messages.records import MessageRecord
from strongroom.runtime import Runtime
from tests.factories import store_records, vault_user

T0 = 1_700_000_000_000


def test_matching_reads_only_the_batch_s_own_candidates(runtime: Runtime) -> None:
    account = vault_user(runtime)
    who = "+15550100001"
    records = [
        MessageRecord(kind="sms", direction="in", date_ms=T0 + i * 60_000, body=f"m{i}",
                      sender=who, participants=[who])
        for i in range(3000)
    ]  # fmt: skip
    store_records(runtime, account, records)
    again = store_records(runtime, account, records[1000:1010])
    assert [o.status for o in again] == ["duplicate"] * 10

    with runtime.db.read() as s:
        connection = s.connection()
        if runtime.db.is_sqlite:
            # A range of ids per run of nearby seconds, through the (account, id) index.
            lo = ingest.ids.first_id_at(T0 + 1000 * 60_000)
            sql = ingest._STORED_IN_RANGES.replace("(*)", "(?, ?)")
            plan = " ".join(
                str(row[-1])
                for row in connection.exec_driver_sql(
                    "EXPLAIN QUERY PLAN " + sql, (lo, lo + 10**9, account)
                )
            )
            assert "USING INDEX ix_messages_account_id" in plan or "PRIMARY KEY" in plan
            assert "SCAN m" not in plan
        else:
            fingerprints = [
                bytes(row[0])
                for row in s.execute(
                    text("SELECT fingerprint FROM messages WHERE account_id = :a LIMIT 10"),
                    {"a": account},
                )
            ]
            lines = [
                str(row[0])
                for row in connection.exec_driver_sql(
                    "EXPLAIN (ANALYZE, FORMAT TEXT) " + ingest._STORED, (fingerprints, account)
                )
            ]
            plan = "\n".join(lines)
            assert "Index Scan using ix_messages_account_fingerprint" in plan, plan
            assert "Rows Removed by Filter" not in plan, plan


def test_copies_at_the_edges_of_what_is_stored_are_found(runtime: Runtime) -> None:
    """Only the seconds between the account's oldest and newest stored message are read; the
    copies of those two (and nothing outside them, nor another account's messages) match."""
    account, other = vault_user(runtime), vault_user(runtime, "bob")
    who = "+15550100002"

    def sms(date_ms: int, body: str) -> MessageRecord:
        return MessageRecord(kind="sms", direction="in", date_ms=date_ms, body=body,
                             sender=who, participants=[who])  # fmt: skip

    stored = [sms(T0 + i * 1000, f"m{i}") for i in range(5)]
    store_records(runtime, account, stored)
    store_records(runtime, other, [sms(T0 - 5000, "early"), sms(T0 + 9000, "late")])
    batch = [
        sms(T0 - 5000, "early"),  # only the other account has it
        stored[0],  # the oldest stored, to the millisecond
        sms(T0 + 4000, "m4"),  # the newest stored
        sms(T0 + 4999, "m4 again"),  # the newest second, another message
        sms(T0 + 9000, "late"),  # only the other account has it
    ]
    outcomes = store_records(runtime, account, batch)
    assert [o.status for o in outcomes] == [
        "created", "duplicate", "duplicate", "created", "created"
    ]  # fmt: skip
    again = store_records(runtime, account, batch)
    assert [o.status for o in again] == ["duplicate"] * 5


def test_a_runs_claims_keep_at_least_the_latest_and_let_the_oldest_go() -> None:
    from strongroom.messages.ingest import _Recent

    claims = _Recent(5)
    added: list[int] = []
    for start in range(0, 30, 3):
        batch = [start, start + 1, start + 2, start]  # a repeat within the batch counts once
        claims.update(batch)
        added += batch[:3]
        assert all(i in claims for i in added[-5:])
        assert len(claims.ids) <= 5 + 3
    assert 0 not in claims and 29 in claims
    claims.add(29)  # already held: nothing changes
    assert claims.held == len(claims.ids)


def test_fingerprints_stay_what_stored_messages_were_given() -> None:
    """Vaults hold fingerprints made before: the hash of each field followed by a NUL (sender
    empty for the owner, participants sorted and joined by U+001F, the body NFC and trimmed),
    then the sorted media digests, in BLAKE2b-128 personalised "strongroom-msg1"."""
    import hashlib
    import unicodedata

    from strongroom.messages.fingerprints import fingerprint

    def reference(direction, sender, participants, body, media):
        h = hashlib.blake2b(digest_size=16, person=b"strongroom-msg1")
        body = unicodedata.normalize("NFC", body).strip()
        for value in (direction, sender or "", "\x1f".join(sorted(participants)), body):
            h.update(value.encode())
            h.update(b"\x00")
        for digest in sorted(media):
            h.update(digest)
        return h.digest()

    cases = [
        ("in", "+15550100001", ["+15550100001"], "ok", []),
        ("out", None, ["+15550100002", "+15550100001"], "  Cafe\u0301 😀\n", []),
        ("in", "a@b.c", ["a@b.c", "+15550100003"], "", [b"\x02" * 32, b"\x01" * 32]),
    ]
    for case in cases:
        assert fingerprint(*case) == reference(*case)
    with_a_picture = ("in", "+15550100001", ["+15550100001"], "ok ", [b"\x01" * 32])
    assert fingerprint(*with_a_picture) != fingerprint(*cases[0])
