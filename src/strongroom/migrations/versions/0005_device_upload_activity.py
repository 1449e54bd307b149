"""device upload activity

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-29 10:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("devices", schema=None) as batch_op:
        batch_op.add_column(sa.Column("last_upload_at", sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column("last_upload", sa.JSON(), nullable=True))
        batch_op.add_column(
            sa.Column("uploaded_messages", sa.BigInteger(), server_default="0", nullable=False)
        )


def downgrade() -> None:
    with op.batch_alter_table("devices", schema=None) as batch_op:
        batch_op.drop_column("uploaded_messages")
        batch_op.drop_column("last_upload")
        batch_op.drop_column("last_upload_at")
