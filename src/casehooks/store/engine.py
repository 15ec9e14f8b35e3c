"""Database engines: SQLite (WAL, one writer) for the embedded mode, PostgreSQL at scale; same code on both."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import URL, make_url

from casehooks.errors import ConfigurationError

WRITE_OPTION = "casehooks_write"


def _normalise(url: str) -> str:
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres"):
        return parsed.set(drivername="postgresql+psycopg").render_as_string(hide_password=False)
    return url


def make_engine(url: str, *, pool_size: int = 8) -> Engine:
    """An engine for ``sqlite:///path`` or ``postgresql://...``.

    SQLite runs in WAL mode with ``synchronous=FULL``: a commit is on disk before the receiver answers 2xx,
    even across a power cut, and readers never block the writer.
    """
    try:
        parsed = make_url(_normalise(url))
    except Exception as exc:  # sqlalchemy raises ArgumentError for malformed URLs
        raise ConfigurationError("the database URL cannot be read") from exc
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = _sqlite_engine(parsed)
        # One connection writes. Threads of this process queue for it in the pool instead of meeting SQLite's
        # lock, whose busy handler sleeps in steps of up to 100 ms: that alone capped ingest at ~150 events/s.
        write = _sqlite_engine(parsed, pool_size=1, max_overflow=0, pool_timeout=60)
        engine._casehooks_writer = write.execution_options(**{WRITE_OPTION: True})  # type: ignore[attr-defined]
        return engine
    if parsed.get_backend_name() == "postgresql":
        return create_engine(parsed, pool_size=pool_size, max_overflow=pool_size, pool_pre_ping=True)
    raise ConfigurationError(f"unsupported database: {parsed.get_backend_name()}")


def _sqlite_engine(url: URL, **pool: Any) -> Engine:
    engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False}, **pool)
    event.listen(engine, "connect", _sqlite_pragmas)
    event.listen(engine, "begin", _sqlite_begin)
    return engine


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # The driver's own transaction handling is switched off so that a writing transaction can BEGIN IMMEDIATE
    # (take the write lock at its start) instead of failing with "database is locked" halfway through.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
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
