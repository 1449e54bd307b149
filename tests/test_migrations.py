from __future__ import annotations

from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from strongroom.migrations.metadata import target_metadata

# Structures that only exist in SQL for one dialect, outside the ORM models.
SEARCH_ONLY = {
    "messages_fts",
    "ix_messages_search",
    "ix_messages_account_fingerprint",
    "ix_messages_account_guid",
}


def _ours(obj, name, type_, reflected, compare_to):
    return not (name or "").startswith(tuple(SEARCH_ONLY))


def test_migrations_create_exactly_what_the_models_describe(runtime):
    with runtime.db.engine.connect() as conn:
        context = MigrationContext.configure(
            conn, opts={"compare_type": True, "include_object": _ours}
        )
        diff = compare_metadata(context, target_metadata())
    assert diff == []


def test_search_structures_exist_for_the_dialect(runtime):
    from sqlalchemy import inspect

    with runtime.db.engine.connect() as conn:
        if runtime.db.is_sqlite:
            assert "messages_fts" in inspect(conn).get_table_names()
        else:
            names = {i["name"] for i in inspect(conn).get_indexes("messages")}
            assert "ix_messages_search" in names


def test_only_postgresql_indexes_message_fingerprints(runtime):
    from sqlalchemy import inspect

    with runtime.db.engine.connect() as conn:
        names = {i["name"] for i in inspect(conn).get_indexes("messages")}
    assert ("ix_messages_account_fingerprint" in names) is not runtime.db.is_sqlite


def test_only_postgresql_indexes_message_guids(runtime):
    from sqlalchemy import inspect

    with runtime.db.engine.connect() as conn:
        names = {i["name"] for i in inspect(conn).get_indexes("messages")}
    assert ("ix_messages_account_guid" in names) is not runtime.db.is_sqlite


def test_the_change_log_keeps_its_rows_when_rebuilt_without_rowid_and_back(tmp_path):
    """Migration 0009 (SQLite): an installation's change log survives the rebuild both ways."""
    from alembic import command
    from alembic.config import Config
    from sqlalchemy import text

    from strongroom import migrations
    from strongroom.runtime import open_runtime
    from tests.conftest import make_settings
    from tests.factories import make_user

    rt = open_runtime(make_settings(tmp_path / "data", f"sqlite:///{tmp_path / 'old.db'}"))
    db = rt.db
    account = make_user(rt)
    cfg = Config()
    cfg.set_main_option("script_location", str(Path(migrations.__file__).parent))

    def to(revision: str, step=command.upgrade) -> None:
        with db.engine.execution_options(strongroom_begin="IMMEDIATE").connect() as conn:
            with conn.begin():
                cfg.attributes["connection"] = conn
                step(cfg, revision)

    def table_sql() -> str:
        with db.read() as s:
            return str(s.scalar(text("SELECT sql FROM sqlite_master WHERE name = 'changes'")))

    to("0008", command.downgrade)
    assert "WITHOUT ROWID" not in table_sql()
    with db.write() as s:
        s.execute(
            text("INSERT INTO changes VALUES (:a, :n, 'message', :n, 'c', 5)"),
            [{"a": account, "n": n} for n in range(1000, 1300)],
        )
    to("head")
    assert "WITHOUT ROWID" in table_sql()
    with db.read() as s:
        assert s.scalar(text("SELECT count(*) FROM changes WHERE seq >= 1000")) == 300
        plan = " ".join(
            str(r[-1])
            for r in s.execute(
                text(
                    "EXPLAIN QUERY PLAN SELECT seq FROM changes WHERE account_id = 1 AND kind = ''"
                )
            )
        )
    assert "ix_changes_account_kind_seq" in plan
    to("0008", command.downgrade)
    assert "WITHOUT ROWID" not in table_sql()
    with db.read() as s:
        assert s.execute(
            text("SELECT count(*), max(object_id) FROM changes WHERE seq >= 1000")
        ).one() == (300, 1299)
    rt.close()


@pytest.mark.parametrize(
    "dialect", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def test_runs_of_changes_are_spread_back_into_rows_when_downgraded(tmp_path, dialect):
    """Migration 0011: runs recorded at the head become one row per change at 0010, and the
    log reads the same before and after."""
    import secrets

    from alembic import command
    from alembic.config import Config
    from alembic.script import ScriptDirectory
    from sqlalchemy import create_engine, text

    from strongroom import migrations
    from strongroom.accounts import changes
    from strongroom.runtime import open_runtime
    from tests.conftest import PG_URL, make_settings
    from tests.factories import make_user

    schema = f"sr_mig_{secrets.token_hex(4)}"
    if dialect == "sqlite":
        url = f"sqlite:///{tmp_path / 'runs.db'}"
    else:
        admin = create_engine(PG_URL)
        with admin.begin() as conn:
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
        url = f"{PG_URL}{'&' if '?' in PG_URL else '?'}options=-csearch_path%3D{schema}"
    rt = open_runtime(make_settings(tmp_path / "data", url))
    try:
        account = make_user(rt)
        with rt.db.write() as s:
            changes.record(s, account, "item", [(100 + i, "c") for i in range(1500)], 1)
            changes.record(s, account, "item", [(7, "u")], 2)

        def read() -> list[int]:
            with rt.db.read() as s:
                page = changes.changes_since(s, account, "item", 999, 10_000)
            return [*page.created, *page.updated]

        before = read()
        assert before == [*range(100 + 999, 1600), 7]
        cfg = Config()
        cfg.set_main_option("script_location", str(Path(migrations.__file__).parent))
        with rt.db.engine.connect() as conn, conn.begin():
            cfg.attributes["connection"] = conn
            command.downgrade(cfg, "0010")
        with rt.db.read() as s:
            rows = s.execute(text("SELECT seq, object_id FROM changes ORDER BY seq")).all()
        assert [tuple(r) for r in rows] == [*((1 + i, 100 + i) for i in range(1500)), (1501, 7)]
        rt.close()
        rt = open_runtime(make_settings(tmp_path / "data", url))  # finds 0010: upgrades
        with rt.db.read() as s:
            version = s.execute(text("SELECT version_num FROM alembic_version")).scalar()
        assert version == ScriptDirectory.from_config(cfg).get_current_head()
        assert read() == before
    finally:
        rt.close()
        if dialect == "postgres":
            with admin.begin() as conn:
                conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
            admin.dispose()


def test_each_migration_is_named_by_its_revision_and_the_newest_is_the_head():
    """Opening a database compares its revision with the newest file's number, without
    alembic (strongroom.runtime.head_revision): that holds only while files are so named."""
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    from strongroom import migrations
    from strongroom.runtime import head_revision

    cfg = Config()
    cfg.set_main_option("script_location", str(Path(migrations.__file__).parent))
    scripts = ScriptDirectory.from_config(cfg)
    for script in scripts.walk_revisions():
        assert Path(script.path).name.split("_", 1)[0] == script.revision
    assert [head_revision()] == scripts.get_heads()


def test_the_search_index_reads_the_messages_text_after_0012_and_keeps_no_sizes_after_0013(
    tmp_path,
):
    """Migrations 0012 and 0013 (SQLite): the FTS5 table stops keeping a copy of every message's
    text and reads it from the messages (0012), then stops keeping each message's token counts
    (0013); each way the index is rebuilt and finds the same messages."""
    from alembic import command
    from alembic.config import Config
    from sqlalchemy import text

    from strongroom import migrations
    from strongroom.messages import search
    from strongroom.messages.records import MessageRecord
    from strongroom.runtime import open_runtime
    from tests.conftest import make_settings
    from tests.factories import store_records, vault_user

    rt = open_runtime(make_settings(tmp_path / "data", f"sqlite:///{tmp_path / 'fts.db'}"))
    try:
        account = vault_user(rt)
        bodies = [f"note {i} about {'otters' if i % 3 else 'badgers'}" for i in range(300)]
        store_records(
            rt,
            account,
            [
                MessageRecord(
                    kind="sms",
                    direction="in",
                    date_ms=1_700_000_000_000 + i * 1000,
                    body=body,
                    sender=f"+1555010{i % 7:04d}",
                    participants=[f"+1555010{i % 7:04d}"],
                )
                for i, body in enumerate(bodies)
            ],
        )
        cfg = Config()
        cfg.set_main_option("script_location", str(Path(migrations.__file__).parent))

        def to(revision: str, step=command.upgrade) -> None:
            with rt.db.engine.connect() as conn, conn.begin():
                cfg.attributes["connection"] = conn
                step(cfg, revision)

        def found(word: str) -> int:
            with rt.db.read() as s:
                hits = search.search(s, search.SearchFilter(account, word, limit=1000))
            return len(hits)

        def tables() -> set[str]:
            with rt.db.read() as s:
                return set(s.scalars(text("SELECT name FROM sqlite_master WHERE type = 'table'")))

        assert {"messages_fts_content", "messages_fts_docsize"}.isdisjoint(tables())
        assert (found("badgers"), found("otters")) == (100, 200)
        to("0012", command.downgrade)
        assert "messages_fts_docsize" in tables() and "messages_fts_content" not in tables()
        assert (found("badgers"), found("otters")) == (100, 200)
        to("0011", command.downgrade)
        assert {"messages_fts_content", "messages_fts_docsize"} <= tables()
        assert (found("badgers"), found("otters")) == (100, 200)
        to("head")
        assert {"messages_fts_content", "messages_fts_docsize"}.isdisjoint(tables())
        assert (found("badgers"), found("otters")) == (100, 200)
        with rt.db.write() as s:
            s.execute(text("DELETE FROM messages WHERE body LIKE '%badgers'"))
            s.execute(text("UPDATE messages SET body = 'ferrets' WHERE body LIKE 'note 1 %'"))
            s.execute(
                text("INSERT INTO messages_fts (messages_fts, rank) VALUES ('integrity-check', 1)")
            )
        assert (found("badgers"), found("otters"), found("ferrets")) == (0, 199, 1)
    finally:
        rt.close()
