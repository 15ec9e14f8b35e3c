"""Why handlers failed: one failed run with its sealed message and traceback, and failures grouped.

The error's type is plain; the message and traceback may quote patient data, so they are opened only for a
caller that asks with ``reveal=True`` (the worker sealed them, bound to the job, attempt and handler).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, func, select

from casehooks.errors import NotFound
from casehooks.store.tables import EventRow, JobAttemptRow, JobRow
from casehooks.store.vault import Vault

UNRESOLVED = ("failed", "dead")


def _next_retry(status: str, run_at: Any) -> Any:
    return run_at if status == "failed" else None


def failure(connection: Connection, vault: Vault, attempt_id: int, *, reveal: bool = False) -> dict[str, Any]:
    """One handler run with its job and event; ``detail`` (message and traceback) only with ``reveal``."""
    row = connection.execute(
        select(
            JobAttemptRow.id,
            JobAttemptRow.job_id,
            JobAttemptRow.attempt,
            JobAttemptRow.handler,
            JobAttemptRow.outcome,
            JobAttemptRow.error,
            JobAttemptRow.started_at,
            JobAttemptRow.duration_ms,
            JobAttemptRow.detail_sealed,
            JobAttemptRow.dek_id,
            JobRow.event_id,
            JobRow.status.label("job_status"),
            JobRow.attempts.label("job_attempts"),
            JobRow.run_at,
            EventRow.event_type,
        )
        .join(JobRow, JobRow.id == JobAttemptRow.job_id)
        .join(EventRow, EventRow.id == JobRow.event_id)
        .where(JobAttemptRow.id == attempt_id)
    ).first()
    if row is None:
        raise NotFound("handler run", str(attempt_id))
    shown = {key: value for key, value in row._mapping.items() if key not in ("detail_sealed", "dek_id", "run_at")}
    shown["next_retry"] = _next_retry(row.job_status, row.run_at)
    shown["has_detail"] = row.detail_sealed is not None
    shown["detail"] = None
    if reveal and row.detail_sealed is not None and row.dek_id is not None:
        aad = f"job_attempts:{row.job_id}:{row.attempt}:{row.handler}".encode()
        shown["detail"] = vault.open(row.dek_id, row.detail_sealed, aad).decode("utf-8", "replace")
    return shown


def failure_groups(connection: Connection) -> list[dict[str, Any]]:
    """Jobs still failed or dead, grouped by the handler that failed them and its error, largest group first."""
    jobs = func.count(func.distinct(JobAttemptRow.job_id))
    rows = connection.execute(
        select(
            JobAttemptRow.handler,
            JobAttemptRow.error,
            jobs.label("jobs"),
            func.max(JobAttemptRow.started_at).label("last_at"),
            func.max(JobAttemptRow.id).label("latest"),
        )
        .join(JobRow, JobRow.id == JobAttemptRow.job_id)
        .where(JobAttemptRow.outcome == "failed", JobRow.status.in_(UNRESOLVED))
        .group_by(JobAttemptRow.handler, JobAttemptRow.error)
        .order_by(jobs.desc(), JobAttemptRow.handler)
    ).all()
    return [dict(row._mapping) for row in rows]


def recent_failures(connection: Connection, *, limit: int = 100, before: int | None = None) -> list[dict[str, Any]]:
    """The latest failed runs of jobs still failed or dead, newest first (older than run ``before`` when given),
    with the next retry time."""
    query = (
        select(
            JobAttemptRow.id,
            JobAttemptRow.job_id,
            JobAttemptRow.attempt,
            JobAttemptRow.handler,
            JobAttemptRow.error,
            JobAttemptRow.started_at,
            JobRow.event_id,
            JobRow.status.label("job_status"),
            JobRow.run_at,
            EventRow.event_type,
        )
        .join(JobRow, JobRow.id == JobAttemptRow.job_id)
        .join(EventRow, EventRow.id == JobRow.event_id)
        .where(JobAttemptRow.outcome == "failed", JobRow.status.in_(UNRESOLVED))
        .order_by(JobAttemptRow.id.desc())
        .limit(limit)
    )
    if before is not None:
        query = query.where(JobAttemptRow.id < before)
    rows = connection.execute(query).all()
    return [
        {
            **{key: value for key, value in row._mapping.items() if key != "run_at"},
            "next_retry": _next_retry(row.job_status, row.run_at),
        }
        for row in rows
    ]
