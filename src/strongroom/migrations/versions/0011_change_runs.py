"""The change log keeps a run of changes in one row

A transaction that creates thousands of objects of one kind (an import batch of 5,000 messages)
recorded one change row each: two B-tree writes per message, and a row built in Python for each.
Now such a run is one row: ``seq`` is its first position, ``run_length`` how many positions it
holds, ``object_id`` the first object and ``more_ids`` the others, packed.  Rows written before
hold one change each (``run_length`` 1), as do single changes from now on.

Downgrading spreads every run back into one row per change.

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-28 16:05:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "changes", sa.Column("run_length", sa.Integer(), nullable=False, server_default="1")
    )
    op.add_column("changes", sa.Column("more_ids", sa.LargeBinary(), nullable=True))


def downgrade() -> None:
    bind = op.get_bind()
    runs = bind.execute(
        sa.text(
            "SELECT account_id, seq, kind, object_id, change, at, more_ids FROM changes "
            "WHERE run_length > 1"
        )
    ).all()
    spread = [
        {"a": a, "s": seq + i, "k": kind, "o": oid, "c": change, "t": at}
        for a, seq, kind, first, change, at, more in runs
        for i, oid in enumerate(
            [first, *(int.from_bytes(more[j : j + 8], "big") for j in range(0, len(more), 8))]
        )
        if i > 0
    ]
    if spread:
        bind.execute(
            sa.text("INSERT INTO changes (account_id, seq, kind, object_id, change, at) "
                    "VALUES (:a, :s, :k, :o, :c, :t)"),
            spread,
        )  # fmt: skip
    op.drop_column("changes", "more_ids")
    op.drop_column("changes", "run_length")
