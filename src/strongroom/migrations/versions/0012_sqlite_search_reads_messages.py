"""SQLite: the search index reads the messages' own text (FTS5 external content)

The FTS5 table kept its own copy of every body, subject and tag list, so each message's text
was stored twice and written twice.  It now indexes ``messages_search_source``, a view over
``messages``: one copy of the text, and an import writes a third less into the search index.
With external content FTS5 cannot read what it indexed when a row goes, so triggers hand it the
old values (the same expressions as the view) on every delete, and on an update of a column the
index reads.  The index is rebuilt from the messages.  PostgreSQL is unchanged.

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-28 23:30:00
"""

from __future__ import annotations

from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

TOKENIZE = "tokenize = 'unicode61 remove_diacritics 2'"


def _tags(row: str) -> str:
    """The tag tokens of a message row (``a<account> c<conversation>``, ``att`` with parts),
    the filters of :mod:`strongroom.messages.search` match."""
    return (
        f"'a' || {row}account_id || ' c' || {row}conversation_id"
        f" || CASE WHEN {row}part_count > 0 THEN ' att' ELSE '' END"
    )


def _values(row: str) -> str:
    return f"{row}id, {row}body, coalesce({row}subject, ''), {_tags(row)}"


def upgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    op.execute("DROP TRIGGER IF EXISTS messages_fts_delete")
    op.execute("DROP TABLE IF EXISTS messages_fts")
    op.execute(
        "CREATE VIEW messages_search_source (id, body, subject, tags) AS "
        f"SELECT {_values('')} FROM messages"
    )
    op.execute(
        "CREATE VIRTUAL TABLE messages_fts USING fts5(body, subject, tags, "
        f"content = 'messages_search_source', content_rowid = 'id', {TOKENIZE})"
    )
    forget = (
        "INSERT INTO messages_fts (messages_fts, rowid, body, subject, tags) "
        f"VALUES ('delete', {_values('old.')});"
    )
    op.execute(f"CREATE TRIGGER messages_fts_delete AFTER DELETE ON messages BEGIN {forget} END")
    op.execute(
        "CREATE TRIGGER messages_fts_update "
        "AFTER UPDATE OF id, account_id, conversation_id, body, subject, part_count ON messages "
        f"BEGIN {forget} INSERT INTO messages_fts (rowid, body, subject, tags) "
        f"VALUES ({_values('new.')}); END"
    )
    op.execute("INSERT INTO messages_fts (messages_fts) VALUES ('rebuild')")


def downgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    op.execute("DROP TRIGGER IF EXISTS messages_fts_update")
    op.execute("DROP TRIGGER IF EXISTS messages_fts_delete")
    op.execute("DROP TABLE IF EXISTS messages_fts")
    op.execute("DROP VIEW IF EXISTS messages_search_source")
    op.execute(f"CREATE VIRTUAL TABLE messages_fts USING fts5(body, subject, tags, {TOKENIZE})")
    op.execute(
        "CREATE TRIGGER messages_fts_delete AFTER DELETE ON messages BEGIN "
        "DELETE FROM messages_fts WHERE rowid = old.id; END"
    )
    op.execute(
        f"INSERT INTO messages_fts (rowid, body, subject, tags) SELECT {_values('')} FROM messages"
    )
