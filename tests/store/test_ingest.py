from __future__ import annotations

import base64
import hashlib
from datetime import UTC, datetime
from typing import Any

import orjson
import pytest
from sqlalchemy import func, select

from casehooks.events import parse_object
from casehooks.store import Store
from casehooks.store.reads import list_cases
from casehooks.store.tables import AttachmentRow, BlobRow, CaseRow, EventRow, JobRow, PersonRow
from casehooks.store.timeline import case_timeline
from tests.conftest import seed
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
    assert len([item for item in shown["timeline"] if item["comment"]]) == 2


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


def kept_body(store: Store, event_id: str) -> Any:
    with store.engine.connect() as connection:
        row = connection.execute(select(EventRow).where(EventRow.id == event_id)).one()
    return orjson.loads(store.vault.open(row.dek_id, row.body_sealed, f"events:{event_id}".encode()))


@pytest.mark.parametrize("key", ["comment", "comments"])
@pytest.mark.parametrize("padding", [0, 300_000])  # a small body is read again, a large one dumped: both so
def test_the_kept_body_is_the_one_received_with_only_stored_files_replaced(
    store: Store, key: str, padding: int
) -> None:
    wire = comment_event()
    payload = wire["payload"]
    comment = payload.pop("comment")
    contents = (b"%PDF first" + b"1" * padding, b"%PDF second")
    files = [attachment_event(content)["payload"]["attachment"] for content in contents]
    linked = {**attachment_event("https://files.example/scan.pdf")["payload"]["attachment"], "id": "link-1"}
    comment["attachments"] = [{**files[0], "id": "file-1"}, linked, {**files[1], "id": "file-2"}]
    comment["createdAt"] = "2025-09-04T12:00:00+00:00"  # read as a time, kept as written
    comment["clinicNote"] = {"score": 1.5, "tags": ["a", "é"]}  # undocumented, kept as it came
    payload[key] = comment

    ingest(store, wire)

    expected = orjson.loads(orjson.dumps(wire))
    for index, content in ((0, contents[0]), (2, contents[1])):
        reference = "casehooks:file:" + hashlib.sha256(content).hexdigest()
        expected["payload"][key]["attachments"][index]["content"] = reference
    assert kept_body(store, payload["activity"]["id"]) == expected


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
    assert prepared.event_id == ("sha256:" + hashlib.sha256(body).hexdigest())[:64]
    assert store.commit(prepared) is True  # the key fits the id columns of every database


def person(store: Store, person_id: str) -> dict[str, Any]:
    with store.engine.connect() as connection:
        row = connection.execute(select(PersonRow.__table__).where(PersonRow.id == person_id)).one()
    details: dict[str, Any] = orjson.loads(
        store.vault.open(row.dek_id, row.details_sealed, f"people:{row.id}".encode())
    )
    return {**details, "role": row.role}


def case(store: Store, case_id: str) -> dict[str, Any]:
    with store.engine.connect() as connection:
        row = connection.execute(select(CaseRow.__table__).where(CaseRow.id == case_id)).one()
    sealed = store.vault.open(row.dek_id, row.details_sealed, f"cases:{row.id}".encode())
    details: dict[str, Any] = orjson.loads(sealed)
    return {**row._mapping, **details}


SUBMITTER = "WzvygANWTEcfsLlDW1K22WWS7dY2"


def test_a_thin_mention_of_the_submitter_keeps_every_detail(store: Store) -> None:
    ingest(store, seed("add_case_comment"))  # the submitter is named last as the attachment's thin uploadedBy

    shown = person(store, SUBMITTER)
    assert shown["role"] == "USER"  # the author's role, sent by the platform, over the SUBMITTER label
    assert shown["email"] == "ritik.parikh+02@carevalidate.com"
    assert shown["dob"] == "1998-12-17T00:00:00.000Z"
    assert (shown["gender"], shown["phoneNumber"], shown["address"]) == ("MALE", "+12286475628", "1271 6th Avenue")


def test_a_later_thin_event_never_erases_what_an_earlier_full_one_said(store: Store) -> None:
    ingest(store, comment_event())
    thin = seed("add_case_attachment")
    thin["payload"]["activity"]["timestamp"] = "2025-12-01T00:00:00.000Z"
    thin["payload"]["attachment"]["uploadedBy"] = {"id": SUBMITTER, "firstName": "Ritik-2", "email": None}
    ingest(store, thin)

    shown = person(store, SUBMITTER)
    assert shown["address"] == "1271 6th Avenue" and shown["email"] == "ritik.parikh+02@carevalidate.com"


def test_an_event_without_activity_does_not_outrank_a_later_genuine_update(store: Store) -> None:
    # Received after the activity's time: ranked by the receive time, it would hide the genuine update below.
    without = comment_event()
    del without["payload"]["activity"]
    without["payload"]["case"]["submitter"]["address"] = "1 Old Street"
    ingest(store, without)
    update = comment_event(updated_at="2025-09-03T21:44:00.000Z")
    update["payload"]["case"]["submitter"]["address"] = "2 New Street"
    ingest(store, update)

    assert person(store, SUBMITTER)["address"] == "2 New Street"


def test_a_stale_mention_never_overwrites_a_newer_field(store: Store) -> None:
    newer = comment_event()
    newer["payload"]["case"]["submitter"]["address"] = "2 New Street"
    older = comment_event()
    older["payload"]["activity"]["timestamp"] = "2025-09-01T00:00:00.000Z"
    older["payload"]["case"]["submitter"]["address"] = "1 Old Street"
    older["payload"]["case"]["submitter"]["city"] = "Boston"
    ingest(store, newer)
    ingest(store, older)

    shown = person(store, SUBMITTER)
    assert shown["address"] == "2 New Street"
    assert shown["city"] == "New York"


def test_an_authors_role_is_kept_when_its_event_arrives_late(store: Store) -> None:
    doctor = "DgHxzGRtS5gFzdL7cReiPzJcA852"
    newer = comment_event()
    newer["payload"]["activity"]["targetUser"] = {"id": doctor, "firstName": "Dana"}
    older = comment_event()
    older["payload"]["activity"]["timestamp"] = "2025-09-01T00:00:00.000Z"
    older["payload"]["comment"]["author"] = {"id": doctor, "firstName": "Dana", "role": "DOCTOR"}
    ingest(store, newer)
    ingest(store, older)

    assert person(store, doctor)["role"] == "DOCTOR"


def test_a_thin_case_snapshot_never_erases_what_a_full_one_set(store: Store) -> None:
    full = comment_event(updated_at="2025-09-01T00:00:00.000Z")
    thin = comment_event(updated_at="2025-09-05T00:00:00.000Z")
    case_id = full["payload"]["case"]["id"]
    thin["payload"]["case"] = {"id": case_id, "status": "REJECTED", "updatedAt": "2025-09-05T00:00:00.000Z"}
    ingest(store, full)
    ingest(store, thin)

    shown = case(store, case_id)
    assert shown["status"] == "REJECTED"
    assert (shown["short_id"], shown["type"], shown["productBundle"]) == ("ADA-C1HM17", "GLP", {"name": "RITIK-GLSA-4"})
    assert shown["title"] == "Case for Ritik-2 Parikh-2" and shown["submitter_id"] == SUBMITTER


def test_each_case_field_keeps_the_newest_value_that_named_it(store: Store) -> None:
    first = comment_event(updated_at="2025-09-01T00:00:00.000Z")
    case_id = first["payload"]["case"]["id"]
    first["payload"]["case"]["closedBy"] = "first"
    latest = comment_event(updated_at="2025-09-05T00:00:00.000Z")
    latest["payload"]["case"] = {"id": case_id, "status": "REJECTED", "updatedAt": "2025-09-05T00:00:00.000Z"}
    middle = comment_event(updated_at="2025-09-03T00:00:00.000Z")
    middle["payload"]["case"]["closedBy"] = "middle"
    middle["payload"]["case"]["status"] = "OPEN"
    for event in (first, latest, middle):
        ingest(store, event)

    shown = case(store, case_id)
    assert (shown["closed_by"], shown["status"]) == ("middle", "REJECTED")
    assert shown["updated_at"] == datetime(2025, 9, 5, tzinfo=UTC)


def test_case_type_and_product_bundle_are_sealed_and_shown_only_revealed(store: Store) -> None:
    event = comment_event()
    ingest(store, event)
    case_id = event["payload"]["case"]["id"]
    with store.engine.connect() as connection:
        plain = connection.execute(select(CaseRow.type, CaseRow.product_bundle).where(CaseRow.id == case_id)).one()
        hidden = case_timeline(connection, store.vault, case_id)
        listed = list_cases(connection)
        revealed = case_timeline(connection, store.vault, case_id, reveal=True)
    assert tuple(plain) == (None, None)
    for shown in (hidden, *listed):
        assert "GLP" not in repr(shown) and "RITIK-GLSA-4" not in repr(shown)
    assert (revealed["type"], revealed["productBundle"]) == ("GLP", {"name": "RITIK-GLSA-4"})
