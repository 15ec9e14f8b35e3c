"""blob object index: the files sweep asks, a listed batch at a time, which objects a row names

Revision ID: 0024
Revises: 0023
Create Date: 2026-11-24 04:00:00
"""

from __future__ import annotations

from alembic import op

revision = "0024"
down_revision = "0023"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_blobs_object_key", "blobs", ["object_key"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_blobs_object_key", table_name="blobs")
