"""case objects: decisions, form answers, assignments, orders, appointments and payment info as rows, and the
links from an activity to the objects it carried (the timeline's cards)

Revision ID: 0012
Revises: 0004
Create Date: 2026-11-23 10:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0004"
branch_labels = None
depends_on = None


def _sealed() -> list[sa.Column[object]]:
    return [
        sa.Column("details_sealed", sa.LargeBinary(), nullable=False),
        sa.Column("dek_id", sa.String(64), sa.ForeignKey("data_keys.id"), nullable=False),
        sa.Column("field_stamps", sa.JSON(), nullable=True),
    ]


def _object_table(name: str, *columns: sa.Column[object], key_length: int = 64) -> None:
    op.create_table(
        name,
        sa.Column("id", sa.String(key_length), nullable=False),
        sa.Column("case_id", sa.String(64), nullable=True),
        sa.Column("last_event_id", sa.String(64), nullable=False),
        *columns,
        *_sealed(),
        sa.PrimaryKeyConstraint("id", name=f"pk_{name}"),
    )
    op.create_index(f"ix_{name}_case_id", name, ["case_id"])


def upgrade() -> None:
    stamp = sa.DateTime(timezone=True)
    _object_table(
        "decisions",
        sa.Column("is_approved", sa.Boolean(), nullable=True),
        sa.Column("is_no_decision", sa.Boolean(), nullable=True),
        sa.Column("is_deleted", sa.Boolean(), nullable=True),
        sa.Column("visit_type", sa.String(80), nullable=True),
        sa.Column("start_date", stamp, nullable=True),
        sa.Column("end_date", stamp, nullable=True),
        sa.Column("created_at", stamp, nullable=True),
        sa.Column("added_by_id", sa.String(64), nullable=True),
        sa.Column("prescription_count", sa.Integer(), nullable=True),
    )
    _object_table(
        "form_answers",
        sa.Column("form_id", sa.String(64), nullable=True),
        sa.Column("question_index", sa.Integer(), nullable=True),
        sa.Column("question_type", sa.String(80), nullable=True),
        sa.Column("is_archived", sa.Boolean(), nullable=True),
        sa.Column("created_at", stamp, nullable=True),
        sa.Column("respondent_id", sa.String(64), nullable=True),
    )
    _object_table(
        "assignments",
        sa.Column("user_id", sa.String(64), nullable=False),
        sa.Column("is_assigned", sa.Boolean(), nullable=True),
        key_length=160,
    )
    _object_table(
        "orders",
        sa.Column("status", sa.String(80), nullable=True),
        sa.Column("tracking_id", sa.String(200), nullable=True),
        sa.Column("created_at", stamp, nullable=True),
    )
    _object_table(
        "appointments",
        sa.Column("status", sa.String(80), nullable=True),
        sa.Column("start_at", stamp, nullable=True),
        sa.Column("end_at", stamp, nullable=True),
        sa.Column("timezone", sa.String(80), nullable=True),
        sa.Column("is_deleted", sa.Boolean(), nullable=True),
        sa.Column("created_at", stamp, nullable=True),
        sa.Column("updated_at", stamp, nullable=True),
    )
    _object_table("payment_info", sa.Column("card_brand", sa.String(80), nullable=True))
    op.create_table(
        "timeline_links",
        sa.Column("activity_id", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("object_id", sa.String(160), nullable=False),
        sa.Column("case_id", sa.String(64), nullable=True),
        sa.PrimaryKeyConstraint("activity_id", "kind", "object_id", name="pk_timeline_links"),
    )
    op.create_index("ix_timeline_links_case_id", "timeline_links", ["case_id"])


def downgrade() -> None:
    op.drop_index("ix_timeline_links_case_id", table_name="timeline_links")
    op.drop_table("timeline_links")
    for name in ("payment_info", "appointments", "orders", "assignments", "form_answers", "decisions"):
        op.drop_index(f"ix_{name}_case_id", table_name=name)
        op.drop_table(name)
