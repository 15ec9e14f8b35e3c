"""The sandbox's migrations against its tables, on SQLite and PostgreSQL, and from a database made before them."""

from __future__ import annotations

import subprocess
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import create_engine, insert, select

from casehooks.sender import migrate
from casehooks.sender.db import open_engine
from casehooks.sender.sealing import PREFIX, sandbox_keyring, seal_clear_secrets, secret_box
from casehooks.sender.tables import endpoints

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]


def test_migrations_agree_with_the_tables(database_url: str) -> None:
    if database_url.startswith("sqlite:///"):
        Path(database_url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    engine = open_engine(database_url)
    try:
        assert migrate.current_revision(engine) == migrate.head_revision()
        assert migrate.pending_changes(engine) == []
        migrate.upgrade(engine)  # a second start changes nothing
        assert migrate.pending_changes(engine) == []
    finally:
        engine.dispose()


def test_a_database_from_before_migrations_is_upgraded_and_its_secrets_sealed(tmp_path: Path) -> None:
    old_tables = subprocess.run(
        ["git", "show", "998b22e:src/casehooks/sender/tables.py"], cwd=ROOT, capture_output=True, text=True
    )
    if old_tables.returncode != 0:
        pytest.skip("the pre-migration tables are not in this checkout's history")
    namespace: dict[str, object] = {}
    exec(compile(old_tables.stdout, "old_tables", "exec"), namespace)
    url = f"sqlite:///{tmp_path / 'sandbox.db'}"
    old = create_engine(url)
    namespace["metadata"].create_all(old)  # type: ignore[attr-defined]
    with old.begin() as conn:
        conn.execute(
            insert(namespace["endpoints"]).values(  # type: ignore[arg-type]
                id="e1",
                url="http://127.0.0.1:1/hook",
                secret="clear-secret",
                document_format="BASE64",
                event_types=[],
                enabled=True,
                consecutive_failures=0,
                created_at=datetime.now(UTC),
            )
        )
    old.dispose()
    engine = open_engine(url)
    assert migrate.current_revision(engine) == migrate.head_revision()
    assert migrate.pending_changes(engine) == []
    box = secret_box(engine, sandbox_keyring(None, tmp_path))
    assert seal_clear_secrets(engine, box) == 1
    with engine.connect() as conn:
        stored = conn.execute(select(endpoints.c.secret)).scalar_one()
    assert stored.startswith(PREFIX) and box.open(stored, "e1", "secret") == "clear-secret"
    assert seal_clear_secrets(engine, box) == 0
    engine.dispose()
