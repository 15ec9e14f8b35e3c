"""Accepting an event: prepare it (files to the blob store, PHI sealed), then commit it in one transaction.

The commit is idempotent on the event id: a redelivery inserts nothing and reports a duplicate. Case snapshots
only move forward by ``updatedAt``, so deliveries in any order converge on the newest snapshot.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import orjson
from sqlalchemy import Connection, Table, and_, func, insert, or_
from sqlalchemy.dialects import postgresql, sqlite

from casehooks.events import Event
from casehooks.store.files import FileStore
from casehooks.store.mapping import EventRows, FileOutcome, SealedRow, event_rows
from casehooks.store.tables import (
    ActivityRow,
    AttachmentRow,
    BlobRow,
    CaseRow,
    CommentRow,
    EventRow,
    JobRow,
    PersonRow,
)
from casehooks.store.vault import Vault

FILE_MARKER = "casehooks:file:"


def event_id_of(event: Event, body_sha256: str) -> str:
    """The idempotency key: the activity id, unique per event; the body's hash when there is none."""
    if event.activity is not None and event.activity.id:
        return event.activity.id
    return f"sha256:{body_sha256}"


@dataclass(frozen=True, slots=True)
class Prepared:
    """An authenticated, parsed event whose files are stored and whose PHI is sealed: ready to commit."""

    event_id: str
    event_type: str
    case_id: str | None
    received_at: datetime
    body_sha256: str
    body_size: int
    body_sealed: bytes
    dek_id: str
    deviations: list[dict[str, str]]
    source: str
    rows: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    blobs: list[dict[str, Any]] = field(default_factory=list)


def prepare(
    event: Event, body: bytes, received_at: datetime, vault: Vault, files: FileStore, *, source: str = "webhook"
) -> Prepared:
    """Store the event's files and seal everything that will be written. Runs outside any transaction."""
    body_sha256 = hashlib.sha256(body).hexdigest()
    event_id = event_id_of(event, body_sha256)
    outcomes: dict[str, FileOutcome] = {}
    blobs: list[dict[str, Any]] = []
    for attachment in event.attachments():
        if attachment.content is None:
            outcomes[attachment.id] = FileOutcome("pending" if attachment.document_url else "absent")
            continue
        outcome, blob = files.store_content(attachment.content)
        if outcome.status == "invalid" and attachment.document_url:
            outcome = FileOutcome("pending")
        outcomes[attachment.id] = outcome
        if blob is not None:
            blobs.append(blob)
    stored_body = _without_stored_files(event, body, outcomes)
    dek_id, body_sealed = vault.seal(stored_body, f"events:{event_id}".encode())
    mapped = event_rows(event, event_id, received_at, outcomes)
    return Prepared(
        event_id=event_id,
        event_type=event.type,
        case_id=event.case.id if event.case else None,
        received_at=received_at,
        body_sha256=body_sha256,
        body_size=len(body),
        body_sealed=body_sealed,
        dek_id=dek_id,
        deviations=[deviation.to_dict() for deviation in event.deviations],
        source=source,
        rows=_seal_rows(mapped, vault),
        blobs=blobs,
    )


def _without_stored_files(event: Event, body: bytes, outcomes: dict[str, FileOutcome]) -> bytes:
    # A stored file lives once, in the blob store; the kept body refers to it instead of repeating it.
    stored = {key: outcome for key, outcome in outcomes.items() if outcome.status == "stored"}
    if not stored:
        return body
    wire = event.to_wire()
    payload = wire["payload"]
    items = [payload.get("attachment")]
    comment = payload.get("comment") or payload.get("comments")
    if isinstance(comment, dict):
        items.extend(comment.get("attachments") or [])
    for item in items:
        if isinstance(item, dict) and item.get("id") in stored:
            item["content"] = FILE_MARKER + str(stored[item["id"]].sha256)
    return orjson.dumps(wire)


def _seal(row: SealedRow, vault: Vault, column: str) -> dict[str, Any]:
    dek_id, sealed = vault.seal(orjson.dumps(row.details), row.aad)
    return {**row.columns, column: sealed, "dek_id": dek_id}


def _seal_rows(mapped: EventRows, vault: Vault) -> dict[str, list[dict[str, Any]]]:
    rows: dict[str, list[dict[str, Any]]] = {
        "cases": [_seal(mapped.case, vault, "details_sealed")] if mapped.case else [],
        "people": [_seal(person, vault, "details_sealed") for person in mapped.people],
        "activities": [_seal(mapped.activity, vault, "values_sealed")] if mapped.activity else [],
        "comments": [_seal(mapped.comment, vault, "text_sealed")] if mapped.comment else [],
        "attachments": [_seal(item, vault, "details_sealed") for item in mapped.attachments],
    }
    return rows


def _insert(connection: Connection, table: Table) -> Any:
    dialect = postgresql if connection.dialect.name == "postgresql" else sqlite
    return dialect.insert(table)


def commit_event(connection: Connection, prepared: Prepared, run_at: datetime) -> bool:
    """Write a prepared event and its job inside the caller's transaction. False if it was already stored."""
    events: Table = EventRow.__table__  # type: ignore[assignment]
    inserted = connection.execute(
        _insert(connection, events)
        .values(
            id=prepared.event_id,
            event_type=prepared.event_type,
            case_id=prepared.case_id,
            received_at=prepared.received_at,
            body_sha256=prepared.body_sha256,
            body_size=prepared.body_size,
            body_sealed=prepared.body_sealed,
            dek_id=prepared.dek_id,
            deviations=prepared.deviations,
            source=prepared.source,
        )
        .on_conflict_do_nothing(index_elements=["id"])
        # Asked for explicitly: with the implicit RETURNING of ``seq``, psycopg's rowcount is not the rows inserted.
        .returning(events.c.id)
    )
    if inserted.first() is None:
        return False
    for blob in prepared.blobs:
        connection.execute(_insert(connection, BlobRow.__table__).values(**blob).on_conflict_do_nothing())  # type: ignore[arg-type]
    for row in prepared.rows.get("cases", []):
        _upsert_case(connection, row)
    for row in prepared.rows.get("people", []):
        _upsert_person(connection, row)
    for table, model in (("activities", ActivityRow), ("comments", CommentRow), ("attachments", AttachmentRow)):
        for row in prepared.rows.get(table, []):
            connection.execute(_insert(connection, model.__table__).values(**row).on_conflict_do_nothing())  # type: ignore[arg-type]
    connection.execute(
        insert(JobRow).values(
            event_id=prepared.event_id, status="queued", attempts=0, run_at=run_at, created_at=prepared.received_at
        )
    )
    return True


def _upsert_case(connection: Connection, row: dict[str, Any]) -> None:
    table: Table = CaseRow.__table__  # type: ignore[assignment]
    statement = _insert(connection, table).values(**row)
    excluded = statement.excluded
    newer = or_(
        and_(
            excluded.updated_at.is_not(None),
            or_(table.c.updated_at.is_(None), excluded.updated_at >= table.c.updated_at),
        ),
        and_(excluded.updated_at.is_(None), table.c.updated_at.is_(None)),
    )
    changing = {key: excluded[key] for key in row if key not in ("id", "first_seen_at")}
    connection.execute(statement.on_conflict_do_update(index_elements=["id"], set_=changing, where=newer))


def _upsert_person(connection: Connection, row: dict[str, Any]) -> None:
    table: Table = PersonRow.__table__  # type: ignore[assignment]
    statement = _insert(connection, table).values(**row)
    excluded = statement.excluded
    changing = {
        "details_sealed": excluded.details_sealed,
        "dek_id": excluded.dek_id,
        "seen_at": excluded.seen_at,
        "role": func.coalesce(excluded.role, table.c.role),
    }
    connection.execute(
        statement.on_conflict_do_update(index_elements=["id"], set_=changing, where=excluded.seen_at >= table.c.seen_at)
    )
