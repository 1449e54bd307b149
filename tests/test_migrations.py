from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from strongroom.migrations.metadata import target_metadata

# Structures that only exist in SQL for one dialect, outside the ORM models.
SEARCH_ONLY = {"messages_fts", "ix_messages_search", "ix_messages_account_fingerprint"}


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
