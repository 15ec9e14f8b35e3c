"""Accepting an event: prepare it (files to the blob store, PHI sealed), then commit it in one transaction.

The commit is idempotent on the event id: a redelivery inserts nothing and reports a duplicate. Cases and people
merge field by field, each field ranked by the platform time that set it (store/merge.py), so deliveries in any
order converge and a thin mention never erases what a full one said.
"""

from __future__ import annotations

import functools
import hashlib
import re
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Table, bindparam, insert, select
from sqlalchemy.dialects import postgresql, sqlite

from casehooks.errors import ConfigurationError, SchemaError, StoreUnavailable
from casehooks.events import CaseCommentAdded, Event
from casehooks.events.wire import dump_json, load_json
from casehooks.store import search
from casehooks.store.case_objects import KINDS
from casehooks.store.files import FileStore
from casehooks.store.mapping import EventRows, FileOutcome, SealedRow, event_rows
from casehooks.store.merge import Mention, legacy_stamps, merge, stamps_for
from casehooks.store.tables import (
    ActivityRow,
    AppointmentRow,
    AssignmentRow,
    AttachmentRow,
    BlobRow,
    CaseRow,
    CommentRow,
    DecisionRow,
    EventRow,
    FormAnswerRow,
    JobRow,
    OrderRow,
    PaymentInfoRow,
    PersonRow,
    TimelineLinkRow,
)
from casehooks.store.vault import Vault

FILE_MARKER = "casehooks:file:"
_ID_LENGTH = 64
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def event_id_of(event: Event, body_sha256: str) -> str:
    """The idempotency key: the activity id, unique per event; the body's hash when there is none.

    Keys fit the 64-character id columns: a longer activity id is keyed by its own hash, and a hash key keeps
    57 hex digits (228 bits) after its ``sha256:`` prefix.
    """
    activity_id = event.activity.id if event.activity is not None else None
    if activity_id and len(activity_id) <= _ID_LENGTH:
        return activity_id
    digest = hashlib.sha256(activity_id.encode()).hexdigest() if activity_id else body_sha256
    return f"sha256:{digest}"[:_ID_LENGTH]


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
    # Cases and people are merged with what is stored, so they are sealed at commit, under the row lock.
    mentions: list[Mention] = field(default_factory=list)
    vault: Vault | None = None
    # The event's place in its case's history, for handlers in case order: the activity's time, else arrival.
    case_at: datetime | None = None
    # The request's headers, sealed (store/request_headers.py); None when they were not recorded.
    headers_sealed: bytes | None = None
    headers_dek_id: str | None = None


def prepare(
    event: Event, body: bytes, received_at: datetime, vault: Vault, files: FileStore, *, source: str = "webhook"
) -> Prepared:
    """Store the event's files and seal everything that will be written. Runs outside any transaction."""
    body_sha256 = hashlib.sha256(body).hexdigest()
    event_id = event_id_of(event, body_sha256)
    outcomes: dict[str, FileOutcome] = {}
    blobs: list[dict[str, Any]] = []
    # A redelivery of a stored event carries files that are stored already: do not write them again. A small
    # file is looked up by its hash before anything is written (FileStore.store_content), so only an event
    # with a large one asks whether the event itself is stored.
    files_to_store = event.attachments()
    if any(not files.hashed_first(item.content) for item in files_to_store) and files.event_stored(event_id):
        files_to_store = ()
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
    mapped = _fitting_history(event_rows(event, event_id, outcomes))
    _check_columns(mapped)
    _check_value("events.event_type", event.type, getattr(table_of(EventRow).c.event_type.type, "length", None))
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
        mentions=([mapped.case] if mapped.case else []) + mapped.people + _lock_order(mapped.objects),
        vault=vault,
        case_at=((event.activity.timestamp if event.activity else None) or received_at) if event.case else None,
    )


def _check_columns(mapped: EventRows) -> None:
    # A value its column cannot hold would fail the commit, and a failed commit asks the platform to retry a
    # body that can never be stored: refuse it here instead, as unreadable.
    rows: list[SealedRow | Mention] = [*mapped.people, *mapped.attachments, *mapped.objects]
    rows += [row for row in (mapped.case, mapped.activity, mapped.comment) if row is not None]
    for row in rows:
        _check_row(row)
    for link in mapped.links:
        _check_value("timeline_links.object_id", link["object_id"], 160)


def _check_row(row: SealedRow | Mention) -> None:
    lengths = _lengths(row.table)
    for name, value in row.columns.items():
        if isinstance(value, str):
            _check_value(f"{row.table}.{name}", value, lengths[name])
    if isinstance(row, Mention):
        _check_value(f"{row.table}.id", row.key, lengths["id"])


@functools.cache
def _lengths(table_name: str) -> dict[str, int | None]:
    """Each column's length limit (None: none), read once per table."""
    table = table_of(_ALL_MODELS[table_name])
    return {column.key: getattr(column.type, "length", None) for column in table.columns}


def _fits(row: SealedRow | Mention) -> bool:
    try:
        _check_row(row)
    except SchemaError:
        return False
    return True


def _fitting_history(mapped: EventRows) -> EventRows:
    # The full-case history is context, not the event: an entry its columns cannot hold is left out (the body
    # keeps it) instead of refusing the event.
    own = {(link["kind"], link["object_id"]) for link in mapped.links}
    objects = [row for row in mapped.objects if (KINDS[row.table], row.key) in own or _fits(row)]
    history = [row for row in mapped.history_activities if _fits(row)]
    return replace(mapped, objects=objects, history_activities=history)


def _lock_order(mentions: list[Mention]) -> list[Mention]:
    # Rows are locked in one order (table, then key) in every transaction, so two events naming the same
    # objects never wait on each other in a cycle.
    return sorted(mentions, key=lambda mention: (mention.table, mention.key))


def _check_value(path: str, value: str, length: int | None) -> None:
    if length is not None and len(value) > length:
        raise SchemaError(path, f"longer than {length} characters")
    if not value.isascii() and _LONE_SURROGATE.search(value):
        # Sealed values keep lone surrogates; a plain column (an id, a type, a status) cannot hold one.
        raise SchemaError(path, "a lone surrogate where an identifier belongs")


def _without_stored_files(event: Event, body: bytes, outcomes: dict[str, FileOutcome]) -> bytes:
    # A stored file lives once, in the file store; the kept body refers to it instead of repeating it.
    stored = {key: outcome for key, outcome in outcomes.items() if outcome.status == "stored"}
    if not stored:
        return body
    try:
        wire = load_json(body) if len(body) <= _READ_AGAIN_BYTES else _dumped_without_contents(event)
        items = _wire_attachments(event, wire)
    except (ValueError, RecursionError, LookupError, AttributeError, TypeError):
        return body  # kept whole: the file is then held twice, never lost
    for item, attachment in zip(items, event.attachments(), strict=False):
        if not isinstance(item, dict):
            continue
        if attachment.id in stored:
            item["content"] = FILE_MARKER + str(stored[attachment.id].sha256)
        elif attachment.content is not None:
            item["content"] = attachment.content.text
    try:
        return dump_json(wire)
    except RecursionError:
        return body


# A body up to this size is read again as JSON, and only its stored files' contents are replaced (microseconds,
# every other value kept as it came). A larger one is dumped from the parsed event with the contents left out,
# so a large file is never copied here; dumping costs about a tenth of a millisecond.
_READ_AGAIN_BYTES = 256 * 1024


def _dumped_without_contents(event: Event) -> dict[str, Any]:
    if isinstance(event, CaseCommentAdded):
        leave_out: Any = {"payload": {"comment": {"attachments": {"__all__": {"content"}}}}}
    else:
        leave_out = {"payload": {"attachment": {"content"}}}
    # pydantic's serialiser stops with a ValueError or RecursionError at a depth the parser accepts.
    wire: dict[str, Any] = event.model_dump(mode="json", by_alias=True, exclude_unset=True, exclude=leave_out)
    return wire


def _wire_attachments(event: Event, wire: dict[str, Any]) -> list[Any]:
    """The attachment objects of ``wire`` in the order ``event.attachments()`` gives them."""
    payload = wire["payload"]
    if not isinstance(event, CaseCommentAdded):
        return [payload["attachment"]]
    # The model reads ``comment`` when the key is there, else ``comments`` (events/payloads.py).
    comment = payload["comment"] if "comment" in payload else payload["comments"]
    return list(comment.get("attachments") or ())


def _seal(row: SealedRow, vault: Vault, column: str) -> dict[str, Any]:
    dek_id, sealed = vault.seal(dump_json(row.details), row.aad)
    return {**row.columns, column: sealed, "dek_id": dek_id}


def _seal_rows(mapped: EventRows, vault: Vault) -> dict[str, list[dict[str, Any]]]:
    activities = [mapped.activity] if mapped.activity else []
    rows: dict[str, list[dict[str, Any]]] = {
        "activities": [_seal(row, vault, "values_sealed") for row in [*activities, *mapped.history_activities]],
        "comments": [_seal(mapped.comment, vault, "text_sealed")] if mapped.comment else [],
        "attachments": [_seal(item, vault, "details_sealed") for item in mapped.attachments],
        "timeline_links": list(mapped.links),
    }
    return rows


# Statements are built once per dialect and executed with parameters: building a statement costs more than
# running it, and a prebuilt one hits the compiled cache every time.
_STATEMENTS: dict[str, dict[str, Any]] = {}


def table_of(model: Any) -> Table:
    table: Table = model.__table__
    return table


def statements_for(connection: Connection) -> dict[str, Any]:
    name = connection.dialect.name
    built = _STATEMENTS.get(name)
    if built is not None:
        return built
    dialect: Any = postgresql if name == "postgresql" else sqlite

    def ignore(model: Any) -> Any:
        return dialect.insert(table_of(model)).on_conflict_do_nothing()

    built = {
        # RETURNING asked for explicitly: with the implicit RETURNING of ``seq``, psycopg's rowcount is not the
        # number of rows inserted, and a redelivery would count as new.
        "events": dialect.insert(table_of(EventRow))
        .on_conflict_do_nothing(index_elements=["id"])
        .returning(table_of(EventRow).c.id),
        "blobs": ignore(BlobRow),
        "activities": ignore(ActivityRow),
        "comments": ignore(CommentRow),
        "attachments": ignore(AttachmentRow),
        "jobs": insert(JobRow),
        "cases": dialect.insert(table_of(CaseRow))
        .on_conflict_do_nothing(index_elements=["id"])
        .returning(table_of(CaseRow).c.id),
        "timeline_links": ignore(TimelineLinkRow),
    }
    for table_name, model in MERGED_MODELS.items():
        table = table_of(model)
        built[table_name] = dialect.insert(table).on_conflict_do_nothing(index_elements=["id"]).returning(table.c.id)
        # FOR UPDATE holds the row on PostgreSQL until the commit; SQLite has one writer at a time already.
        built[f"lock:{table_name}"] = select(table).where(table.c.id == bindparam("mention_key")).with_for_update()
        # The columns set are the parameters given: one statement per table, compiled once per set of columns.
        built[f"update:{table_name}"] = table.update().where(table.c.id == bindparam("mention_key"))
    _STATEMENTS[name] = built
    return built


def commit_event(connection: Connection, prepared: Prepared, run_at: datetime) -> bool:
    """Write a prepared event and its job inside the caller's transaction. False if it was already stored."""
    statements = statements_for(connection)
    inserted = connection.execute(statements["events"], event_row(prepared))
    if inserted.first() is None:
        return False
    if prepared.blobs:
        connection.execute(statements["blobs"], prepared.blobs)
    if prepared.mentions:
        if prepared.vault is None:
            raise ConfigurationError("a prepared event with cases or people needs its vault to commit")
        for mention in prepared.mentions:
            _merge_mention(connection, statements, prepared.vault, mention, prepared)
            if mention.table == "people":  # the blind index (store/search.py): digests only, no plaintext
                search.index_person(connection, prepared.vault.keyring, mention.key, mention.details)
    for table in ("activities", "comments", "attachments", "timeline_links"):
        rows = prepared.rows.get(table)
        if rows:
            connection.execute(statements[table], rows)
    connection.execute(statements["jobs"], job_row(prepared, run_at))
    return True


def event_row(prepared: Prepared) -> dict[str, Any]:
    return {
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
        "headers_sealed": prepared.headers_sealed,
        "headers_dek_id": prepared.headers_dek_id,
    }


def job_row(prepared: Prepared, run_at: datetime) -> dict[str, Any]:
    return {
        "event_id": prepared.event_id,
        "status": "queued",
        "attempts": 0,
        "run_at": run_at,
        "created_at": prepared.received_at,
        "event_type": prepared.event_type,
        "pending": None,
        "needs_documents": any(row["content_status"] == "pending" for row in prepared.rows.get("attachments", ())),
        "case_id": prepared.case_id,
        "case_at": prepared.case_at,
    }


# Rows merged field by field: cases, people and every event's own objects.
MERGED_MODELS: dict[str, Any] = {
    "cases": CaseRow,
    "people": PersonRow,
    "decisions": DecisionRow,
    "form_answers": FormAnswerRow,
    "assignments": AssignmentRow,
    "orders": OrderRow,
    "appointments": AppointmentRow,
    "payment_info": PaymentInfoRow,
}
_ALL_MODELS: dict[str, Any] = {
    **MERGED_MODELS,
    "activities": ActivityRow,
    "comments": CommentRow,
    "attachments": AttachmentRow,
}
BOOKKEEPING = frozenset({"id", "details_sealed", "dek_id", "field_stamps", "first_seen_at", "seen_at"})


def _merge_mention(
    connection: Connection, statements: dict[str, Any], vault: Vault, mention: Mention, prepared: Prepared
) -> None:
    table = table_of(MERGED_MODELS[mention.table])
    lock = statements[f"lock:{mention.table}"]
    stored = connection.execute(lock, {"mention_key": mention.key}).first()
    if stored is None:
        dek_id, sealed = vault.seal(dump_json(mention.details), mention.aad)
        row: dict[str, Any] = {column.key: None for column in table.columns}
        row.update(mention.columns)
        row.update(id=mention.key, details_sealed=sealed, dek_id=dek_id, field_stamps=stamps_for(mention))
        if mention.table == "cases":
            row["first_seen_at"] = prepared.received_at
        elif mention.table == "people":
            row["seen_at"] = prepared.received_at
        if connection.execute(statements[mention.table], row).first() is not None:
            return
        # Another transaction inserted the row since we looked: merge into it under its lock.
        stored = connection.execute(lock, {"mention_key": mention.key}).first()
        if stored is None:  # pragma: no cover - the row was just seen by the insert
            raise StoreUnavailable("the row vanished under its lock")
    details = load_json(vault.open(stored.dek_id, stored.details_sealed, mention.aad))
    stamps = stored.field_stamps
    if stamps is None:
        plain = {name: value for name, value in stored._mapping.items() if name not in BOOKKEEPING}
        stamps = legacy_stamps(plain, details, stored.updated_at if mention.table == "cases" else stored.seen_at)
    merged = merge(mention, details, stamps)
    values: dict[str, Any] = dict(merged.columns)
    if merged.details != details:
        values["dek_id"], values["details_sealed"] = vault.seal(dump_json(merged.details), mention.aad)
    if merged.stamps != stored.field_stamps:
        values["field_stamps"] = merged.stamps
    if mention.table == "people" and prepared.received_at > stored.seen_at:
        values["seen_at"] = prepared.received_at
    if values:
        connection.execute(statements[f"update:{mention.table}"], {**values, "mention_key": mention.key})


def insert_blob(connection: Connection, blob: dict[str, Any]) -> None:
    """Record a stored file; a file stored before under the same hash keeps its first record."""
    connection.execute(statements_for(connection)["blobs"], blob)
