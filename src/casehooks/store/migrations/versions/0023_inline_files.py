"""inline files: a small attachment file sealed in its ``blobs`` row instead of the blob store

Revision ID: 0023
Revises: 0022
Create Date: 2026-11-24 01:40:00

``object_key`` becomes optional: a row has it (the file is in the blob store) or ``content_sealed`` (the file is
here, sealed under the row's own data key like an object). Rows stored before keep their objects.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0023"
down_revision = "0022"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("blobs", schema=None) as batch_op:
        batch_op.add_column(sa.Column("content_sealed", sa.LargeBinary(), nullable=True))
        batch_op.alter_column("object_key", existing_type=sa.String(length=200), nullable=True)


def downgrade() -> None:
    inline = op.get_bind().execute(sa.text("SELECT count(*) FROM blobs WHERE object_key IS NULL")).scalar_one()
    if inline:
        # Their only copy is in the column this would drop: refuse rather than lose files.
        raise RuntimeError(f"{inline} files are kept in the database: downgrading would lose them")
    with op.batch_alter_table("blobs", schema=None) as batch_op:
        batch_op.alter_column("object_key", existing_type=sa.String(length=200), nullable=False)
        batch_op.drop_column("content_sealed")
