"""The read side: events, cases with their timelines, attachments, quarantine and queue state.

Listings return plain columns only. PHI is opened (unsealed) only where a caller asks for it with
``reveal=True``; restricted items are left out unless ``restricted=True``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Select, func, or_, select

from casehooks.errors import NotFound
from casehooks.events.wire import load_json
from casehooks.store import ordering
from casehooks.store.tables import (
    AttachmentRow,
    CaseRow,
    EventRow,
    JobAttemptRow,
    JobRow,
    PersonRow,
    QuarantineRow,
)
from casehooks.store.vault import Vault


@dataclass(frozen=True, slots=True)
class EventFilter:
    event_type: str | None = None
    case_id: str | None = None
    job_status: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    limit: int = 50
    before_seq: int | None = None
    after_seq: int | None = None


def _plain(row: Any, *skip: str) -> dict[str, Any]:
    return {key: value for key, value in row._mapping.items() if key not in skip and not key.endswith("_sealed")}


def list_events(connection: Connection, where: EventFilter) -> list[dict[str, Any]]:
    query: Select[Any] = (
        select(  # type: ignore[assignment]
            EventRow.seq,
            EventRow.id,
            EventRow.event_type,
            EventRow.case_id,
            EventRow.received_at,
            EventRow.body_size,
            EventRow.source,
            EventRow.deviations,
            JobRow.id.label("job_id"),
            JobRow.status.label("job_status"),
            JobRow.attempts.label("job_attempts"),
        )
        .join(JobRow, JobRow.event_id == EventRow.id, isouter=True)
        .order_by(EventRow.seq.desc())
        .limit(where.limit)
    )
    if where.event_type:
        query = query.where(EventRow.event_type == where.event_type)
    if where.case_id:
        query = query.where(EventRow.case_id == where.case_id)
    if where.job_status:
        query = query.where(JobRow.status == where.job_status)
    if where.since:
        query = query.where(EventRow.received_at >= where.since)
    if where.until:
        query = query.where(EventRow.received_at < where.until)
    if where.before_seq:
        query = query.where(EventRow.seq < where.before_seq)
    if where.after_seq is not None:
        query = query.where(EventRow.seq > where.after_seq)
    events = []
    for row in connection.execute(query):
        item = _plain(row, "deviations")
        item["deviation_count"] = len(row.deviations or [])
        events.append(item)
    return events


def event_detail(connection: Connection, event_id: str) -> dict[str, Any]:
    event = _event_columns(connection, event_id)
    jobs = connection.execute(select(JobRow.__table__).where(JobRow.event_id == event_id)).all()
    job_ids = [job.id for job in jobs]
    attempts = connection.execute(
        select(JobAttemptRow.__table__).where(JobAttemptRow.job_id.in_(job_ids)).order_by(JobAttemptRow.id)
    ).all()
    holders = ordering.blocked_by(connection, [job.id for job in jobs if job.status in ("queued", "failed")])
    event["jobs"] = [
        {
            "id": job.id,
            "status": job.status,
            "attempts": job.attempts,
            "run_at": job.run_at,
            "last_error": job.last_error,
            "finished_at": job.finished_at,
            "blocked_by": holders.get(job.id),
        }
        for job in jobs
    ]
    event["attempts"] = [
        {
            "id": attempt.id,
            "job_id": attempt.job_id,
            "attempt": attempt.attempt,
            "handler": attempt.handler,
            "outcome": attempt.outcome,
            "error": attempt.error,
            "started_at": attempt.started_at,
            "duration_ms": attempt.duration_ms,
            "late": bool(attempt.late),
        }
        for attempt in attempts
    ]
    return event


def _event_columns(connection: Connection, event_id: str) -> dict[str, Any]:
    row = connection.execute(
        select(
            EventRow.seq,
            EventRow.id,
            EventRow.event_type,
            EventRow.case_id,
            EventRow.received_at,
            EventRow.body_sha256,
            EventRow.body_size,
            EventRow.source,
            EventRow.deviations,
        ).where(EventRow.id == event_id)
    ).first()
    if row is None:
        raise NotFound("event", event_id)
    return dict(row._mapping)


def sealed_body(connection: Connection, vault: Vault, event_id: str) -> tuple[bytes, list[dict[str, str]]]:
    """The stored body of an event (stored files referenced, not inline) and its deviations."""
    row = connection.execute(
        select(EventRow.body_sealed, EventRow.dek_id, EventRow.deviations).where(EventRow.id == event_id)
    ).first()
    if row is None:
        raise NotFound("event", event_id)
    return vault.open(row.dek_id, row.body_sealed, f"events:{event_id}".encode()), list(row.deviations or [])


def list_cases(
    connection: Connection,
    *,
    status: str | None = None,
    organization_id: str | None = None,
    short_id: str | None = None,
    limit: int = 50,
) -> list[dict[str, Any]]:
    """Cases, most recently updated first; ``short_id`` matches the start of a short id, in any case."""
    query: Select[Any] = select(CaseRow.__table__).order_by(CaseRow.updated_at.desc()).limit(limit)
    if short_id:
        pattern = short_id.upper().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        query = query.where(func.upper(CaseRow.short_id).like(pattern, escape="\\"))
    if status:
        query = query.where(CaseRow.status == status)
    if organization_id:
        query = query.where(CaseRow.organization_id == organization_id)
    return [_case_columns(case) for case in connection.execute(query).all()]


def _columns(row: Any) -> dict[str, Any]:
    hidden = ("dek_id", "field_stamps")
    return {key: value for key, value in row._mapping.items() if not key.endswith("_sealed") and key not in hidden}


def _case_columns(row: Any) -> dict[str, Any]:
    # The case type and product bundle name a treatment: PHI, shown only with the sealed details. Rows written
    # before they were sealed still hold them in plain columns, never shown unrevealed.
    return {**_columns(row), "type": None, "product_bundle": None}


def _open(vault: Vault, table: str, key: str, dek_id: str, sealed: bytes) -> Any:
    return load_json(vault.open(dek_id, sealed, f"{table}:{key}".encode()))


def find_case(connection: Connection, id_or_short_id: str) -> Any:
    case = connection.execute(
        select(CaseRow.__table__).where(or_(CaseRow.id == id_or_short_id, CaseRow.short_id == id_or_short_id))
    ).first()
    if case is None:
        raise NotFound("case", id_or_short_id)
    return case


def _person(connection: Connection, vault: Vault, person_id: str | None, reveal: bool) -> dict[str, Any] | None:
    if person_id is None:
        return None
    person = connection.execute(select(PersonRow.__table__).where(PersonRow.id == person_id)).first()
    if person is None:
        return {"id": person_id}
    shown: dict[str, Any] = {"id": person.id, "role": person.role}
    if reveal:
        shown.update(_open(vault, "people", person.id, person.dek_id, person.details_sealed))
    return shown


def attachment(connection: Connection, vault: Vault, attachment_id: str, *, reveal: bool = False) -> dict[str, Any]:
    row = connection.execute(select(AttachmentRow.__table__).where(AttachmentRow.id == attachment_id)).first()
    if row is None:
        raise NotFound("attachment", attachment_id)
    shown = _columns(row)
    if reveal:
        shown.update(_open(vault, "attachments", row.id, row.dek_id, row.details_sealed))
    return shown


def list_quarantine(connection: Connection, *, status: str | None = "held", limit: int = 100) -> list[dict[str, Any]]:
    query: Select[Any] = select(QuarantineRow.__table__).order_by(QuarantineRow.received_at.desc()).limit(limit)
    if status:
        query = query.where(QuarantineRow.status == status)
    items = []
    for row in connection.execute(query).all():
        item = _columns(row)
        item["body_kept"] = row.body_sealed is not None
        items.append(item)
    return items
