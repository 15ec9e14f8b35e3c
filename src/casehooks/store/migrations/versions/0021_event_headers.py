"""event headers: the request headers of an accepted event, credentials left out, sealed beside its body

Revision ID: 0021
Revises: 0020
Create Date: 2026-11-23 14:55:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.add_column(sa.Column("headers_sealed", sa.LargeBinary(), nullable=True))
        batch_op.add_column(sa.Column("headers_dek_id", sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.drop_column("headers_dek_id")
        batch_op.drop_column("headers_sealed")
