"""Handlers in case order: which runs of an ordered handler may start now, which come late, which are blocked.

A job carries its event's case and its place in the case's history (``case_at``, the activity's time; ties by
job ``id``, the arrival order). An ordered handler's run for a job may start only when no job of the same case
that comes first still needs that handler, and no job of the case is running it: its case is then processed one
event at a time while every other case flows. A job that comes first is unfinished while it is queued, retrying
(``failed``) or ``dead`` and not released by an operator. A run is *late* when the handler already succeeded for
a job of the case that comes after it (the later event arrived, and was handled, first).

On PostgreSQL the claim takes a transaction-scoped advisory lock per case before it checks, so that two workers
claiming jobs of one case at the same moment see each other's claims; SQLite's single writer does that already.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, and_, exists, false, or_, select, text, true, update
from sqlalchemy.orm import aliased

from casehooks.store.tables import HandlerRow, JobAttemptRow, JobRow

# The first key of the two-part advisory lock: the case locks of the queue, apart from any other lock.
_LOCK_SPACE = 0x0CA5E


def needs(job: Any, handler: str, types: Sequence[str]) -> Any:
    """The job still needs ``handler``: it names it, or it is not dispatched yet and its type is one it takes."""
    undispatched = job.pending.is_(None)
    if "*" not in types:
        undispatched = and_(undispatched, job.event_type.in_(list(types)))
    return or_(job.pending.contains(f"|{handler}|", autoescape=True), undispatched)


def _comes_before(first: Any, job: Any) -> Any:
    return or_(first.case_at < job.case_at, and_(first.case_at == job.case_at, first.id < job.id))


# Every state a job that holds back its case can be in (the index on case and status then skips finished jobs).
_HOLDING = ("queued", "failed", "running", "dead")


def _unfinished(job: Any) -> Any:
    return or_(job.status.in_(("queued", "failed")), and_(job.status == "dead", job.released == false()))


def held_back(job: Any, handler: str, types: Sequence[str], batch: Sequence[int] = ()) -> Any:
    """``job``'s run of ``handler`` must wait: a job of its case comes first and is unfinished, or is running
    (the jobs of the claim in progress, ``batch``, are sorted out by the claimer itself)."""
    other = aliased(JobRow)
    running: Any = other.status == "running"
    if batch:
        running = and_(running, other.id.not_in(list(batch)))
    return exists().where(
        other.case_id == job.case_id,
        other.status.in_(_HOLDING),
        other.id != job.id,
        needs(other, handler, types),
        or_(running, and_(_comes_before(other, job), _unfinished(other))),
    )


def claimable(ordered: Mapping[str, Sequence[str]]) -> list[Any]:
    """Conditions under which a job names one of these ordered handlers and may run it now."""
    return [
        and_(
            JobRow.pending.contains(f"|{name}|", autoescape=True),
            or_(JobRow.case_id.is_(None), ~held_back(JobRow, name, types)),
        )
        for name, types in ordered.items()
    ]


def dispatchable(ordered: Mapping[str, Sequence[str]], plain_types: Collection[str]) -> Any:
    """An undispatched job is worth claiming unless all this worker would run for it are ordered handlers that
    must wait: claiming it only to hand it back would cost a claim per waiting job. ``plain_types`` are the
    event types the worker's unordered handlers take."""
    if not ordered or "*" in plain_types:
        return true()
    matching = [
        (true() if "*" in types else JobRow.event_type.in_(list(types)), name, types) for name, types in ordered.items()
    ]
    return or_(
        JobRow.case_id.is_(None),
        JobRow.event_type.in_(list(plain_types)) if plain_types else false(),
        ~or_(*(match for match, _, _ in matching)),
        *(and_(match, ~held_back(JobRow, name, types)) for match, name, types in matching),
    )


def lock_cases(connection: Connection, case_ids: Iterable[str]) -> None:
    """Serialise claims of the same cases until this transaction ends (PostgreSQL; SQLite has one writer)."""
    if connection.dialect.name != "postgresql":
        return
    for case_id in sorted(set(case_ids)):
        connection.execute(
            text("SELECT pg_advisory_xact_lock(:space, hashtext(:case_id))"),
            {"space": _LOCK_SPACE, "case_id": case_id},
        )


def held(
    connection: Connection, job_ids: Sequence[int], handler: str, types: Sequence[str], batch: Sequence[int]
) -> set[int]:
    """Those of the claimed ``job_ids`` that must leave ``handler`` for later (checked after ``lock_cases``)."""
    job = aliased(JobRow)
    found = connection.execute(
        select(job.id).where(job.id.in_(list(job_ids)), job.case_id.is_not(None), held_back(job, handler, types, batch))
    )
    return {int(job_id) for job_id in found.scalars()}


def late(connection: Connection, job_ids: Sequence[int], handler: str) -> set[int]:
    """Those of ``job_ids`` for which ``handler`` already succeeded for a job of the same case that comes after."""
    job, later = aliased(JobRow), aliased(JobRow)
    handled_later = (
        exists()
        .where(later.case_id == job.case_id, _comes_before(job, later))
        .where(
            exists().where(
                JobAttemptRow.job_id == later.id,
                JobAttemptRow.handler == handler,
                JobAttemptRow.outcome == "succeeded",
            )
        )
    )
    found = connection.execute(select(job.id).where(job.id.in_(list(job_ids)), job.case_id.is_not(None), handled_later))
    return {int(job_id) for job_id in found.scalars()}


def ordered_registry(connection: Connection) -> dict[str, list[str]]:
    """The registered handlers that run in case order, with their event types."""
    rows = connection.execute(select(HandlerRow.name, HandlerRow.event_types).where(HandlerRow.ordered == true()))
    return {str(row.name): list(row.event_types or []) for row in rows}


def blocked_by(connection: Connection, job_ids: Sequence[int]) -> dict[int, int]:
    """For each waiting job of ``job_ids`` held back behind a failing job, that job: the earliest job of its case
    before it that needs the same ordered handler and is retrying or dead (not released), the one to look at,
    skip or dead-letter. A job merely waiting its turn behind healthy ones is not blocked."""
    ordered = ordered_registry(connection) if job_ids else {}
    found: dict[int, int] = {}
    job, first = aliased(JobRow), aliased(JobRow)
    for job_id in job_ids:
        heads = []
        for name, types in ordered.items():
            head = connection.execute(
                select(first.id, first.case_at)
                .select_from(job)
                .join(first, and_(first.case_id == job.case_id, first.id != job.id))
                .where(
                    job.id == job_id,
                    job.status.in_(("queued", "failed")),
                    needs(job, name, types),
                    needs(first, name, types),
                    _comes_before(first, job),
                    or_(first.status == "failed", and_(first.status == "dead", first.released == false())),
                )
                .order_by(first.case_at, first.id)
                .limit(1)
            ).first()
            if head is not None:
                heads.append((head.case_at, head.id))
        if heads:
            found[job_id] = int(min(heads)[1])
    return found


@dataclass(frozen=True, slots=True)
class Released:
    """What an operator's release did to a job: its state before and after."""

    job_id: int
    before: str
    after: str


def skip(connection: Connection, job_id: int, now: datetime) -> Released | None:
    """Give up a job's remaining handlers for good (``skipped``), releasing its case; ``None`` if it is running
    or finished."""
    before = connection.execute(select(JobRow.status).where(JobRow.id == job_id)).scalar()
    if before not in ("queued", "failed", "dead"):
        return None
    connection.execute(
        update(JobRow)
        .where(JobRow.id == job_id, JobRow.status == before)
        .values(status="skipped", finished_at=now, locked_by=None, locked_until=None, pending="|", released=True)
    )
    return Released(job_id, str(before), "skipped")


def dead_letter(connection: Connection, job_id: int, now: datetime) -> Released | None:
    """Move a job to the dead letters at once and let its case's later jobs pass it (it stays replayable);
    ``None`` if it is running or finished."""
    before = connection.execute(select(JobRow.status).where(JobRow.id == job_id)).scalar()
    if before not in ("queued", "failed", "dead"):
        return None
    connection.execute(
        update(JobRow)
        .where(JobRow.id == job_id, JobRow.status == before)
        .values(status="dead", finished_at=now, locked_by=None, locked_until=None, released=True)
    )
    return Released(job_id, str(before), "dead")


def list_jobs(
    connection: Connection,
    *,
    case_id: str | None = None,
    status: str | None = None,
    blocked: bool = False,
    late_only: bool = False,
    limit: int = 200,
) -> list[dict[str, Any]]:
    """Jobs with their place in case order: ``blocked_by`` (the job holding each back) and ``late`` (some
    handler ran it late). A case's jobs come in case order; otherwise the newest first."""
    query = select(
        JobRow.id,
        JobRow.event_id,
        JobRow.event_type,
        JobRow.case_id,
        JobRow.case_at,
        JobRow.status,
        JobRow.attempts,
        JobRow.run_at,
        JobRow.last_error,
    )
    if case_id is not None:
        query = query.where(JobRow.case_id == case_id).order_by(JobRow.case_at, JobRow.id)
    else:
        query = query.order_by(JobRow.id.desc())
    if status is not None:
        query = query.where(JobRow.status == status)
    if blocked:
        query = query.where(JobRow.status.in_(("queued", "failed")), JobRow.case_id.is_not(None))
    if late_only:
        query = query.where(exists().where(JobAttemptRow.job_id == JobRow.id, JobAttemptRow.late == true()))
    rows = [dict(row._mapping) for row in connection.execute(query.limit(limit if not blocked else None))]
    ids = [int(row["id"]) for row in rows]
    holders = blocked_by(connection, [row["id"] for row in rows if row["status"] in ("queued", "failed")])
    late_ids = (
        set(
            connection.execute(
                select(JobAttemptRow.job_id).where(JobAttemptRow.job_id.in_(ids), JobAttemptRow.late == true())
            ).scalars()
        )
        if ids
        else set()
    )
    for row in rows:
        row["blocked_by"] = holders.get(int(row["id"]))
        row["late"] = int(row["id"]) in late_ids
    if blocked:
        rows = [row for row in rows if row["blocked_by"] is not None][:limit]
    return rows
