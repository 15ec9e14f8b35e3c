import sqlite3
import threading
from pathlib import Path

import pytest

from casehooks.sqlite import enter_wal


def _convert_together(path: Path, connections: int) -> list[BaseException]:
    failures: list[BaseException] = []
    start = threading.Barrier(connections)

    def convert() -> None:
        start.wait()
        try:
            connection = sqlite3.connect(path, timeout=30, isolation_level=None)
            try:
                enter_wal(connection, 30)
                connection.execute("BEGIN IMMEDIATE")
                connection.execute("CREATE TABLE IF NOT EXISTS t (x)")
                connection.execute("COMMIT")
            finally:
                connection.close()
        except BaseException as error:  # collected for the assertion below
            failures.append(error)

    threads = [threading.Thread(target=convert) for _ in range(connections)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return failures


def test_connections_converting_a_new_file_together_all_succeed(tmp_path: Path) -> None:
    # Without the retry, about one round in ten has a connection answered "database is locked" at once.
    for round_ in range(150):
        path = tmp_path / f"{round_}.db"
        assert _convert_together(path, 8) == []
        with sqlite3.connect(path) as check:
            assert check.execute("PRAGMA journal_mode").fetchone() == ("wal",)


def test_a_lock_held_past_the_deadline_is_still_an_error(tmp_path: Path) -> None:
    path = tmp_path / "held.db"
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("CREATE TABLE t (x)")
    holder.execute("BEGIN EXCLUSIVE")
    try:
        waiter = sqlite3.connect(path, timeout=0, isolation_level=None)
        with pytest.raises(sqlite3.OperationalError, match="locked"):
            enter_wal(waiter, 0.2)
        waiter.close()
    finally:
        holder.execute("ROLLBACK")
        holder.close()


def test_other_errors_are_not_retried(tmp_path: Path) -> None:
    connection = sqlite3.connect(tmp_path / "closed.db")
    cursor = connection.cursor()
    cursor.close()
    with pytest.raises(sqlite3.ProgrammingError):
        enter_wal(cursor, 30)
