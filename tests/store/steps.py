"""The work SQLite does for a read, counted in virtual-machine steps: a unit no machine's load can change, so a
test can say a page costs the same over a long history as over a short one."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from sqlalchemy import Connection

from casehooks.store import Store

T = TypeVar("T")


def sqlite_steps(store: Store, read: Callable[[Connection], T]) -> tuple[int, T]:
    """The steps SQLite took to answer ``read`` on a connection of ``store``, and what it answered."""
    steps = 0

    def step() -> int:
        nonlocal steps
        steps += 1
        return 0

    with store.engine.connect() as connection:
        raw: Any = connection.connection.dbapi_connection
        raw.set_progress_handler(step, 1)
        try:
            answered = read(connection)
        finally:
            raw.set_progress_handler(None, 1)
    return steps, answered
