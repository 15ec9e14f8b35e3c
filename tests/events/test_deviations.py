"""Deviations: every kind from a minimal change to a seed, the seeds' own list as a golden, and no PHI."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from casehooks.events import Deviation, DeviationKind, parse_event, parse_object
from tests.conftest import SEED_PHI
from tests.events.bodies import seed_shaped

GOLDEN = Path(__file__).parent.parent / "fixtures" / "golden"
_SNAPSHOT = ("payload.case", "payload.activity")  # the seeds' own deviations, covered by their golden lists


def _of_kind(body: dict[str, Any], kind: DeviationKind) -> list[Deviation]:
    return [deviation for deviation in parse_object(body).deviations if deviation.kind is kind]


def _seed_paths(body: dict[str, Any], kind: DeviationKind) -> set[str]:
    return {deviation.path for deviation in parse_object(body).deviations if deviation.kind is kind}


def test_missing_documented_field(attachment_body: dict[str, Any]) -> None:
    del attachment_body["payload"]["case"]["shortId"]
    found = _of_kind(attachment_body, DeviationKind.MISSING)
    assert [(d.path, d.documented, d.received) for d in found] == [("payload.case.shortId", "string", "absent")]


def test_null_where_docs_say_non_null(attachment_body: dict[str, Any]) -> None:
    before = _seed_paths(attachment_body, DeviationKind.NULL)
    attachment_body["payload"]["case"]["type"] = None
    found = [d for d in _of_kind(attachment_body, DeviationKind.NULL) if d.path not in before]
    assert [(d.path, d.documented, d.received) for d in found] == [("payload.case.type", "string", "null")]


def test_null_where_docs_allow_null_is_no_deviation(comment_body: dict[str, Any]) -> None:
    comment_body["payload"]["case"]["closedAt"] = None
    comment_body["payload"]["case"]["archiveReason"] = None
    paths = {d.path for d in parse_object(comment_body).deviations}
    assert "payload.case.closedAt" not in paths
    assert "payload.case.archiveReason" not in paths


def test_not_uuid(attachment_body: dict[str, Any]) -> None:
    attachment_body["payload"]["attachment"]["id"] = "att_123"
    found = [d for d in _of_kind(attachment_body, DeviationKind.NOT_UUID) if d.path == "payload.attachment.id"]
    assert [(d.documented, d.received) for d in found] == [("string<UUID>", "string of 7 characters")]


def test_unknown_value(attachment_body: dict[str, Any]) -> None:
    attachment_body["payload"]["case"]["status"] = "ON_HOLD"
    found = _of_kind(attachment_body, DeviationKind.UNKNOWN_VALUE)
    assert [(d.path, d.documented, d.received) for d in found] == [
        ("payload.case.status", "one of 6 values", "string of 7 characters")
    ]


def test_undocumented_field(attachment_body: dict[str, Any]) -> None:
    attachment_body["payload"]["case"]["priority"] = 3
    found = _of_kind(attachment_body, DeviationKind.UNDOCUMENTED_FIELD)
    found = [d for d in found if d.path.startswith("payload.case.")]
    assert [(d.path, d.received) for d in found] == [
        ("payload.case.<undocumented key 1>", "number under a key of 8 characters")
    ]


def test_undocumented_field_of_a_generic_payload_is_not_reported(attachment_body: dict[str, Any]) -> None:
    attachment_body["event"] = "ORDER_CREATED"
    paths = {d.path for d in parse_object(attachment_body).deviations}
    assert "payload.attachment" not in paths


def test_renamed_is_reported_against_the_documented_name(comment_body: dict[str, Any]) -> None:
    found = _of_kind(comment_body, DeviationKind.RENAMED)
    assert [(d.path, d.documented, d.received) for d in found] == [("payload.comments", "comments", "comment")]
    comment_body["payload"]["comments"] = comment_body["payload"].pop("comment")
    assert _of_kind(comment_body, DeviationKind.RENAMED) == []


def test_not_base64(attachment_body: dict[str, Any]) -> None:
    found = _of_kind(attachment_body, DeviationKind.NOT_BASE64)
    assert [(d.path, d.received) for d in found] == [("payload.attachment.content", "string of 11 characters")]


def test_valid_base64_content_is_no_deviation(attachment_body: dict[str, Any]) -> None:
    attachment_body["payload"]["attachment"]["content"] = "iVBORw0KGgo="
    assert _of_kind(attachment_body, DeviationKind.NOT_BASE64) == []


def test_document_url_in_content(attachment_body: dict[str, Any]) -> None:
    attachment_body["payload"]["attachment"]["content"] = "https://files.example/logo.png?sig=abc"
    found = _of_kind(attachment_body, DeviationKind.DOCUMENT_URL)
    assert [(d.path, d.received) for d in found] == [("payload.attachment.content", "a download URL")]
    assert _of_kind(attachment_body, DeviationKind.NOT_BASE64) == []


def test_document_url_in_a_sibling_field(attachment_body: dict[str, Any]) -> None:
    del attachment_body["payload"]["attachment"]["content"]
    attachment_body["payload"]["attachment"]["downloadUrl"] = "https://files.example/logo.png?sig=abc"
    found = _of_kind(attachment_body, DeviationKind.DOCUMENT_URL)
    assert [d.path for d in found] == ["payload.attachment.<undocumented key 1>"]
    event = parse_object(attachment_body)
    assert event.attachments()[0].document_url_field == "downloadUrl"
    assert event.attachments()[0].document_url == "https://files.example/logo.png?sig=abc"


def test_unknown_event(attachment_body: dict[str, Any]) -> None:
    attachment_body["event"] = "SOMETHING_NEW"
    found = _of_kind(attachment_body, DeviationKind.UNKNOWN_EVENT)
    assert [(d.path, d.received) for d in found] == [("event", "string of 13 characters")]


def test_every_kind_is_covered_above() -> None:
    tests = [name for name in globals() if name.startswith("test_")]
    assert all(any(name.startswith(f"test_{kind.value}") for name in tests) for kind in DeviationKind)


@pytest.mark.parametrize(("seed", "golden"), [("attachment_raw", "attachment"), ("comment_raw", "comment")])
def test_seed_deviations_match_the_golden_list(seed: str, golden: str, request: pytest.FixtureRequest) -> None:
    raw: bytes = request.getfixturevalue(seed)
    expected = json.loads((GOLDEN / f"deviations_{golden}.json").read_text())
    assert [d.to_dict() for d in parse_event(raw).deviations] == expected


def test_deviation_to_dict_uses_plain_strings(attachment_raw: bytes) -> None:
    for deviation in parse_event(attachment_raw).deviations:
        as_dict = deviation.to_dict()
        assert set(as_dict) == {"path", "kind", "documented", "received"}
        assert all(type(value) is str for value in as_dict.values())


@pytest.mark.parametrize("seed", ["attachment_raw", "comment_raw"])
def test_seed_deviations_carry_no_phi(seed: str, request: pytest.FixtureRequest) -> None:
    raw: bytes = request.getfixturevalue(seed)
    text = json.dumps([d.to_dict() for d in parse_event(raw).deviations])
    for value in SEED_PHI:
        assert value not in text


def test_received_never_shows_phi_values(comment_body: dict[str, Any]) -> None:
    submitter = comment_body["payload"]["case"]["submitter"]
    submitter["firstName"] = None
    submitter["lastName"] = "Quartermain-Zebediah"
    submitter["email"] = "zeb.q@private-clinic.example"
    submitter["gender"] = "ZEBEDIAH_SPECIFIC_GENDER"
    submitter["dob"] = "1961-04-12T00:00:00.000Z"
    submitter["favouriteColour"] = "Zebediah-Blue"
    comment_body["payload"]["comment"]["text"] = None
    comment_body["payload"]["activity"]["valueAfter"] = "Zebediah's diagnosis"
    comment_body["payload"]["activity"]["actor"]["id"] = "Zebediah Quartermain"
    comment_body["payload"]["comment"]["attachments"][0]["content"] = "Zebediah's scan, not base64"
    comment_body["payload"]["comment"]["attachments"][0]["fileName"] = "zebediah-mri.png"
    comment_body["payload"]["comment"]["attachments"][0]["scanOfZebediah"] = "Zebediah"
    comment_body["payload"]["case"]["title"] = None
    deviations = parse_object(comment_body).deviations
    received = " ".join(d.received + d.documented + d.path for d in deviations)
    for secret in ("Zebediah", "Quartermain", "private-clinic", "1961", "ZEBEDIAH", "Blue", "diagnosis", "mri"):
        assert secret not in received
    gender = [d for d in deviations if d.path == "payload.case.submitter.gender"]
    assert [(d.kind, d.received) for d in gender] == [(DeviationKind.UNKNOWN_VALUE, "string of 24 characters")]


def test_unknown_event_type_is_described_not_shown(attachment_body: dict[str, Any]) -> None:
    attachment_body["event"] = "Zebediah Quartermain " * 20
    (found,) = _of_kind(attachment_body, DeviationKind.UNKNOWN_EVENT)
    assert found.received == "string of 420 characters"


def test_unknown_enum_value_and_key_names_are_never_echoed(attachment_body: dict[str, Any]) -> None:
    attachment_body["payload"]["case"]["status"] = "ZEBEDIAH_ON_HOLD"
    attachment_body["payload"]["case"]["Zebediah Quartermain 1961-04-12"] = {"Zebediah": "x"}
    attachment_body["payload"]["attachment"]["zebediahUrl"] = "https://files.example/zebediah.png"
    text = json.dumps([d.to_dict() for d in parse_object(attachment_body).deviations])
    assert "ebediah" not in text
    assert "1961" not in text


def _drifted(attachment_body: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Seed-shaped bodies of the typed events, each changed the ways the platform's pages say it drifts."""
    decision = seed_shaped("ADD_CASE_DECISION", attachment_body)
    decision["payload"]["decision"]["medInfo"] = {**decision["payload"]["decision"]["medInfo"][0], "sig": "qd"}
    decision["payload"]["decision"]["visitType"] = "SYNC_CHAT"
    decision["payload"]["decision"]["isApproved"] = None
    del decision["payload"]["decision"]["addedBy"]["npi"]
    form = seed_shaped("ADD_FORM_RESPONSE", attachment_body)
    form["payload"]["response"] = form["payload"]["response"][0]
    form["payload"]["response"]["question"]["type"] = "WIDGET_NEW"
    order = seed_shaped("ORDER_TRACKING_ADDED", attachment_body)
    order["order"]["id"] = "ord_1"
    order["order"]["carrier"] = "UPS"
    calendar = seed_shaped("CALENDAR_EVENT_STATUS_UPDATED", attachment_body)
    calendar["payload"]["calendarEvent"]["tracking"]["partner_id"] = "newsletter"
    del calendar["payload"]["calendarEvent"]["timezone"]
    payment = seed_shaped("ADD_PAYMENT_INFO_USING_LINK", attachment_body)
    payment["payload"]["paymentInfo"]["billingAddress"] = None
    return {"decision": decision, "form": form, "order": order, "calendar": calendar, "payment": payment}


def test_typed_event_deviations_match_the_golden_list(attachment_body: dict[str, Any]) -> None:
    found = {
        name: [d.to_dict() for d in parse_object(body).deviations if not d.path.startswith(_SNAPSHOT)]
        for name, body in _drifted(attachment_body).items()
    }
    assert found == json.loads((GOLDEN / "deviations_typed.json").read_text())
