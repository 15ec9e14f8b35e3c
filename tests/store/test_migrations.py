"""Migrations against the models, on both engines: from empty to head, and from every revision to the next."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest
from alembic.script import ScriptDirectory

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
