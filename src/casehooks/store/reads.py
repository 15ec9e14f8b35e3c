"""The read side: events, cases with their timelines, attachments, quarantine and queue state.

Listings return plain columns only. PHI is opened (unsealed) only where a caller asks for it with
``reveal=True``; restricted items are left out unless ``restricted=True``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Select, func, or_, select

from casehooks.errors import BadFilter, NotFound
from casehooks.events.wire import load_json
from casehooks.store import ordering, request_headers
from casehooks.store.access_tables import AuditRow
from casehooks.store.paging import Page, count, cursor_int, cursor_time, decode_cursor, encode_cursor
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


def event_headers(connection: Connection, vault: Vault, event_id: str) -> dict[str, str] | None:
    """The headers an event's request came with, credentials left out; None for events stored before headers were
    kept (migration 0021)."""
    row = connection.execute(
        select(EventRow.headers_sealed, EventRow.headers_dek_id).where(EventRow.id == event_id)
    ).first()
    if row is None:
        raise NotFound("event", event_id)
    if row.headers_sealed is None or row.headers_dek_id is None:
        return None
    return request_headers.open_sealed(vault, event_id, row.headers_dek_id, row.headers_sealed)


@dataclass(frozen=True, slots=True)
class CaseFilter:
    """Which cases a list shows. ``case_ids`` (from a search) narrows to those ids; an empty tuple matches none."""

    status: str | None = None
    organization_id: str | None = None
    short_id: str | None = None
    case_ids: tuple[str, ...] | None = None
    since: datetime | None = None
    until: datetime | None = None
    limit: int = 50
    before: str | None = None


def _cases_query(where: CaseFilter) -> Select[Any]:
    query: Select[Any] = select(CaseRow.__table__)
    if where.short_id:
        pattern = where.short_id.upper().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        query = query.where(func.upper(CaseRow.short_id).like(pattern, escape="\\"))
    if where.case_ids is not None:
        query = query.where(CaseRow.id.in_(where.case_ids))
    if where.status:
        query = query.where(CaseRow.status == where.status)
    if where.organization_id:
        query = query.where(CaseRow.organization_id == where.organization_id)
    if where.since:
        query = query.where(CaseRow.updated_at >= where.since)
    if where.until:
        query = query.where(CaseRow.updated_at < where.until)
    return query


def page_cases(connection: Connection, where: CaseFilter) -> Page:
    """Cases, most recently updated first (cases never updated last), a page at a time."""
    query = _cases_query(where)
    if where.before:
        updated, case_id = decode_cursor("cases", where.before, 2)
        at = cursor_time(updated)
        if not isinstance(case_id, str):
            raise BadFilter("cursor", "not a cursor of this list")
        if at is None:
            query = query.where(CaseRow.updated_at.is_(None), CaseRow.id < case_id)
        else:
            query = query.where(
                or_(
                    CaseRow.updated_at < at,
                    (CaseRow.updated_at == at) & (CaseRow.id < case_id),
                    CaseRow.updated_at.is_(None),
                )
            )
    query = query.order_by(CaseRow.updated_at.desc().nulls_last(), CaseRow.id.desc()).limit(where.limit + 1)
    rows = connection.execute(query).all()
    items = [_case_columns(case) for case in rows[: where.limit]]
    following = None
    if len(rows) > where.limit:
        following = encode_cursor("cases", rows[where.limit - 1].updated_at, rows[where.limit - 1].id)
    filtered = any((where.status, where.organization_id, where.short_id, where.case_ids is not None, where.since))
    total, estimated = count(connection, _cases_query(where), table="cases", filtered=filtered or bool(where.until))
    return Page(items, following, total, estimated)


def list_cases(
    connection: Connection,
    *,
    status: str | None = None,
    organization_id: str | None = None,
    short_id: str | None = None,
    limit: int = 50,
) -> list[dict[str, Any]]:
    """Cases, most recently updated first; ``short_id`` matches the start of a short id, in any case."""
    where = CaseFilter(status=status, organization_id=organization_id, short_id=short_id, limit=limit)
    return page_cases(connection, where).items


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


def _quarantine_query(status: str | None) -> Select[Any]:
    query: Select[Any] = select(QuarantineRow.__table__)
    return query.where(QuarantineRow.status == status) if status else query


def page_quarantine(
    connection: Connection, *, status: str | None = "held", limit: int = 100, before: str | None = None
) -> Page:
    """Refused requests, newest first, a page at a time."""
    query = _quarantine_query(status)
    if before:
        received, record_id = decode_cursor("quarantine", before, 2)
        at = cursor_time(received)
        if at is None or not isinstance(record_id, str):
            raise BadFilter("cursor", "not a cursor of this list")
        query = query.where(
            or_(
                QuarantineRow.received_at < at,
                (QuarantineRow.received_at == at) & (QuarantineRow.id < record_id),
            )
        )
    query = query.order_by(QuarantineRow.received_at.desc(), QuarantineRow.id.desc()).limit(limit + 1)
    rows = connection.execute(query).all()
    items = []
    for row in rows[:limit]:
        item = _columns(row)
        item["body_kept"] = row.body_sealed is not None
        items.append(item)
    following = None
    if len(rows) > limit:
        following = encode_cursor("quarantine", rows[limit - 1].received_at, rows[limit - 1].id)
    total, estimated = count(connection, _quarantine_query(status), table="quarantine", filtered=bool(status))
    return Page(items, following, total, estimated)


def list_quarantine(connection: Connection, *, status: str | None = "held", limit: int = 100) -> list[dict[str, Any]]:
    return page_quarantine(connection, status=status, limit=limit).items


def _audit_query(username: str | None) -> Select[Any]:
    query: Select[Any] = select(AuditRow.__table__)
    return query.where(AuditRow.username == username) if username else query


def page_audit(
    connection: Connection, *, username: str | None = None, limit: int = 200, before: str | None = None
) -> Page:
    """Audit rows, newest first, a page at a time (the chain's MACs are not shown)."""
    query = _audit_query(username)
    if before:
        query = query.where(AuditRow.id < cursor_int(decode_cursor("audit", before, 1)[0]))
    rows = connection.execute(query.order_by(AuditRow.id.desc()).limit(limit + 1)).all()
    items = [dict(row._mapping) for row in rows[:limit]]
    following = encode_cursor("audit", rows[limit - 1].id) if len(rows) > limit else None
    total, estimated = count(connection, _audit_query(username), table="audit_log", filtered=bool(username))
    return Page(items, following, total, estimated)
