from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from casehooks.events import parse_object
from casehooks.store.mapping import FileOutcome, event_rows

SEEN = datetime(2025, 9, 4, tzinfo=UTC)


def test_comment_event_maps_to_case_people_activity_comment_and_attachment(comment_body: dict[str, Any]) -> None:
    event = parse_object(comment_body)
    outcome = FileOutcome("stored", "ab" * 32, 4)
    rows = event_rows(event, "evt-1", {"5e162d52-cf7f-46bd-b53e-dc8e29005a29": outcome})

    assert rows.case is not None
    assert rows.case.columns["short_id"] == "ADA-C1HM17"
    assert rows.case.columns["status"] == "APPROVED"
    assert rows.case.details == {
        "title": "Case for Ritik-2 Parikh-2",
        "referralCode": None,
        "archiveReason": None,
        "type": "GLP",
        "productBundle": {"name": "RITIK-GLSA-4"},
    }
    assert rows.comment is not None and rows.comment.details == {"text": "Please find my data"}
    assert rows.comment.columns["author_role"] == "USER"
    assert [a.columns["content_status"] for a in rows.attachments] == ["stored"]
    assert rows.attachments[0].columns["blob_sha256"] == "ab" * 32
    assert rows.attachments[0].columns["comment_id"] == "78efb1f8-f62d-455a-8b6f-72cf2c52fe70"
    assert rows.activity is not None and rows.activity.columns["target_user_id"] == "4cNpFgLRTtPcEjbAH9ujWAv1zY03"


def test_plain_columns_carry_no_phi(comment_body: dict[str, Any]) -> None:
    event = parse_object(comment_body)
    rows = event_rows(event, "evt-1", {})
    every = [rows.case, rows.activity, rows.comment, *rows.people, *rows.attachments]
    plain = repr([row.columns for row in every if row is not None])
    for phi in (
        "Ritik-2",
        "Parikh-2",
        "ritik.parikh",
        "1271 6th Avenue",
        "Please find my data",
        "logo.png",
        "1998",
        "GLP",
    ):
        assert phi not in plain


def test_a_person_named_twice_is_one_row(comment_body: dict[str, Any]) -> None:
    event = parse_object(comment_body)
    rows = event_rows(event, "evt-1", {})
    ids = [person.key for person in rows.people]
    assert len(ids) == len(set(ids))
    assert "WzvygANWTEcfsLlDW1K22WWS7dY2" in ids  # submitter, actor, author and uploader at once


def test_attachment_without_stored_file_is_absent(attachment_body: dict[str, Any]) -> None:
    event = parse_object(attachment_body)
    rows = event_rows(event, "evt-2", {})
    assert rows.attachments[0].columns["content_status"] == "absent"
    assert rows.attachments[0].details["fileName"] == "logo.png"
    assert rows.attachments[0].aad == b"attachments:8085262f-4c1b-426b-8953-64eec489f08d"
