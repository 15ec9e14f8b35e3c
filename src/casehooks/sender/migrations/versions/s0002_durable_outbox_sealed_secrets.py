"""Disabling on elapsed failure time, secret rotation and idempotent create calls.

Revision ID: s0002
Revises: s0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "s0002"
down_revision = "s0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("endpoints") as batch:
        batch.add_column(sa.Column("failing_since", sa.Float(), nullable=True))
        batch.add_column(sa.Column("next_secret", sa.Text(), nullable=True))
        batch.add_column(sa.Column("next_secret_from", sa.Float(), nullable=True))
    op.create_table(
        "idempotency_keys",
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("scope", sa.String(length=200), nullable=False),
        sa.Column("response", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("key"),
    )


def downgrade() -> None:
    op.drop_table("idempotency_keys")
    with op.batch_alter_table("endpoints") as batch:
        batch.drop_column("next_secret_from")
        batch.drop_column("next_secret")
        batch.drop_column("failing_since")
