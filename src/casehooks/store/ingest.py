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

from casehooks.events import CaseCommentAdded, Event
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
    # A redelivery of a stored event carries files that are stored already: do not write them again.
    files_to_store = event.attachments() if not (event.attachments() and files.event_stored(event_id)) else ()
    for attachment in files_to_store:
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
    # A stored file lives once, in the blob store; the kept body refers to it instead of repeating it. Contents
    # are left out of the dump and put back by reference, so a large file is never copied here.
    stored = {key: outcome for key, outcome in outcomes.items() if outcome.status == "stored"}
    if not stored:
        return body
    payload_key = "comment" if isinstance(event, CaseCommentAdded) else "attachment"
    if isinstance(event, CaseCommentAdded):
        leave_out: Any = {"payload": {"comment": {"attachments": {"__all__": {"content"}}}}}
    else:
        leave_out = {"payload": {"attachment": {"content"}}}
    wire = event.model_dump(mode="json", by_alias=True, exclude_unset=True, exclude=leave_out)
    own = wire["payload"].get(payload_key) or wire["payload"].get("comments")
    items = (own.get("attachments") or []) if isinstance(event, CaseCommentAdded) else [own]
    for item, attachment in zip(items, event.attachments(), strict=False):
        if attachment.id in stored:
            item["content"] = FILE_MARKER + str(stored[attachment.id].sha256)
        elif attachment.content is not None:
            item["content"] = attachment.content.text
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


# Statements are built once per dialect and executed with parameters: building a statement costs more than
# running it, and a prebuilt one hits the compiled cache every time.
_STATEMENTS: dict[str, dict[str, Any]] = {}


def _table(model: Any) -> Table:
    table: Table = model.__table__
    return table


def _statements(connection: Connection) -> dict[str, Any]:
    name = connection.dialect.name
    built = _STATEMENTS.get(name)
    if built is not None:
        return built
    dialect: Any = postgresql if name == "postgresql" else sqlite

    def ignore(model: Any) -> Any:
        return dialect.insert(_table(model)).on_conflict_do_nothing()

    cases = _table(CaseRow)
    case_insert = dialect.insert(cases)
    excluded = case_insert.excluded
    newer = or_(
        and_(
            excluded.updated_at.is_not(None),
            or_(cases.c.updated_at.is_(None), excluded.updated_at >= cases.c.updated_at),
        ),
        and_(excluded.updated_at.is_(None), cases.c.updated_at.is_(None)),
    )
    case_columns = [column.key for column in cases.columns if column.key not in ("id", "first_seen_at")]
    people = _table(PersonRow)
    person_insert = dialect.insert(people)
    built = {
        # RETURNING asked for explicitly: with the implicit RETURNING of ``seq``, psycopg's rowcount is not the
        # number of rows inserted, and a redelivery would count as new.
        "events": dialect.insert(_table(EventRow))
        .on_conflict_do_nothing(index_elements=["id"])
        .returning(_table(EventRow).c.id),
        "blobs": ignore(BlobRow),
        "activities": ignore(ActivityRow),
        "comments": ignore(CommentRow),
        "attachments": ignore(AttachmentRow),
        "jobs": insert(JobRow),
        "cases": case_insert.on_conflict_do_update(
            index_elements=["id"], set_={key: excluded[key] for key in case_columns}, where=newer
        ),
        "people": person_insert.on_conflict_do_update(
            index_elements=["id"],
            set_={
                "details_sealed": person_insert.excluded.details_sealed,
                "dek_id": person_insert.excluded.dek_id,
                "seen_at": person_insert.excluded.seen_at,
                "role": func.coalesce(person_insert.excluded.role, people.c.role),
            },
            where=person_insert.excluded.seen_at >= people.c.seen_at,
        ),
    }
    _STATEMENTS[name] = built
    return built


def commit_event(connection: Connection, prepared: Prepared, run_at: datetime) -> bool:
    """Write a prepared event and its job inside the caller's transaction. False if it was already stored."""
    statements = _statements(connection)
    inserted = connection.execute(
        statements["events"],
        {
            "id": prepared.event_id,
            "event_type": prepared.event_type,
            "case_id": prepared.case_id,
            "received_at": prepared.received_at,
            "body_sha256": prepared.body_sha256,
            "body_size": prepared.body_size,
            "body_sealed": prepared.body_sealed,
            "dek_id": prepared.dek_id,
            "deviations": prepared.deviations,
            "source": prepared.source,
        },
    )
    if inserted.first() is None:
        return False
    if prepared.blobs:
        connection.execute(statements["blobs"], prepared.blobs)
    for table in ("cases", "people", "activities", "comments", "attachments"):
        rows = prepared.rows.get(table)
        if rows:
            connection.execute(statements[table], rows)
    connection.execute(
        statements["jobs"],
        {
            "event_id": prepared.event_id,
            "status": "queued",
            "attempts": 0,
            "run_at": run_at,
            "created_at": prepared.received_at,
            "event_type": prepared.event_type,
            "pending": None,
            "needs_documents": any(row["content_status"] == "pending" for row in prepared.rows.get("attachments", ())),
        },
    )
    return True


def insert_blob(connection: Connection, blob: dict[str, Any]) -> None:
    """Record a stored file; a file stored before under the same hash keeps its first record."""
    connection.execute(_statements(connection)["blobs"], blob)
