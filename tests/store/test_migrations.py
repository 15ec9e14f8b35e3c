"""Migrations against the models, on both engines: from empty to head, and from every revision to the next."""

from __future__ import annotations

import random
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

import pytest
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, text

from casehooks.store import migrate
from casehooks.store.engine import dispose, make_engine

pytestmark = pytest.mark.integration


def revisions_in_order() -> list[str]:
    """Every revision, oldest first (whatever revisions later teams add)."""
    scripts = ScriptDirectory.from_config(migrate._config())
    return [script.revision for script in reversed(list(scripts.walk_revisions()))]


def test_upgrade_from_empty_reaches_head_and_matches_the_models(database_url: str) -> None:
    engine = make_engine(database_url)
    try:
        assert migrate.current_revision(engine) is None
        migrate.upgrade(engine)
        assert migrate.current_revision(engine) == migrate.head_revision()
        assert migrate.pending_changes(engine) == []
    finally:
        dispose(engine)


def test_upgrade_step_by_step_from_every_previous_revision(database_url: str) -> None:
    engine = make_engine(database_url)
    try:
        for revision in revisions_in_order():
            migrate.upgrade(engine, revision)
            assert migrate.current_revision(engine) == revision
        migrate.upgrade(engine)
        assert migrate.pending_changes(engine) == []
    finally:
        dispose(engine)


def test_upgrade_twice_is_harmless(database_url: str) -> None:
    engine = make_engine(database_url)
    try:
        migrate.upgrade(engine)
        migrate.upgrade(engine)
        assert migrate.current_revision(engine) == migrate.head_revision()
    finally:
        dispose(engine)


def test_processes_starting_together_migrate_once(database_url: str) -> None:
    engines = [make_engine(database_url) for _ in range(4)]
    try:
        with ThreadPoolExecutor(len(engines)) as pool:
            list(pool.map(migrate.upgrade, engines))
        assert migrate.current_revision(engines[0]) == migrate.head_revision()
    finally:
        for engine in engines:
            dispose(engine)


def test_timeline_cards_are_marked_from_what_each_row_was_carried_by(database_url: str) -> None:
    # Revision 0020 asks once, of the rows stored before it, what the timeline asked of every row on every page.
    engine = make_engine(database_url)
    try:
        migrate.upgrade(engine, "0015")
        stamp = datetime(2025, 1, 1, tzinfo=UTC)
        with engine.begin() as connection:
            connection.execute(
                text("INSERT INTO data_keys (id, master_key_id, wrapped, created_at) VALUES ('k', 'm', :w, :t)"),
                {"w": b"x", "t": stamp},
            )
            connection.execute(
                text(
                    "INSERT INTO activities (id, case_id, event_id, values_sealed, dek_id)"
                    " VALUES ('a1', 'case', 'e1', :v, 'k')"
                ),
                {"v": b"x"},
            )
            for comment_id, event_id in (("announced", "e1"), ("alone", "e2"), ("other-case", "e1")):
                connection.execute(
                    text(
                        "INSERT INTO comments (id, case_id, event_id, has_phi_forms, text_sealed, dek_id)"
                        " VALUES (:id, :case, :event, false, :v, 'k')"
                    ),
                    {
                        "id": comment_id,
                        "case": "elsewhere" if comment_id == "other-case" else "case",
                        "event": event_id,
                        "v": b"x",
                    },
                )
            for file_id, event_id, comment_id in (
                ("with-activity", "e1", None),
                ("in-comment", "e2", "alone"),
                ("loose", "e3", None),
            ):
                connection.execute(
                    text(
                        "INSERT INTO attachments"
                        " (id, case_id, comment_id, event_id, content_status, details_sealed, dek_id)"
                        " VALUES (:id, 'case', :comment, :event, 'absent', :v, 'k')"
                    ),
                    {"id": file_id, "comment": comment_id, "event": event_id, "v": b"x"},
                )
        migrate.upgrade(engine)
        with engine.connect() as connection:
            comments = dict(connection.execute(text("SELECT id, own_card FROM comments")).all())
            files = dict(connection.execute(text("SELECT id, own_card FROM attachments")).all())
        assert comments == {"announced": False, "alone": True, "other-case": True}
        assert files == {"with-activity": False, "in-comment": False, "loose": True}
    finally:
        dispose(engine)


_RECOUNT = (
    "SELECT case_id, count(*) FROM ("
    "SELECT case_id FROM activities WHERE case_id IS NOT NULL"
    " UNION ALL SELECT case_id FROM comments WHERE case_id IS NOT NULL AND own_card"
    " UNION ALL SELECT case_id FROM attachments WHERE case_id IS NOT NULL AND own_card"
    ") AS entries GROUP BY case_id"
)


def _kept_counts(connection: Connection) -> dict[str, int]:
    rows = connection.execute(text("SELECT case_id, entries FROM timeline_counts WHERE entries <> 0")).all()
    return dict(rows)


def _insert_entries(connection: Connection, rows: list[tuple[str, str, str | None, bool | None]]) -> None:
    # (table, id, case_id, own_card); activities have no own_card.
    for table, row_id, case_id, own_card in rows:
        if table == "activities":
            connection.execute(
                text(
                    "INSERT INTO activities (id, case_id, event_id, values_sealed, dek_id)"
                    " VALUES (:id, :case, 'e', :v, 'k') ON CONFLICT (id) DO NOTHING"
                ),
                {"id": row_id, "case": case_id, "v": b"x"},
            )
        elif table == "comments":
            connection.execute(
                text(
                    "INSERT INTO comments (id, case_id, event_id, has_phi_forms, text_sealed, dek_id, own_card)"
                    " VALUES (:id, :case, 'e', false, :v, 'k', :own) ON CONFLICT (id) DO NOTHING"
                ),
                {"id": row_id, "case": case_id, "v": b"x", "own": own_card},
            )
        else:
            connection.execute(
                text(
                    "INSERT INTO attachments (id, case_id, event_id, content_status, details_sealed, dek_id, own_card)"
                    " VALUES (:id, :case, 'e', 'absent', :v, 'k', :own) ON CONFLICT (id) DO NOTHING"
                ),
                {"id": row_id, "case": case_id, "v": b"x", "own": own_card},
            )


def _data_key(connection: Connection) -> None:
    connection.execute(
        text("INSERT INTO data_keys (id, master_key_id, wrapped, created_at) VALUES ('k', 'm', :w, :t)"),
        {"w": b"x", "t": datetime(2025, 1, 1, tzinfo=UTC)},
    )


def test_timeline_counts_start_from_the_rows_stored_before_them(database_url: str) -> None:
    engine = make_engine(database_url)
    try:
        migrate.upgrade(engine, "0021")
        with engine.begin() as connection:
            _data_key(connection)
            _insert_entries(
                connection,
                [
                    ("activities", "a1", "one", None),
                    ("activities", "a2", "one", None),
                    ("activities", "a3", None, None),
                    ("comments", "c1", "one", True),
                    ("comments", "c2", "one", False),
                    ("comments", "c3", "two", None),
                    ("attachments", "f1", "two", True),
                    ("attachments", "f2", None, True),
                ],
            )
        migrate.upgrade(engine)
        with engine.connect() as connection:
            assert _kept_counts(connection) == {"one": 3, "two": 1}
    finally:
        dispose(engine)


def test_timeline_counts_stay_exact_through_every_kind_of_write_at_head(database_url: str) -> None:
    # Whatever writes the rows (and whatever later revision rebuilds a table), the count the database keeps
    # equals a count of the rows: inserts, inserts a conflict skipped, deletes, and rows moved between cases or
    # on and off their own card.
    engine = make_engine(database_url)
    rng = random.Random(22)
    try:
        migrate.upgrade(engine)
        with engine.begin() as connection:
            _data_key(connection)
        for round_ in range(6):
            with engine.begin() as connection:
                rows = [
                    (
                        rng.choice(["activities", "comments", "attachments"]),
                        f"r{rng.randrange(120)}",  # repeated ids: some inserts are skipped by the conflict
                        rng.choice(["one", "two", "three", None]),
                        rng.choice([True, False, None]),
                    )
                    for _ in range(80)
                ]
                _insert_entries(connection, rows)
                for table in ("activities", "comments", "attachments"):
                    connection.execute(text(f"DELETE FROM {table} WHERE id = :id"), {"id": f"r{rng.randrange(120)}"})
                    connection.execute(
                        text(f"UPDATE {table} SET case_id = :case WHERE id = :id"),
                        {"case": rng.choice(["one", "four", None]), "id": f"r{rng.randrange(120)}"},
                    )
                for table in ("comments", "attachments"):
                    connection.execute(
                        text(f"UPDATE {table} SET own_card = :own WHERE id = :id"),
                        {"own": rng.choice([True, False, None]), "id": f"r{rng.randrange(120)}"},
                    )
            with engine.connect() as connection:
                recounted: dict[str, int] = dict(connection.execute(text(_RECOUNT)).all())
                assert _kept_counts(connection) == recounted, f"round {round_}"
                assert recounted, "the rounds wrote no entries at all"
    finally:
        dispose(engine)
