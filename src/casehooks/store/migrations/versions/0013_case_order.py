"""handlers in case order: jobs know their case and its order, runs record lateness, handlers their ordering

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-23 10:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("jobs", schema=None) as batch_op:
        batch_op.add_column(sa.Column("case_id", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("case_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("released", sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.create_index("ix_jobs_case_order", ["case_id", "status", "case_at", "id"], unique=False)
    with op.batch_alter_table("job_attempts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("late", sa.Boolean(), nullable=False, server_default=sa.false()))
    with op.batch_alter_table("handlers", schema=None) as batch_op:
        batch_op.add_column(sa.Column("ordered", sa.Boolean(), nullable=False, server_default=sa.false()))
    # Jobs still to run learn their case; their order is their arrival (the activity's time is sealed in the body).
    op.execute(
        "UPDATE jobs SET case_id = (SELECT events.case_id FROM events WHERE events.id = jobs.event_id), "
        "case_at = (SELECT events.received_at FROM events WHERE events.id = jobs.event_id) "
        "WHERE status IN ('queued', 'failed', 'running')"
    )


def downgrade() -> None:
    with op.batch_alter_table("handlers", schema=None) as batch_op:
        batch_op.drop_column("ordered")
    with op.batch_alter_table("job_attempts", schema=None) as batch_op:
        batch_op.drop_column("late")
    with op.batch_alter_table("jobs", schema=None) as batch_op:
        batch_op.drop_index("ix_jobs_case_order")
        batch_op.drop_column("released")
        batch_op.drop_column("case_at")
        batch_op.drop_column("case_id")
