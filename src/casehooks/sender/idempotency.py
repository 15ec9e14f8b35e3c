"""Idempotency keys for the sandbox's create calls: a retried request gets the first answer, not a second change.

The key and the answer are written in the same transaction as the change, so either both exist or neither does.
Two concurrent requests with one key race on the key's primary key: the loser's transaction (its change
included) rolls back, and it answers what the winner stored.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import Connection, Engine, insert, select
from sqlalchemy.exc import IntegrityError

from casehooks.errors import CasehooksError
from casehooks.sender.tables import idempotency_keys

JsonAnswer = dict[str, Any]


class IdempotencyConflict(CasehooksError):
    """An idempotency key was reused for a different call."""

    def __init__(self) -> None:
        super().__init__("idempotency key already used for another call")


def _stored(conn: Connection, key: str, scope: str) -> JsonAnswer | None:
    row = conn.execute(
        select(idempotency_keys.c.scope, idempotency_keys.c.response).where(idempotency_keys.c.key == key)
    ).one_or_none()
    if row is None:
        return None
    if row.scope != scope:
        raise IdempotencyConflict()
    answer: JsonAnswer = dict(row.response)
    return answer


def run_once(
    engine: Engine, key: str | None, scope: str, now: float, change: Callable[[Connection], JsonAnswer]
) -> tuple[JsonAnswer, bool]:
    """Run ``change`` in a transaction unless ``key`` was seen for ``scope``; return the answer and whether it
    ran now. Without a key the change always runs."""
    if key is None:
        with engine.begin() as conn:
            return change(conn), True
    with engine.connect() as conn:
        found = _stored(conn, key, scope)
    if found is not None:
        return found, False
    try:
        with engine.begin() as conn:
            answer = change(conn)
            conn.execute(insert(idempotency_keys).values(key=key, scope=scope, response=answer, created_at=now))
        return answer, True
    except IntegrityError:
        with engine.connect() as conn:
            found = _stored(conn, key, scope)
        if found is None:
            raise
        return found, False
