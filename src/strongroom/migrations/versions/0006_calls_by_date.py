"""calls by date (exports page through an account's calls in date order)

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-28 02:30:00
"""

from __future__ import annotations

from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_calls_account_date", "calls", ["account_id", "date"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_calls_account_date", table_name="calls")
