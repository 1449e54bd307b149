"""Alembic environment: runs on the connection :mod:`strongroom.runtime` hands over."""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine

from strongroom.migrations.metadata import target_metadata

config = context.config


SQL_ONLY = (
    "messages_fts",
    "ix_messages_search",
    "ix_messages_account_fingerprint",
    "ix_messages_account_guid",
)
"""Structures made for one dialect only (search; the fingerprint and guid indexes, which only
PostgreSQL keeps), which the models do not describe."""


def _ours(obj: object, name: str | None, type_: str, reflected: bool, compare_to: object) -> bool:
    return not (name or "").startswith(SQL_ONLY)


def _run(connection: object) -> None:
    context.configure(
        connection=connection,  # type: ignore[arg-type]
        target_metadata=target_metadata(),
        include_object=_ours,
        render_as_batch=connection.dialect.name == "sqlite",  # type: ignore[attr-defined]
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


connection = config.attributes.get("connection")
if connection is not None:
    _run(connection)
else:  # the alembic command line, for writing new revisions: `alembic -x url=... revision`
    url = context.get_x_argument(as_dictionary=True).get("url") or config.get_main_option(
        "sqlalchemy.url"
    )
    engine = create_engine(url or "sqlite:///dev.db")
    with engine.begin() as conn:
        _run(conn)
