"""field stamps: the platform time each case and person field was set at, so mentions merge field by field

Revision ID: 0004
Revises: 0010
Create Date: 2026-11-23 08:20:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Rows written before have no stamps: the store reads them as set at the row's one stamp.
    with op.batch_alter_table("cases") as batch:
        batch.add_column(sa.Column("field_stamps", sa.JSON(), nullable=True))
    with op.batch_alter_table("people") as batch:
        batch.add_column(sa.Column("field_stamps", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("people") as batch:
        batch.drop_column("field_stamps")
    with op.batch_alter_table("cases") as batch:
        batch.drop_column("field_stamps")
