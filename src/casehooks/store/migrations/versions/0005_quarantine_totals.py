"""quarantine totals: a running count of rows and kept body bytes, so a refusal never scans held rows

Revision ID: 0005
Revises: 0002
Create Date: 2026-11-23 07:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "quarantine_totals",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("row_count", sa.BigInteger(), nullable=False),
        sa.Column("body_bytes", sa.BigInteger(), nullable=False),
        sa.Column("overflow", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_quarantine_totals")),
    )
    # The totals start from what the quarantine already holds (one scan, here and never on the request path).
    op.execute(
        "INSERT INTO quarantine_totals (id, row_count, body_bytes, overflow) "
        "SELECT 1, COUNT(*), COALESCE(SUM(CASE WHEN status = 'held' THEN body_kept_size ELSE 0 END), 0), 0 "
        "FROM quarantine"
    )


def downgrade() -> None:
    op.drop_table("quarantine_totals")
