"""handler registry: jobs name the handlers they still need; workers and their handler sets are recorded

Revision ID: 0010
Revises: 0006
Create Date: 2026-11-23 08:20:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "handlers",
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("event_types", sa.JSON(), nullable=False),
        sa.Column("registered_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_handlers")),
    )
    op.create_table(
        "workers",
        sa.Column("id", sa.String(length=80), nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("handlers", sa.JSON(), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_workers")),
    )
    with op.batch_alter_table("workers", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_workers_last_seen_at"), ["last_seen_at"], unique=False)
    with op.batch_alter_table("jobs", schema=None) as batch_op:
        batch_op.add_column(sa.Column("event_type", sa.String(length=80), nullable=True))
        batch_op.add_column(sa.Column("pending", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("needs_documents", sa.Boolean(), nullable=False, server_default=sa.false()))
        # A worker without handlers looks only for document downloads: without the index it would scan every
        # job waiting for a handler at each poll.
        batch_op.create_index(batch_op.f("ix_jobs_needs_documents"), ["needs_documents"], unique=False)
    with op.batch_alter_table("job_attempts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("detail_sealed", sa.LargeBinary(), nullable=True))
        batch_op.add_column(sa.Column("dek_id", sa.String(length=64), nullable=True))
        batch_op.create_foreign_key(batch_op.f("fk_job_attempts_dek_id_data_keys"), "data_keys", ["dek_id"], ["id"])
    # Jobs queued before the registry existed are dispatched like new ones: they need their event's type, and
    # those whose event still waits for a document link keep that work.
    op.execute("UPDATE jobs SET event_type = (SELECT events.event_type FROM events WHERE events.id = jobs.event_id)")
    op.execute(
        "UPDATE jobs SET needs_documents = TRUE WHERE status IN ('queued', 'failed', 'running') AND EXISTS "
        "(SELECT 1 FROM attachments WHERE attachments.event_id = jobs.event_id "
        "AND attachments.content_status = 'pending')"
    )


def downgrade() -> None:
    with op.batch_alter_table("job_attempts", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_job_attempts_dek_id_data_keys"), type_="foreignkey")
        batch_op.drop_column("dek_id")
        batch_op.drop_column("detail_sealed")
    with op.batch_alter_table("jobs", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_jobs_needs_documents"))
        batch_op.drop_column("needs_documents")
        batch_op.drop_column("pending")
        batch_op.drop_column("event_type")
    with op.batch_alter_table("workers", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_workers_last_seen_at"))
    op.drop_table("workers")
    op.drop_table("handlers")
