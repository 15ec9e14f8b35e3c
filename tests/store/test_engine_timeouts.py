"""Every engine is bounded by the database timeout: a lock held elsewhere is an error in seconds, not a hang."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.exc import OperationalError

from casehooks.errors import ConfigurationError
from casehooks.store import migrate
from casehooks.store.engine import answers_within, database_timeout, dispose, is_postgresql, make_engine, writer
from tests.processes import hold_sqlite_write_lock, wait_for

pytestmark = pytest.mark.integration

TIMEOUT = 0.5


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    made = make_engine(database_url, timeout=TIMEOUT)
    migrate.upgrade(made)
    yield made
    dispose(made)


def test_the_engine_carries_its_timeout(engine: Engine) -> None:
    assert database_timeout(engine) == TIMEOUT


def test_a_timeout_that_is_not_positive_is_refused() -> None:
    with pytest.raises(ConfigurationError):
        make_engine("sqlite:///:memory:", timeout=0)


def test_postgresql_sessions_bound_statements_and_lock_waits(engine: Engine) -> None:
    if not is_postgresql(engine):
        pytest.skip("PostgreSQL session settings")
    with engine.connect() as connection:
        shown = {
            name: connection.execute(text(f"SHOW {name}")).scalar()
            for name in ("statement_timeout", "lock_timeout", "idle_in_transaction_session_timeout")
        }
    assert shown == {
        "statement_timeout": "500ms",
        "lock_timeout": "500ms",
        "idle_in_transaction_session_timeout": "1min",
    }


def test_a_postgresql_statement_past_the_timeout_is_cancelled(engine: Engine) -> None:
    if not is_postgresql(engine):
        pytest.skip("PostgreSQL statement timeout")
    with pytest.raises(OperationalError, match="statement timeout"), engine.connect() as connection:
        connection.execute(text("SELECT pg_sleep(60)"))


def test_a_row_locked_past_the_timeout_fails_the_writer_instead_of_waiting(engine: Engine) -> None:
    if not is_postgresql(engine):
        pytest.skip("row locks are PostgreSQL's; SQLite's write lock is the next test")
    with writer(engine).begin() as holder:
        holder.execute(text("SELECT * FROM quarantine_totals FOR UPDATE"))
        with pytest.raises(OperationalError, match=r"(lock|statement) timeout"), writer(engine).begin() as waiter:
            waiter.execute(text("UPDATE quarantine_totals SET overflow = overflow + 1"))


def test_a_sqlite_write_lock_held_by_another_process_is_an_error_not_a_hang(engine: Engine, tmp_path: Path) -> None:
    if is_postgresql(engine):
        pytest.skip("SQLite's write lock")
    holder = hold_sqlite_write_lock(tmp_path / "data" / "casehooks.db")
    try:
        with pytest.raises(OperationalError, match="locked"), writer(engine).begin() as connection:
            connection.execute(text("SELECT 1"))
    finally:
        holder.communicate("", timeout=120)
    with writer(engine).begin() as connection:
        assert connection.execute(text("SELECT 1")).scalar() == 1


def test_a_probe_that_hangs_answers_false_and_is_not_started_twice(engine: Engine) -> None:
    release = threading.Event()
    started: list[int] = []

    def hung() -> bool:
        started.append(1)
        return release.wait(120)

    assert answers_within(engine, hung) is False
    assert answers_within(engine, hung) is False
    assert len(started) == 1
    release.set()
    wait_for(lambda: answers_within(engine, lambda: True), timeout=120)
    assert len(started) == 1
