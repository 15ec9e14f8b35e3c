"""The durable job queue in the database: one job per accepted event, run by any number of workers.

States: ``queued`` → ``running`` → ``succeeded``; a failed run goes back to ``failed`` with a later ``run_at``
(exponential backoff with full jitter) and, after ``max_attempts``, to ``dead`` until replayed. A claim is a
lease, renewed by the holder's heartbeat: a worker killed mid-job leaves a lease that expires, and the job runs
again.

A job is dispatched against the handler registry (every handler some worker registered) into the list of
handlers it still needs (``pending``). Workers claim only jobs that name one of their own handlers, run those,
and hand the job back for the rest: a job succeeds only when no handler it needs is left.
"""

from __future__ import annotations

import random
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, and_, bindparam, func, insert, or_, select, true, update

from casehooks.store import ordering
from casehooks.store.notify import notify_jobs
from casehooks.store.tables import HandlerRow, JobAttemptRow, JobRow

RUNNABLE = ("queued", "failed")


def backoff(attempt: int, rng: random.Random, *, base: float = 2.0, cap: float = 3600.0) -> timedelta:
    """Delay before retry number ``attempt`` (1-based): full jitter over ``min(cap, base * 2**(attempt-1))``."""
    ceiling = min(cap, base * 2 ** max(0, attempt - 1))
    return timedelta(seconds=rng.uniform(ceiling / 2, ceiling))


NO_HANDLERS = "|"


def pending_text(names: Iterable[str]) -> str:
    """The ``pending`` column for these handler names (``|`` when none is left)."""
    ordered = sorted(set(names))
    return "|" + "".join(f"{name}|" for name in ordered) if ordered else NO_HANDLERS


def pending_names(text: str | None) -> list[str]:
    return [name for name in (text or "").split("|") if name]


@dataclass(frozen=True, slots=True)
class ClaimedJob:
    id: int
    event_id: str
    attempt: int
    event_type: str = ""
    # The handlers still to run; None until the job is dispatched against the registry.
    pending: tuple[str, ...] | None = None
    needs_documents: bool = False
    # Handlers in case order: the event's case and time, the ordered handlers this claim must leave for later
    # (an earlier job of the case still needs them) and those it runs late.
    case_id: str | None = None
    case_at: datetime | None = None
    held: tuple[str, ...] = ()
    late: tuple[str, ...] = ()


def claim(
    connection: Connection,
    worker_id: str,
    now: datetime,
    limit: int,
    lease: timedelta,
    handlers: Sequence[str] | None = None,
    ordered: Mapping[str, Sequence[str]] | None = None,
    plain_types: Collection[str] = ("*",),
) -> list[ClaimedJob]:
    """Take up to ``limit`` due jobs for ``worker_id``. On PostgreSQL, concurrent claimers skip each other's rows.

    ``handlers`` are the names the worker has: it takes jobs naming one of them, jobs not yet dispatched (when
    it has any handler at all) and jobs with a document to download. ``None`` takes every due job (tests and
    tools that look at the queue itself). ``ordered`` are those of its handlers that run in case order (with
    their event types): a job naming only those is taken only when its case lets it run (``ordering``), and so
    is an undispatched one that only they would run (``plain_types``: the types its other handlers take).
    """
    ordered = ordered or {}
    due = or_(
        and_(JobRow.status.in_(RUNNABLE), JobRow.run_at <= now),
        and_(JobRow.status == "running", JobRow.locked_until < now),
    )
    condition: Any = due
    if handlers is not None:
        wanted: list[Any] = [JobRow.needs_documents == true()]
        if handlers:
            wanted.append(and_(JobRow.pending.is_(None), ordering.dispatchable(ordered, plain_types)))
            wanted.extend(
                JobRow.pending.contains(f"|{name}|", autoescape=True) for name in handlers if name not in ordered
            )
            wanted.extend(ordering.claimable({name: ordered[name] for name in handlers if name in ordered}))
        condition = and_(due, or_(*wanted))
    ids = (
        connection.execute(
            select(JobRow.id)
            .where(condition)
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
        .returning(
            JobRow.id,
            JobRow.event_id,
            JobRow.attempts,
            JobRow.event_type,
            JobRow.pending,
            JobRow.needs_documents,
            JobRow.case_id,
            JobRow.case_at,
        )
    ).all()
    return [
        ClaimedJob(
            row.id,
            row.event_id,
            row.attempts,
            row.event_type or "",
            tuple(pending_names(row.pending)) if row.pending is not None else None,
            bool(row.needs_documents),
            row.case_id,
            row.case_at,
        )
        for row in sorted(rows, key=lambda row: row.id)
    ]


def order_runs(
    connection: Connection, claimed: Sequence[ClaimedJob], ordered: Mapping[str, Sequence[str]]
) -> list[ClaimedJob]:
    """Mark, for dispatched claimed jobs, the ordered handlers they must leave for later and those they run late.

    Within one claim, only the first job of a case (in case order) runs a given ordered handler.
    """
    concerned = sorted(
        (job for job in claimed if job.case_id is not None and any(name in ordered for name in job.pending or ())),
        key=lambda job: (job.case_at is None, job.case_at or datetime.min, job.id),
    )
    if not concerned:
        return list(claimed)
    ordering.lock_cases(connection, [job.case_id for job in concerned if job.case_id is not None])
    batch = [job.id for job in claimed]
    # One query per ordered handler for the whole claim, not one per job: a claim stays a few statements.
    names = sorted({name for job in concerned for name in job.pending or () if name in ordered})
    ids = [job.id for job in concerned]
    waiting = {name: ordering.held(connection, ids, name, ordered[name], batch) for name in names}
    late_for = {name: ordering.late(connection, ids, name) for name in names}
    taken: set[tuple[str | None, str]] = set()
    marked: dict[int, ClaimedJob] = {}
    for job in concerned:
        held: list[str] = []
        late: list[str] = []
        for name in job.pending or ():
            if name not in ordered:
                continue
            if (job.case_id, name) in taken or job.id in waiting[name]:
                held.append(name)
            elif job.id in late_for[name]:
                late.append(name)
            taken.add((job.case_id, name))
        marked[job.id] = replace(job, held=tuple(held), late=tuple(late))
    return [marked.get(job.id, job) for job in claimed]


def registry(connection: Connection) -> dict[str, list[str]]:
    """Every registered handler and the event types it takes (``*`` for every type)."""
    rows = connection.execute(select(HandlerRow.name, HandlerRow.event_types)).all()
    return {str(row.name): list(row.event_types or []) for row in rows}


def needed(registered: dict[str, list[str]], event_type: str) -> list[str]:
    """The registered handlers an event of ``event_type`` needs."""
    return sorted(name for name, types in registered.items() if event_type in types or "*" in types)


def dispatch(
    connection: Connection, claimed: Sequence[ClaimedJob], registered: dict[str, list[str]], worker_id: str
) -> list[ClaimedJob]:
    """Give undispatched jobs (``pending`` NULL) the handlers they need; returns every job with its handlers."""
    result: list[ClaimedJob] = []
    fresh: list[dict[str, Any]] = []
    for job in claimed:
        if job.pending is not None:
            result.append(job)
            continue
        names = needed(registered, job.event_type)
        fresh.append({"job_id": job.id, "pending": pending_text(names)})
        result.append(replace(job, pending=tuple(names)))
    if fresh:
        connection.execute(
            update(JobRow)
            .where(JobRow.id == bindparam("job_id"), JobRow.locked_by == worker_id)
            .values(pending=bindparam("pending")),
            fresh,
        )
    return result


def hand_back(
    connection: Connection,
    job: ClaimedJob,
    worker_id: str,
    now: datetime,
    pending: Sequence[str] | None,
    *,
    needs_documents: bool = False,
) -> None:
    """Return a job this worker has done its part of to the queue for the workers that have the rest (``None``:
    still to be dispatched); the claim does not count as an attempt."""
    connection.execute(
        update(JobRow)
        .where(JobRow.id == job.id, JobRow.locked_by == worker_id)
        .values(
            status="queued",
            locked_by=None,
            locked_until=None,
            run_at=now,
            attempts=JobRow.attempts - 1,
            pending=None if pending is None else pending_text(pending),
            needs_documents=needs_documents,
        )
    )


def renew(connection: Connection, job_ids: Sequence[int], worker_id: str, until: datetime) -> int:
    """Extend the leases this worker holds (its heartbeat); returns how many it still holds."""
    if not job_ids:
        return 0
    result = connection.execute(
        update(JobRow)
        .where(JobRow.id.in_(job_ids), JobRow.locked_by == worker_id, JobRow.status == "running")
        .values(locked_until=until)
    )
    return int(result.rowcount)


def release(connection: Connection, job_ids: Sequence[int], worker_id: str, now: datetime) -> None:
    """Give up leases at once (a worker shutting down): the jobs run again without waiting for expiry."""
    if job_ids:
        connection.execute(
            update(JobRow)
            .where(JobRow.id.in_(job_ids), JobRow.locked_by == worker_id, JobRow.status == "running")
            .values(status="queued", locked_by=None, locked_until=None, run_at=now, attempts=JobRow.attempts - 1)
        )


def record_attempt(
    connection: Connection,
    job: ClaimedJob,
    handler: str,
    outcome: str,
    error: str | None,
    started_at: datetime,
    duration_ms: float,
    detail: tuple[str, bytes] | None = None,
    *,
    late: bool = False,
) -> None:
    """Record one handler run; ``detail`` is the sealed message and traceback of a failure, with its data key."""
    connection.execute(
        insert(JobAttemptRow).values(
            late=late,
            dek_id=detail[0] if detail else None,
            detail_sealed=detail[1] if detail else None,
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
    succeed_many(connection, [job], worker_id, now)


def succeed_many(connection: Connection, finished: Sequence[ClaimedJob], worker_id: str, now: datetime) -> None:
    """Finish many jobs at once (those with nothing to run)."""
    if finished:
        connection.execute(
            update(JobRow)
            .where(JobRow.id.in_([job.id for job in finished]), JobRow.locked_by == worker_id)
            .values(
                status="succeeded",
                locked_by=None,
                locked_until=None,
                finished_at=now,
                last_error=None,
                pending=NO_HANDLERS,
                needs_documents=False,
            )
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
    pending: Sequence[str] | None = None,
) -> str:
    """Record a failed run; returns the new state (``failed`` with a retry time, or ``dead``). ``pending`` is
    what the job still needs (the failed handlers and those of other workers)."""
    dead = job.attempt >= max_attempts
    values: dict[str, Any] = {
        "status": "dead" if dead else "failed",
        "locked_by": None,
        "locked_until": None,
        "last_error": error,
    }
    if pending is not None:
        values["pending"] = pending_text(pending)
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
        # Dispatched again against today's registry; handlers that already succeeded for it are not rerun.
        .values(
            status="queued",
            attempts=0,
            run_at=now,
            finished_at=None,
            locked_by=None,
            locked_until=None,
            pending=None,
        )
    )
    if result.rowcount:
        notify_jobs(connection)
    return int(result.rowcount)


def depth(connection: Connection) -> dict[str, int]:
    """How many jobs are in each state."""
    rows = connection.execute(select(JobRow.status, func.count()).group_by(JobRow.status)).all()
    return {str(status): int(count) for status, count in rows}
