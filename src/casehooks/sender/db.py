"""The sandbox's database engine: SQLite (WAL) by default, PostgreSQL by URL; migrated at start."""

from __future__ import annotations

import secrets
from typing import Any

from sqlalchemy import Engine, create_engine, event, insert, select
from sqlalchemy.exc import IntegrityError

from casehooks.sender import migrate
from casehooks.sender.tables import keys
from casehooks.sqlite import enter_wal

LINK_KEY = "document_links"


def open_engine(url: str) -> Engine:
    """An engine for ``url`` with the sandbox's schema migrated to the latest revision."""
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})

        @event.listens_for(engine, "connect")
        def _pragmas(connection: Any, _record: Any) -> None:
            cursor = connection.cursor()
            cursor.execute("PRAGMA busy_timeout=30000")
            enter_wal(cursor, 30)
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.close()

    else:
        engine = create_engine(url, pool_pre_ping=True)
    migrate.upgrade(engine)
    return engine


def link_key(engine: Engine) -> bytes:
    """The key that signs document links: made once, kept in the database so links survive a restart."""
    with engine.begin() as conn:
        found = conn.execute(select(keys.c.value).where(keys.c.name == LINK_KEY)).scalar_one_or_none()
        if found is not None:
            return bytes(found)
    try:
        with engine.begin() as conn:
            conn.execute(insert(keys).values(name=LINK_KEY, value=secrets.token_bytes(32)))
    except IntegrityError:
        pass  # another process made it first
    with engine.begin() as conn:
        return bytes(conn.execute(select(keys.c.value).where(keys.c.name == LINK_KEY)).scalar_one())
