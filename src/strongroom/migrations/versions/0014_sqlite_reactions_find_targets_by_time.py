"""SQLite: no index on message guids (a tapback finds its target by the target's date)

A guid is random (iMessage makes them as UUIDs), so, as with fingerprints (0007), every stored
message put its index entry at a random place and each batch of an import rewrote most of the
index's pages: a 200,000-message sms.db was imported in 5.3-5.9 s with it and 4.5-4.8 s without.
Its only reader was the lookup of a tapback's target.  On SQLite that lookup now reads the
seconds of the targets' dates (which the readers give with each tapback) through the
(account, id) index, ids growing with the date; PostgreSQL keeps the index and its lookup.

Revision ID: 0014
Revises: 0013
Create Date: 2026-11-29 10:30:00
"""

from __future__ import annotations

from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DROP INDEX IF EXISTS ix_messages_account_guid")


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute(
            "CREATE INDEX IF NOT EXISTS ix_messages_account_guid ON messages (account_id, guid)"
        )
