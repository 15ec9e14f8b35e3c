"""Migrations against the models, on both engines: from empty to head, and from every revision to the next."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

import pytest
from alembic.script import ScriptDirectory
from sqlalchemy import text

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
