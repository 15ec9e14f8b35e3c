"""timeline counts: each case's number of timeline entries, kept by the database itself as rows come and go, so
a timeline page's total costs one row's read however long the case

Revision ID: 0022
Revises: 0021
Create Date: 2026-11-23 19:40:00

Triggers keep the count, so every writer (ingest one event at a time or a batch at once, a reprocess, a bulk
load by SQL) keeps it exact, and an insert that a conflict skipped counts nothing. An entry is an activity of a
case, or a comment or file of a case marked ``own_card`` (the rows ``store/timeline.py`` pages through).
On SQLite a table rebuilt by a later batch migration loses its triggers: such a migration must create them again
(``create_triggers``); tests/store/test_migrations.py checks that head has them.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0022"
down_revision = "0021"
branch_labels = None
depends_on = None

# Each table on a timeline, and the condition under which one of its rows (NEW or OLD) is an entry.
ENTRIES = {
    "activities": "{row}.case_id IS NOT NULL",
    "comments": "{row}.case_id IS NOT NULL AND {row}.own_card",
    "attachments": "{row}.case_id IS NOT NULL AND {row}.own_card",
}
_ADD = (
    "INSERT INTO timeline_counts (case_id, entries) VALUES (NEW.case_id, 1)"
    " ON CONFLICT (case_id) DO UPDATE SET entries = timeline_counts.entries + 1"
)
_REMOVE = "UPDATE timeline_counts SET entries = entries - 1 WHERE case_id = OLD.case_id"


def create_triggers(table: str) -> None:
    """The triggers that count ``table``'s entries (idempotent on neither engine: drop them first if present)."""
    new, old = (ENTRIES[table].format(row=row) for row in ("NEW", "OLD"))
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            f"CREATE FUNCTION {table}_timeline_count() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN"
            f" IF TG_OP IN ('UPDATE', 'DELETE') AND {old} THEN {_REMOVE}; END IF;"
            f" IF TG_OP IN ('UPDATE', 'INSERT') AND {new} THEN {_ADD}; END IF;"
            " RETURN NULL; END $$"
        )
        op.execute(
            f"CREATE TRIGGER {table}_timeline_count AFTER INSERT OR DELETE OR UPDATE OF case_id"
            f"{', own_card' if 'own_card' in new else ''} ON {table}"
            f" FOR EACH ROW EXECUTE FUNCTION {table}_timeline_count()"
        )
        return
    columns = "case_id, own_card" if "own_card" in new else "case_id"
    op.execute(f"CREATE TRIGGER {table}_counted AFTER INSERT ON {table} WHEN {new} BEGIN {_ADD}; END")
    op.execute(f"CREATE TRIGGER {table}_uncounted AFTER DELETE ON {table} WHEN {old} BEGIN {_REMOVE}; END")
    op.execute(
        f"CREATE TRIGGER {table}_recounted AFTER UPDATE OF {columns} ON {table} BEGIN"
        f" {_REMOVE} AND {old}; INSERT INTO timeline_counts (case_id, entries) SELECT NEW.case_id, 1 WHERE {new}"
        " ON CONFLICT (case_id) DO UPDATE SET entries = timeline_counts.entries + 1; END"
    )


def drop_triggers(table: str) -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"DROP TRIGGER IF EXISTS {table}_timeline_count ON {table}")
        op.execute(f"DROP FUNCTION IF EXISTS {table}_timeline_count()")
        return
    for suffix in ("counted", "uncounted", "recounted"):
        op.execute(f"DROP TRIGGER IF EXISTS {table}_{suffix}")


def upgrade() -> None:
    op.create_table(
        "timeline_counts",
        sa.Column("case_id", sa.String(length=64), nullable=False),
        sa.Column("entries", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("case_id", name=op.f("pk_timeline_counts")),
    )
    entries = " UNION ALL ".join(
        f"SELECT case_id FROM {table} WHERE {condition.format(row=table)}" for table, condition in ENTRIES.items()
    )
    op.execute(
        f"INSERT INTO timeline_counts (case_id, entries) SELECT case_id, count(*) FROM ({entries}) AS entries"
        " GROUP BY case_id"
    )
    for table in ENTRIES:
        create_triggers(table)


def downgrade() -> None:
    for table in ENTRIES:
        drop_triggers(table)
    op.drop_table("timeline_counts")
