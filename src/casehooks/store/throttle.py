"""Sign-in throttling in the database, so that every receiver process counts the same wrong passwords.

A subject is an account (``user:<name>``) or a client address (``addr:<ip>``). Wrong passwords are counted
within a window; at the limit the subject is locked until the window has passed again. A lock is checked before
any password is hashed, so a locked subject costs the server one indexed read; an admin lifts an account's lock
with ``casehooks users unlock``.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import Connection, delete, insert, select, update
from sqlalchemy.dialects import postgresql

from casehooks.store.access_tables import SignInThrottleRow
from casehooks.store.engine import is_postgresql


def account_subject(username: str) -> str:
    return f"user:{username[:80]}"


def address_subject(address: str) -> str:
    return f"addr:{address[:100]}"


def locked(connection: Connection, subjects: Sequence[str], now: datetime) -> bool:
    """Whether any of ``subjects`` is locked at ``now``."""
    found = connection.execute(
        select(SignInThrottleRow.subject).where(
            SignInThrottleRow.subject.in_(subjects), SignInThrottleRow.locked_until > now
        )
    ).first()
    return found is not None


def record_failure(connection: Connection, subject: str, *, limit: int, window: timedelta, now: datetime) -> bool:
    """Count one wrong password for ``subject`` inside the caller's write transaction; True if it is now locked."""
    query = select(SignInThrottleRow.__table__).where(SignInThrottleRow.subject == subject)
    postgres = is_postgresql(connection.engine)
    if postgres:
        query = query.with_for_update()
    row = connection.execute(query).first()
    if row is None:
        fresh = {"subject": subject, "failures": 0, "first_failed_at": now, "locked_until": None}
        if postgres:  # two processes may count the first failure at once: one inserts, both then update
            connection.execute(postgresql.insert(SignInThrottleRow).values(fresh).on_conflict_do_nothing())
        else:
            connection.execute(insert(SignInThrottleRow).values(fresh))
        row = connection.execute(query).one()
    if row.locked_until is not None and row.locked_until > now:
        return True  # a lock runs its course: more tries neither count nor extend it
    failures, since = row.failures + 1, row.first_failed_at
    if since + window <= now:
        failures, since = 1, now  # an old run of failures (or an expired lock) no longer counts
    locked_until = now + window if failures >= limit else None
    connection.execute(
        update(SignInThrottleRow)
        .where(SignInThrottleRow.subject == subject)
        .values(failures=failures, first_failed_at=since, locked_until=locked_until)
    )
    return locked_until is not None and locked_until > now


def clear(connection: Connection, subject: str) -> bool:
    """Forget the failures and any lock of ``subject``; True if there was something to forget."""
    return connection.execute(delete(SignInThrottleRow).where(SignInThrottleRow.subject == subject)).rowcount > 0
