from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from strongroom.migrations.metadata import target_metadata


def test_migrations_create_exactly_what_the_models_describe(runtime):
    with runtime.db.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        diff = compare_metadata(context, target_metadata())
    assert diff == []
