"""SQLite: no index on message fingerprints (duplicates are found by time)

A fingerprint is a hash, so every stored message put its index entry at a random place: at a
million messages each batch of an import rewrote most of that index's pages (inserts ran three to
four times slower than without it).  On SQLite the duplicate check now reads the seconds of the
incoming messages through the (account, id) index, ids growing with the date; PostgreSQL keeps the
index and its lookup.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-28 06:00:00
"""

from __future__ import annotations

from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DROP INDEX IF EXISTS ix_messages_account_fingerprint")


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute(
            "CREATE INDEX IF NOT EXISTS ix_messages_account_fingerprint "
            "ON messages (account_id, fingerprint)"
        )
