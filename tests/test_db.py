from __future__ import annotations

import threading

import pytest
from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    text,
)

from strongroom import db as db_module
from strongroom.accounts.models import LoginFailures
from strongroom.db import (
    NULL_NUMBER,
    NULL_TEXT,
    Database,
    execute_many,
    insert_tuples,
    upsert,
)


def test_sqlite_runs_in_wal_mode_with_a_busy_timeout(tmp_path):
    db = Database(f"sqlite:///{tmp_path / 'x.db'}")
    with db.read() as s:
        assert s.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert s.execute(text("PRAGMA busy_timeout")).scalar() == 60000
        assert s.execute(text("PRAGMA foreign_keys")).scalar() == 1
    db.dispose()


def test_sqlite_write_transactions_queue_instead_of_failing(tmp_path):
    db = Database(f"sqlite:///{tmp_path / 'x.db'}")
    with db.write() as s:
        s.execute(text("CREATE TABLE n (v INTEGER)"))
        s.execute(text("INSERT INTO n VALUES (0)"))

    def bump() -> None:
        for _ in range(50):
            with db.write() as s:  # read-then-write: fails with "locked" under deferred BEGIN
                v = s.execute(text("SELECT v FROM n")).scalar_one()
                s.execute(text("UPDATE n SET v = :v"), {"v": v + 1})

    threads = [threading.Thread(target=bump) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    with db.read() as s:
        assert s.execute(text("SELECT v FROM n")).scalar_one() == 200
    db.dispose()


def test_savepoints_roll_back_only_their_part(runtime):
    with runtime.db.write() as s:
        s.add(LoginFailures(key="a", failures=1, first_at=0))
        try:
            with s.begin_nested():
                s.add(LoginFailures(key="b", failures=1, first_at=0))
                s.flush()
                raise RuntimeError("undo b")
        except RuntimeError:
            pass
    with runtime.db.read() as s:
        assert [r.key for r in s.query(LoginFailures)] == ["a"]


def test_upsert_inserts_then_updates(runtime):
    for _ in range(3):
        with runtime.db.write() as s:
            upsert(
                s,
                LoginFailures,
                {"key": "k", "failures": 1, "first_at": 5},
                key=["key"],
                update={"failures": LoginFailures.failures + 1},
            )
    with runtime.db.read() as s:
        assert s.get(LoginFailures, "k").failures == 3


@pytest.mark.parametrize("rows", [1, 7, 8, 9, 25])
def test_bulk_inserts_store_every_row_once_across_statements(runtime, monkeypatch, rows):
    """SQLite inserts many rows per statement (here 2 rows of 4 values in 8 per statement, so
    the counts fall on, before and after a statement's end); PostgreSQL copies them."""
    monkeypatch.setattr(db_module, "PARAMETERS_PER_STATEMENT", 8)
    data = [(f"key {i}", i, 1000 + i, None if i % 2 else i * 7) for i in range(rows)]
    columns = ("key", "failures", "first_at", "locked_until")
    with runtime.db.write() as s:
        insert_tuples(s, LoginFailures, columns, data)
    with runtime.db.read() as s:
        stored = s.execute(text("SELECT key, failures, first_at, locked_until FROM login_failures"))
        assert sorted(tuple(r) for r in stored) == sorted(data)


_ENCODED = Table(
    "encoded_rows",
    MetaData(),
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("label", String(20)),
    Column("note", Text),
    Column("count", BigInteger),
    Column("flag", Boolean, nullable=False),
    Column("data", LargeBinary),
    Column("extra", JSON),
)


class _Encoded:
    __table__ = _ENCODED


@pytest.fixture
def encoded_table(runtime):
    """A table with a nullable column of each kind (dropped after: PostgreSQL's test database
    is shared)."""
    _ENCODED.create(runtime.db.engine)
    yield
    _ENCODED.drop(runtime.db.engine)


def test_encoded_rows_keep_every_value_and_null(runtime, encoded_table, monkeypatch):
    """Rows given ``encoded``: JSON as text (stored as it is, not encoded again), and on SQLite
    booleans as 0/1, blobs as bytearrays and NULLs as marks.  Only the marks turn into NULL:
    values that look like them (the text "0", an empty text, the number 0) stay what they are."""
    monkeypatch.setattr(db_module, "PARAMETERS_PER_STATEMENT", 14)  # 2 rows a statement
    sqlite = runtime.db.is_sqlite
    null_text, null_number = (NULL_TEXT, NULL_NUMBER) if sqlite else (None, None)
    yes, no = (1, 0) if sqlite else (True, False)
    blob = bytearray if sqlite else bytes
    rows = [
        (1, null_text, "0", null_number, yes, blob(b"\x00\x01"), '{"a":1}'),
        (2, "", null_text, 0, no, null_number, null_text),
        (3, None, "", None, yes, blob(b""), "{}"),
        (4, "0", "text", -1, no, blob(b"0"), '["0",""]'),
        (5, null_text, null_text, null_number, no, null_number, null_text),
    ]
    columns = ("id", "label", "note", "count", "flag", "data", "extra")
    with runtime.db.write() as s:
        insert_tuples(s, _Encoded, columns, rows, encoded=True)  # type: ignore[arg-type]
    with runtime.db.read() as s:
        stored = s.execute(_ENCODED.select().order_by(_ENCODED.c.id)).all()
    assert [tuple(r) for r in stored] == [
        (1, None, "0", None, True, b"\x00\x01", {"a": 1}),
        (2, "", None, 0, False, None, None),
        (3, None, "", None, True, b"", {}),
        (4, "0", "text", -1, False, b"0", ["0", ""]),
        (5, None, None, None, False, None, None),
    ]
    if sqlite:
        with runtime.db.read() as s:
            kinds = "SELECT typeof(count), typeof(data) FROM encoded_rows WHERE id = 2"
            assert tuple(s.execute(text(kinds)).one()) == ("integer", "null")


def test_many_upserts_apply_in_order_across_statements(runtime, monkeypatch):
    """An ``INSERT ... VALUES (?, ...) ON CONFLICT`` run for many rows (on SQLite as statements
    of several rows each): a key given twice is inserted, then updated, as row by row."""
    monkeypatch.setattr(db_module, "PARAMETERS_PER_STATEMENT", 8)
    sql = (
        "INSERT INTO login_failures (key, failures, first_at, locked_until) VALUES (?, ?, ?, ?) "
        "ON CONFLICT (key) DO UPDATE SET failures = login_failures.failures + excluded.failures"
    )
    rows = [("a", 1, 10, None), ("b", 1, 20, None), ("a", 2, 30, None), ("c", 5, 40, 7)]
    rows += [("b", 10, 50, None)]
    with runtime.db.write() as s:
        execute_many(s, sql, rows)
        execute_many(s, "UPDATE login_failures SET locked_until = ? WHERE key = ?", [(1, "a")])
    with runtime.db.read() as s:
        stored = s.execute(text("SELECT key, failures, first_at, locked_until FROM login_failures"))
        assert sorted(tuple(r) for r in stored) == [
            ("a", 3, 10, 1),
            ("b", 11, 20, None),
            ("c", 5, 40, 7),
        ]


def test_a_checkpoint_empties_the_sqlite_write_ahead_log(tmp_path):
    db = Database(f"sqlite:///{tmp_path / 'x.db'}")
    with db.write() as s:
        s.execute(text("CREATE TABLE n (v BLOB)"))
        s.execute(text("INSERT INTO n VALUES (randomblob(100000))"))
    wal = tmp_path / "x.db-wal"
    assert wal.stat().st_size > 100_000
    db.checkpoint()
    assert wal.stat().st_size == 0
    with db.read() as s:
        assert s.execute(text("SELECT length(v) FROM n")).scalar_one() == 100_000
    db.dispose()


_TRY_LOCK = """
import fcntl, os, sys
fd = os.open(sys.argv[1], os.O_RDWR)
try:
    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
except BlockingIOError:
    print("busy")
else:
    print("free")
"""


def test_sqlite_writers_of_other_processes_queue_on_a_lock_file(tmp_path):
    """Server processes wait for each other's write transactions on a kernel lock (woken at
    once), not in SQLite's busy handler (which sleeps up to 100 ms between tries)."""
    import subprocess
    import sys

    db = Database(f"sqlite:///{tmp_path / 'q.db'}")
    lock = tmp_path / "q.db-writer.lock"

    def other_process() -> str:
        run = subprocess.run([sys.executable, "-c", _TRY_LOCK, str(lock)], capture_output=True)
        return run.stdout.decode().strip()

    with db.write() as s:
        s.execute(text("CREATE TABLE t (x INTEGER)"))
    assert other_process() == "free"
    with db.write() as s:
        with db.write():  # nested (a mistake, but it must not release the outer lock)
            pass
        assert other_process() == "busy"
        s.execute(text("INSERT INTO t VALUES (1)"))
    assert other_process() == "free"
    with db.read() as s:
        assert other_process() == "free"  # readers never take it
        assert s.scalar(text("SELECT count(*) FROM t")) == 1
    db.dispose()


@pytest.fixture
def kept_table():
    """A table of its own (dropped after the test: PostgreSQL's test database is shared)."""
    made: list[Database] = []

    def make(db: Database) -> None:
        with db.write() as s:
            s.execute(text("CREATE TABLE kept (v INTEGER)"))
        made.append(db)

    yield make
    for db in made:
        with db.write() as s:
            s.execute(text("DROP TABLE kept"))


def _kept_values(db: Database) -> list[int]:
    with db.read() as s:
        return sorted(s.execute(text("SELECT v FROM kept")).scalars())


def test_writes_join_the_transaction_their_thread_keeps_open(runtime, kept_table):
    db = runtime.db
    kept_table(db)
    kept = db.keep_open()
    for v in range(3):
        with db.write() as s:  # joins: no second transaction, no wait on the first
            s.execute(text("INSERT INTO kept VALUES (:v)"), {"v": v})
    assert _kept_values(db) == []  # not committed yet: a reader sees none of it
    with pytest.raises(RuntimeError, match="already keeps"):
        db.keep_open()
    assert kept.end() is True
    assert _kept_values(db) == [0, 1, 2]
    with db.write() as s:  # on its own again
        s.execute(text("INSERT INTO kept VALUES (3)"))
    assert _kept_values(db) == [0, 1, 2, 3]


def test_a_write_that_fails_in_a_kept_transaction_rolls_all_of_it_back(runtime, kept_table):
    db = runtime.db
    kept_table(db)
    kept = db.keep_open()
    with db.write() as s:
        s.execute(text("INSERT INTO kept VALUES (1)"))
    with pytest.raises(ZeroDivisionError), db.write() as s:
        s.execute(text("INSERT INTO kept VALUES (2)"))
        raise ZeroDivisionError
    assert kept.broken
    assert kept.end() is False
    assert _kept_values(db) == []
    with db.write() as s:  # the database is writable as before
        s.execute(text("INSERT INTO kept VALUES (4)"))
    assert _kept_values(db) == [4]


def test_sqlite_writers_of_other_threads_wait_for_a_kept_transaction(tmp_path):
    db = Database(f"sqlite:///{tmp_path / 'x.db'}")
    with db.write() as s:
        s.execute(text("CREATE TABLE kept (v INTEGER)"))
    kept = db.keep_open()
    with db.write() as s:
        s.execute(text("INSERT INTO kept VALUES (1)"))
    order: list[str] = []

    def other() -> None:
        with db.write() as s:
            order.append("other")
            s.execute(text("INSERT INTO kept VALUES (2)"))

    thread = threading.Thread(target=other)
    thread.start()
    thread.join(0.5)
    assert thread.is_alive() and order == []  # waiting its turn
    order.append("end")
    assert kept.end() is True
    thread.join(10)
    assert order == ["end", "other"]
    assert _kept_values(db) == [1, 2]
    with db.read() as s:  # the kept connection's page cache is back to the usual size
        sizes = {s.execute(text("PRAGMA cache_size")).scalar() for _ in range(3)}
    assert sizes == {-db_module.CACHE_KIB}
    db.dispose()
