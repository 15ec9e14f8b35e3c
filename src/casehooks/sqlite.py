"""SQLite files that several threads or processes open at the same moment."""

from __future__ import annotations

import sqlite3
import time
from typing import Any


def enter_wal(connection: Any, timeout: float) -> None:
    """Switch the file of ``connection`` (a connection or a cursor) to write-ahead logging within ``timeout``.

    Connections that convert a new file together get "database is locked" at once, whatever their busy timeout:
    SQLite does not wait on its busy handler for this step. So the switch is tried again until the deadline.
    """
    deadline = time.monotonic() + timeout
    pause = 0.001
    while True:
        try:
            connection.execute("PRAGMA journal_mode=WAL").fetchall()
            return
        except sqlite3.OperationalError as error:
            if not _busy(error) or time.monotonic() >= deadline:
                raise
        time.sleep(pause)
        pause = min(pause * 2, 0.05)


def _busy(error: sqlite3.OperationalError) -> bool:
    code = getattr(error, "sqlite_errorcode", None)
    return code is not None and code & 0xFF in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED)
