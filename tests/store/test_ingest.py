from __future__ import annotations

import base64
import hashlib
from typing import Any

import pytest
from sqlalchemy import func, select

from casehooks.events import parse_object
from casehooks.store import Store
from casehooks.store.reads import case_timeline
from casehooks.store.tables import AttachmentRow, BlobRow, CaseRow, EventRow, JobRow
from tests.receiver.events import attachment_event, comment_event

pytestmark = pytest.mark.integration


def ingest(store: Store, wire: dict[str, Any]) -> bool:
    from casehooks.events import stringify

    body = stringify(wire)
    return store.commit(store.prepare(parse_object(wire), body))


def count(store: Store, model: Any) -> int:
    with store.engine.connect() as connection:
        return int(connection.execute(select(func.count()).select_from(model)).scalar_one())


def test_an_event_is_stored_with_its_job(store: Store) -> None:
    assert ingest(store, comment_event()) is True
    assert count(store, EventRow) == 1
    assert count(store, JobRow) == 1
    assert count(store, CaseRow) == 1


def test_duplicate_delivery_changes_nothing(store: Store) -> None:
    event = comment_event()
    assert ingest(store, event) is True
    assert ingest(store, event) is False
    assert (count(store, EventRow), count(store, JobRow)) == (1, 1)


def test_older_snapshot_does_not_roll_the_case_back(store: Store) -> None:
    case_id = "9a9a9a9a-1111-4222-8333-444444444444"
    newer = comment_event(case_id=case_id, updated_at="2025-09-05T00:00:00.000Z")
    newer["payload"]["case"]["status"] = "REJECTED"
    older = comment_event(case_id=case_id, updated_at="2025-09-01T00:00:00.000Z")
    older["payload"]["case"]["status"] = "OPEN"
    ingest(store, newer)
    ingest(store, older)
    with store.engine.connect() as connection:
        status = connection.execute(select(CaseRow.status).where(CaseRow.id == case_id)).scalar_one()
    assert status == "REJECTED"


def test_newer_snapshot_replaces_the_case(store: Store) -> None:
    case_id = "8a8a8a8a-1111-4222-8333-444444444444"
    first = comment_event(case_id=case_id, updated_at="2025-09-01T00:00:00.000Z")
    later = comment_event(case_id=case_id, updated_at="2025-09-02T00:00:00.000Z")
    later["payload"]["case"]["status"] = "NO_DECISION"
    ingest(store, first)
    ingest(store, later)
    with store.engine.connect() as connection:
        shown = case_timeline(connection, store.vault, case_id, reveal=True)
    assert shown["status"] == "NO_DECISION"
    assert len([item for item in shown["timeline"] if item["kind"] == "comment"]) == 2


def test_same_file_twice_is_stored_once(store: Store) -> None:
    content = b"%PDF-1.7 the same scan" * 1000
    ingest(store, attachment_event(content))
    ingest(store, attachment_event(content))
    assert count(store, BlobRow) == 1
    assert count(store, AttachmentRow) == 2
    sha = hashlib.sha256(content).hexdigest()
    assert b"".join(store.files.open(sha)) == content


def test_stored_event_reads_back_with_its_file(store: Store) -> None:
    content = bytes(range(256)) * 40
    wire = attachment_event(content)
    ingest(store, wire)
    loaded = store.load_event(wire["payload"]["activity"]["id"])
    attachment = loaded.attachments()[0]
    assert attachment.content is not None
    assert attachment.content.read() == content
    assert attachment.content.decoded_size() == len(content)
    assert attachment.content.text == base64.b64encode(content).decode()
    assert [d.kind.value for d in loaded.deviations if d.path.endswith("content")] == []


def test_kept_body_refers_to_the_file_instead_of_repeating_it(store: Store) -> None:
    content = b"A" * 300_000
    wire = attachment_event(content)
    ingest(store, wire)
    with store.engine.connect() as connection:
        sealed = connection.execute(select(EventRow.body_sealed)).scalar_one()
    assert len(sealed) < 10_000


def test_invalid_base64_is_metadata_only(store: Store) -> None:
    wire = attachment_event("base64 data")
    assert ingest(store, wire) is True
    with store.engine.connect() as connection:
        row = connection.execute(select(AttachmentRow.content_status, AttachmentRow.blob_sha256)).one()
    assert tuple(row) == ("invalid", None)


def test_url_content_is_pending(store: Store) -> None:
    wire = attachment_event("https://files.example.org/doc.pdf?sig=abc")
    ingest(store, wire)
    with store.engine.connect() as connection:
        row = connection.execute(select(AttachmentRow.content_status, AttachmentRow.document_url_field)).one()
    assert tuple(row) == ("pending", "content")


def test_event_without_activity_is_keyed_by_body_hash(store: Store) -> None:
    wire = comment_event()
    del wire["payload"]["activity"]
    from casehooks.events import stringify

    body = stringify(wire)
    prepared = store.prepare(parse_object(wire), body)
    assert prepared.event_id == "sha256:" + hashlib.sha256(body).hexdigest()
