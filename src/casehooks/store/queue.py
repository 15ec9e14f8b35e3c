"""The durable job queue in the database: one job per accepted event, run by any number of workers.

States: ``queued`` → ``running`` → ``succeeded``; a failed run goes back to ``failed`` with a later ``run_at``
(exponential backoff with full jitter) and, after ``max_attempts``, to ``dead`` until replayed. A claim is a
lease: a worker killed mid-job leaves a lease that expires, and the job runs again.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, and_, func, insert, or_, select, update

from casehooks.store.notify import notify_jobs
from casehooks.store.tables import JobAttemptRow, JobRow

RUNNABLE = ("queued", "failed")


def backoff(attempt: int, rng: random.Random, *, base: float = 2.0, cap: float = 3600.0) -> timedelta:
    """Delay before retry number ``attempt`` (1-based): full jitter over ``min(cap, base * 2**(attempt-1))``."""
    ceiling = min(cap, base * 2 ** max(0, attempt - 1))
    return timedelta(seconds=rng.uniform(ceiling / 2, ceiling))


@dataclass(frozen=True, slots=True)
class ClaimedJob:
    id: int
    event_id: str
    attempt: int


def claim(connection: Connection, worker_id: str, now: datetime, limit: int, lease: timedelta) -> list[ClaimedJob]:
    """Take up to ``limit`` due jobs for ``worker_id``. On PostgreSQL, concurrent claimers skip each other's rows."""
    due = or_(
        and_(JobRow.status.in_(RUNNABLE), JobRow.run_at <= now),
        and_(JobRow.status == "running", JobRow.locked_until < now),
    )
    ids = (
        connection.execute(
            select(JobRow.id)
            .where(due)
            .order_by(JobRow.run_at, JobRow.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        .scalars()
        .all()
    )
    if not ids:
        return []
    rows = connection.execute(
        update(JobRow)
        .where(JobRow.id.in_(ids), due)
        .values(status="running", locked_by=worker_id, locked_until=now + lease, attempts=JobRow.attempts + 1)
        .returning(JobRow.id, JobRow.event_id, JobRow.attempts)
    ).all()
    return [ClaimedJob(row.id, row.event_id, row.attempts) for row in sorted(rows, key=lambda row: row.id)]


def record_attempt(
    connection: Connection,
    job: ClaimedJob,
    handler: str,
    outcome: str,
    error: str | None,
    started_at: datetime,
    duration_ms: float,
) -> None:
    connection.execute(
        insert(JobAttemptRow).values(
            job_id=job.id,
            attempt=job.attempt,
            handler=handler,
            outcome=outcome,
            error=error,
            started_at=started_at,
            duration_ms=duration_ms,
        )
    )


def succeed(connection: Connection, job: ClaimedJob, worker_id: str, now: datetime) -> None:
    connection.execute(
        update(JobRow)
        .where(JobRow.id == job.id, JobRow.locked_by == worker_id)
        .values(status="succeeded", locked_by=None, locked_until=None, finished_at=now, last_error=None)
    )


def succeed_many(connection: Connection, finished: Sequence[ClaimedJob], worker_id: str, now: datetime) -> None:
    """Finish many jobs at once (those with nothing to run)."""
    if finished:
        connection.execute(
            update(JobRow)
            .where(JobRow.id.in_([job.id for job in finished]), JobRow.locked_by == worker_id)
            .values(status="succeeded", locked_by=None, locked_until=None, finished_at=now, last_error=None)
        )


def fail(
    connection: Connection,
    job: ClaimedJob,
    worker_id: str,
    now: datetime,
    error: str,
    max_attempts: int,
    rng: random.Random,
    retry_base: float = 2.0,
) -> str:
    """Record a failed run; returns the new state (``failed`` with a retry time, or ``dead``)."""
    dead = job.attempt >= max_attempts
    values: dict[str, Any] = {
        "status": "dead" if dead else "failed",
        "locked_by": None,
        "locked_until": None,
        "last_error": error,
    }
    if dead:
        values["finished_at"] = now
    else:
        values["run_at"] = now + backoff(job.attempt, rng, base=retry_base)
    connection.execute(update(JobRow).where(JobRow.id == job.id, JobRow.locked_by == worker_id).values(**values))
    return str(values["status"])


def requeue(
    connection: Connection, now: datetime, *, job_ids: Sequence[int] = (), event_ids: Sequence[str] = ()
) -> int:
    """Queue jobs again at once (replay), with a fresh attempt count; returns how many."""
    conditions = []
    if job_ids:
        conditions.append(JobRow.id.in_(job_ids))
    if event_ids:
        conditions.append(JobRow.event_id.in_(event_ids))
    if not conditions:
        return 0
    result = connection.execute(
        update(JobRow)
        .where(or_(*conditions), JobRow.status != "running")
        .values(status="queued", attempts=0, run_at=now, finished_at=None, locked_by=None, locked_until=None)
    )
    if result.rowcount:
        notify_jobs(connection)
    return int(result.rowcount)


def depth(connection: Connection) -> dict[str, int]:
    """How many jobs are in each state."""
    rows = connection.execute(select(JobRow.status, func.count()).group_by(JobRow.status)).all()
    return {str(status): int(count) for status, count in rows}
