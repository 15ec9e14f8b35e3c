"""Database engines: SQLite (WAL, one writer) for the embedded mode, PostgreSQL at scale; same code on both.

Every engine is bounded by one timeout (``CASEHOOKS_DATABASE_TIMEOUT_SECONDS``): connecting, waiting for a pooled
connection, for SQLite's write lock, and on PostgreSQL each statement and each lock wait. A database that stops
answering altogether (a hung server) is bounded above this layer, where requests wait (receiver/intake.py).
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import URL, make_url

from casehooks.errors import ConfigurationError
from casehooks.sqlite import enter_wal

WRITE_OPTION = "casehooks_write"
DEFAULT_TIMEOUT_SECONDS = 5.0
# A session left inside a transaction (its process hung or cut off) holds its locks until this ends it.
_MIN_IDLE_IN_TRANSACTION_SECONDS = 60.0


def _normalise(url: str) -> str:
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres"):
        return parsed.set(drivername="postgresql+psycopg").render_as_string(hide_password=False)
    return url


def make_engine(url: str, *, pool_size: int = 8, timeout: float = DEFAULT_TIMEOUT_SECONDS) -> Engine:
    """An engine for ``sqlite:///path`` or ``postgresql://...``, every wait in it bounded by ``timeout`` seconds.

    SQLite runs in WAL mode with ``synchronous=FULL``: a commit is on disk before the receiver answers 2xx,
    even across a power cut, and readers never block the writer.
    """
    if not timeout > 0:
        raise ConfigurationError("the database timeout must be a positive number of seconds")
    try:
        parsed = make_url(_normalise(url))
    except Exception as exc:  # sqlalchemy raises ArgumentError for malformed URLs
        raise ConfigurationError("the database URL cannot be read") from exc
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = _sqlite_engine(parsed, timeout)
        # One connection writes. Threads of this process queue for it in the pool instead of meeting SQLite's
        # lock, whose busy handler sleeps in steps of up to 100 ms: that alone capped ingest at ~150 events/s.
        write = _sqlite_engine(parsed, timeout, pool_size=1, max_overflow=0, pool_timeout=timeout)
        engine._casehooks_writer = write.execution_options(**{WRITE_OPTION: True})  # type: ignore[attr-defined]
    elif parsed.get_backend_name() == "postgresql":
        engine = create_engine(
            parsed,
            pool_size=pool_size,
            max_overflow=pool_size,
            pool_pre_ping=True,
            pool_timeout=timeout,
            connect_args=postgresql_timeouts(timeout),
        )
    else:
        raise ConfigurationError(f"unsupported database: {parsed.get_backend_name()}")
    engine._casehooks_timeout = timeout  # type: ignore[attr-defined]
    return engine


def postgresql_timeouts(timeout: float) -> dict[str, Any]:
    """libpq connection parameters that bound connecting, every statement and every lock wait by ``timeout``,
    and notice a peer that vanished (keepalives) instead of waiting on a dead socket."""
    millis = max(1, round(timeout * 1000))
    idle = max(_MIN_IDLE_IN_TRANSACTION_SECONDS, 12 * timeout)
    return {
        "connect_timeout": max(2, math.ceil(timeout)),  # libpq's smallest
        "options": (
            f"-c statement_timeout={millis} -c lock_timeout={millis} "
            f"-c idle_in_transaction_session_timeout={round(idle * 1000)}"
        ),
        "keepalives": 1,
        "keepalives_idle": max(1, math.ceil(timeout)),
        "keepalives_interval": max(1, math.ceil(timeout / 3)),
        "keepalives_count": 3,
        "tcp_user_timeout": 2 * millis,
    }


def database_timeout(engine: Engine) -> float:
    """The timeout ``engine`` was made with: how long a caller waits on the database before giving up."""
    return float(getattr(engine, "_casehooks_timeout", DEFAULT_TIMEOUT_SECONDS))


def answers_within(engine: Engine, probe: Callable[[], bool]) -> bool:
    """Run ``probe`` on a thread and wait for it at most the engine's timeout; False if it did not answer.

    A probe of a hung server may never return: while one is still stuck, the next answers False at once instead
    of starting another thread.
    """
    stuck: threading.Event | None = getattr(engine, "_casehooks_probe", None)
    if stuck is not None and not stuck.is_set():
        return False
    done = threading.Event()
    outcome: list[bool] = []

    def run() -> None:
        try:
            outcome.append(probe())
        finally:
            done.set()

    engine._casehooks_probe = done  # type: ignore[attr-defined]
    threading.Thread(target=run, name="casehooks-probe", daemon=True).start()
    return done.wait(database_timeout(engine)) and bool(outcome) and outcome[0]


def _sqlite_engine(url: URL, timeout: float, **pool: Any) -> Engine:
    engine = create_engine(url, connect_args={"timeout": timeout, "check_same_thread": False}, **pool)
    busy_millis = max(1, round(timeout * 1000))

    def pragmas(dbapi_connection: Any, _record: Any) -> None:
        _sqlite_pragmas(dbapi_connection, busy_millis)

    event.listen(engine, "connect", pragmas)
    event.listen(engine, "begin", _sqlite_begin)
    return engine


def _sqlite_pragmas(dbapi_connection: Any, busy_millis: int) -> None:
    # The driver's own transaction handling is switched off so that a writing transaction can BEGIN IMMEDIATE
    # (take the write lock at its start) instead of failing with "database is locked" halfway through.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    # Another process holding the write lock longer than this is an unavailable store (503), not a hang.
    cursor.execute(f"PRAGMA busy_timeout={busy_millis}")
    enter_wal(cursor, busy_millis / 1000)
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def _sqlite_begin(connection: Any) -> None:
    immediate = connection.get_execution_options().get(WRITE_OPTION, False)
    connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


def writer(engine: Engine) -> Engine:
    """The engine for transactions that write: on SQLite, a single connection that takes the write lock when a
    transaction begins; on PostgreSQL, the engine itself."""
    write: Engine | None = getattr(engine, "_casehooks_writer", None)
    return write if write is not None else engine.execution_options(**{WRITE_OPTION: True})


def dispose(engine: Engine) -> None:
    """Close every pooled connection of ``engine`` and of its writer."""
    write: Engine | None = getattr(engine, "_casehooks_writer", None)
    if write is not None:
        write.dispose()
    engine.dispose()


def is_postgresql(engine: Engine) -> bool:
    return engine.dialect.name == "postgresql"
