from __future__ import annotations

import threading

from sqlalchemy import text

from strongroom.accounts.models import LoginFailures
from strongroom.db import Database, upsert


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
