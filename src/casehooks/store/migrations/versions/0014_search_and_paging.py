"""search and paging: the blind index of people's names, emails and phones, and an index per list filter

Revision ID: 0014
Revises: 0011
Create Date: 2026-11-23 10:50:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "search_terms",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("person_id", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(8), nullable=False),
        sa.Column("digest", sa.String(64), nullable=False),
        sa.Column("key_id", sa.String(64), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_search_terms")),
        sa.UniqueConstraint("person_id", "kind", "digest", "key_id", name=op.f("uq_search_terms_person_id")),
    )
    op.create_index(op.f("ix_search_terms_person_id"), "search_terms", ["person_id"])
    op.create_index("ix_search_terms_digest", "search_terms", ["digest", "key_id"])
    op.create_index("ix_events_type_seq", "events", ["event_type", "seq"])
    op.create_index("ix_events_case_seq", "events", ["case_id", "seq"])
    op.create_index("ix_cases_status_updated", "cases", ["status", "updated_at"])
    # People already stored are indexed by `casehooks search reindex` (it needs the master key, this does not).


def downgrade() -> None:
    op.drop_index("ix_cases_status_updated", table_name="cases")
    op.drop_index("ix_events_case_seq", table_name="events")
    op.drop_index("ix_events_type_seq", table_name="events")
    op.drop_table("search_terms")
