"""SQLite: the search index keeps no sizes of what it indexed (FTS5 ``columnsize=0``)

FTS5 keeps, by default, a ``messages_fts_docsize`` table: one row per message with the number of
tokens in each column, for ranking (bm25) and for its ``snippet()``.  Strongroom uses neither (hits
come newest first, and the passage shown is cut by ``messages.snippets``), so every message an
import stored wrote a row nobody reads.  Without it, an import's search index takes about a
quarter less time (1M messages in batches of 6,000, SQLite alone: 3.2-3.6 s against 4.1-5.8 s)
and the database is about 12% smaller.  The index is rebuilt from the messages; the triggers of
0012 name the table, not its options, and stay.  PostgreSQL is unchanged.

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-29 03:40:00
"""

from __future__ import annotations

from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

_TABLE = (
    "CREATE VIRTUAL TABLE messages_fts USING fts5(body, subject, tags, "
    "content = 'messages_search_source', content_rowid = 'id', "
    "tokenize = 'unicode61 remove_diacritics 2'{})"
)


def _recreate(options: str) -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    op.execute("DROP TABLE IF EXISTS messages_fts")
    op.execute(_TABLE.format(options))
    op.execute("INSERT INTO messages_fts (messages_fts) VALUES ('rebuild')")


def upgrade() -> None:
    _recreate(", columnsize = 0")


def downgrade() -> None:
    _recreate("")
