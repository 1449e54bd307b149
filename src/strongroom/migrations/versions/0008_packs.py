"""Packs: many sealed chunks in one stored object

One object per chunk made every stored MiB cost about three file creations, renames and new
shard folders (on S3, three PUTs); a pack holds a whole staged batch.  Existing chunks keep their
own objects (``pack_id`` NULL) and are read as before.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-28 10:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "packs",
        sa.Column(
            "account_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("pack_id", sa.String(length=64), nullable=False),
        sa.Column("stored_size", sa.BigInteger(), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("retired_at", sa.BigInteger(), nullable=True),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name=op.f("fk_packs_account_id_accounts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("account_id", "pack_id", name=op.f("pk_packs")),
    )
    with op.batch_alter_table("chunks") as batch:
        batch.add_column(sa.Column("pack_id", sa.String(length=64), nullable=True))
        batch.add_column(sa.Column("pack_offset", sa.BigInteger(), nullable=True))
        batch.create_index("ix_chunks_account_pack", ["account_id", "pack_id"])


def downgrade() -> None:
    with op.batch_alter_table("chunks") as batch:
        batch.drop_index("ix_chunks_account_pack")
        batch.drop_column("pack_offset")
        batch.drop_column("pack_id")
    op.drop_table("packs")
