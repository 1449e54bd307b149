"""Contents found by size

A device backing up a folder asks which sizes of its new files the account stores any content
of, and reads and hashes (to ask by hash) only the files whose size is among them: a file of a
size the account has never stored cannot be stored already, so it is sent straight away, hashed
once, by the server.  The index answers that question without reading every content of the
account.

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-28 14:05:00
"""

from __future__ import annotations

from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_contents_account_size", "contents", ["account_id", "size"])


def downgrade() -> None:
    op.drop_index("ix_contents_account_size", table_name="contents")
