"""The transactional outbox: rows written with each change, claimed by workers under a lease.

A claim is one ``UPDATE ... WHERE id IN (SELECT ... FOR UPDATE SKIP LOCKED) RETURNING``: on PostgreSQL
concurrent workers skip each other's rows; on SQLite the clause compiles away and the database's single writer
serialises claims. A worker that dies leaves its rows leased; when the lease expires another worker (or the
restarted one) claims them again. That is what makes delivery at-least-once.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import ColumnElement, Connection, and_, bindparam, insert, or_, select, update

from casehooks.sender.tables import endpoints, outbox

PENDING = "pending"
DELIVERED = "delivered"
DEAD = "dead"


@dataclass(frozen=True, slots=True)
class Claimed:
    """An outbox row a worker holds until ``lease_until``; ``attempt`` counts this try."""

    id: int
    activity_id: str
    endpoint_id: str
    attempt: int


def enqueue(conn: Connection, activity_id: str, event_type: str, now: float) -> int:
    """Add one row per endpoint that wants ``event_type``; return how many. Call inside the change's transaction.

    Disabled endpoints get their rows too: disabling stops sending, not recording, so re-enabling an endpoint
    delivers everything that happened meanwhile.
    """
    rows = conn.execute(select(endpoints.c.id, endpoints.c.event_types)).all()
    wanted = [row.id for row in rows if not row.event_types or event_type in row.event_types]
    if wanted:
        conn.execute(
            insert(outbox),
            [
                {"activity_id": activity_id, "endpoint_id": e, "state": PENDING, "attempts": 0, "due_at": now}
                for e in wanted
            ],
        )
    return len(wanted)


def claim(conn: Connection, *, now: float, lease_seconds: float, owner: str, limit: int) -> list[Claimed]:
    """Lease up to ``limit`` due rows of enabled endpoints to ``owner``."""
    due = (
        select(outbox.c.id)
        .join(endpoints, endpoints.c.id == outbox.c.endpoint_id)
        .where(
            outbox.c.state == PENDING,
            outbox.c.due_at <= now,
            or_(outbox.c.lease_until.is_(None), outbox.c.lease_until < now),
            endpoints.c.enabled.is_(True),
        )
        .order_by(outbox.c.due_at, outbox.c.id)
        .limit(limit)
        .with_for_update(skip_locked=True, of=outbox)
    )
    rows = conn.execute(
        update(outbox)
        .where(outbox.c.id.in_(due.scalar_subquery()))
        .values(lease_until=now + lease_seconds, lease_owner=owner, attempts=outbox.c.attempts + 1)
        .returning(outbox.c.id, outbox.c.activity_id, outbox.c.endpoint_id, outbox.c.attempts)
    ).all()
    return [Claimed(row.id, row.activity_id, row.endpoint_id, row.attempts) for row in rows]


def _held(row_id: int, owner: str) -> ColumnElement[bool]:
    return and_(outbox.c.id == row_id, outbox.c.lease_owner == owner, outbox.c.state == PENDING)


def mark_delivered(conn: Connection, row_id: int, owner: str, *, now: float, status: int) -> bool:
    """Record success; False if the lease was lost meanwhile (another worker owns the row now)."""
    result = conn.execute(
        update(outbox)
        .where(_held(row_id, owner))
        .values(state=DELIVERED, delivered_at=now, lease_until=None, last_status=status, last_error=None)
    )
    return result.rowcount == 1


def mark_delivered_many(conn: Connection, delivered: list[tuple[int, int]], owner: str, *, now: float) -> None:
    """Record success for ``(row id, status)`` pairs in one statement; rows whose lease was lost are left alone."""
    if delivered:
        conn.execute(
            update(outbox)
            .where(outbox.c.id == bindparam("row_id"), outbox.c.lease_owner == owner, outbox.c.state == PENDING)
            .values(
                state=DELIVERED, delivered_at=now, lease_until=None, last_status=bindparam("status"), last_error=None
            ),
            [{"row_id": row_id, "status": status} for row_id, status in delivered],
        )


def mark_retry(
    conn: Connection, row_id: int, owner: str, *, due_at: float, status: int | None, error: str | None
) -> bool:
    """Release the row to be tried again at ``due_at``."""
    result = conn.execute(
        update(outbox)
        .where(_held(row_id, owner))
        .values(due_at=due_at, lease_until=None, lease_owner=None, last_status=status, last_error=error)
    )
    return result.rowcount == 1


def mark_dead(conn: Connection, row_id: int, owner: str, *, status: int | None, error: str | None) -> bool:
    """Give the row up: no more automatic tries (a manual redelivery revives it)."""
    result = conn.execute(
        update(outbox)
        .where(_held(row_id, owner))
        .values(state=DEAD, lease_until=None, lease_owner=None, last_status=status, last_error=error)
    )
    return result.rowcount == 1


def redeliver(conn: Connection, row_id: int, *, now: float) -> bool:
    """Make a row due now again, whatever its state (a delivered row is sent once more)."""
    result = conn.execute(
        update(outbox)
        .where(outbox.c.id == row_id)
        .values(state=PENDING, due_at=now, lease_until=None, lease_owner=None, attempts=0)
    )
    return result.rowcount == 1
