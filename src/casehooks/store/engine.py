"""Database engines: SQLite (WAL, one writer) for the embedded mode, PostgreSQL at scale; same code on both."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url

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
        engine = create_engine(parsed, connect_args={"timeout": 30, "check_same_thread": False})
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "begin", _sqlite_begin)
        return engine
    if parsed.get_backend_name() == "postgresql":
        return create_engine(parsed, pool_size=pool_size, max_overflow=pool_size, pool_pre_ping=True)
    raise ConfigurationError(f"unsupported database: {parsed.get_backend_name()}")


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
    """The same engine, for transactions that write: on SQLite they take the write lock when they begin."""
    return engine.execution_options(**{WRITE_OPTION: True})


def is_postgresql(engine: Engine) -> bool:
    return engine.dialect.name == "postgresql"
