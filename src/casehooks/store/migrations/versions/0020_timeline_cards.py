"""timeline cards: comments and files no activity carried are marked, and looked up by event, so a case's
timeline page reads only its own rows however long the case

Revision ID: 0020
Revises: 0015
Create Date: 2026-11-23 13:50:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0020"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    for table in ("comments", "attachments"):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column("own_card", sa.Boolean(), nullable=True))
            batch_op.create_index(batch_op.f(f"ix_{table}_event_id"), ["event_id"], unique=False)
    # What the timeline asked of every row on every page until now, asked once: did an activity of the same
    # event and case carry it (and, for a file, a comment of the case)?
    op.execute(
        "UPDATE comments SET own_card = NOT EXISTS (SELECT 1 FROM activities a"
        " WHERE a.case_id = comments.case_id AND a.event_id = comments.event_id)"
    )
    op.execute(
        "UPDATE attachments SET own_card = NOT EXISTS (SELECT 1 FROM activities a"
        " WHERE a.case_id = attachments.case_id AND a.event_id = attachments.event_id)"
        " AND NOT EXISTS (SELECT 1 FROM comments c"
        " WHERE c.id = attachments.comment_id AND c.case_id = attachments.case_id)"
    )
    for table in ("comments", "attachments"):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.create_index(f"ix_{table}_case_card", ["case_id", "own_card", "created_at"], unique=False)


def downgrade() -> None:
    for table in ("comments", "attachments"):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_index(f"ix_{table}_case_card")
            batch_op.drop_index(batch_op.f(f"ix_{table}_event_id"))
            batch_op.drop_column("own_card")
