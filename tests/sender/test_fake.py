import base64
import random
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator

from casehooks.events import CaseAttachmentAdded, CaseCommentAdded, parse_event, stringify
from casehooks.events.jsonschema import event_json_schema
from casehooks.sender.fake import EVENT_TYPES, fake_event

SEEDS = st.integers(min_value=0, max_value=2**32)


@settings(max_examples=150, deadline=None)
@given(seed=SEEDS, event_type=st.sampled_from(EVENT_TYPES))
def test_every_fake_event_parses(seed: int, event_type: str) -> None:
    body = stringify(fake_event(event_type, random.Random(seed), attachment_bytes=64))
    event = parse_event(body)
    assert event.type == event_type
    assert event.case is not None and event.activity is not None
    assert event.activity.type == event_type


@settings(max_examples=25, deadline=None)
@given(seed=SEEDS)
def test_same_seed_gives_same_bytes(seed: int) -> None:
    first = stringify(fake_event("ADD_CASE_COMMENT", random.Random(seed)))
    assert stringify(fake_event("ADD_CASE_COMMENT", random.Random(seed))) == first


def test_different_seeds_give_different_events() -> None:
    assert fake_event("ADD_CASE_COMMENT", random.Random(1)) != fake_event("ADD_CASE_COMMENT", random.Random(2))


@pytest.mark.parametrize("event_type", ["ADD_CASE_COMMENT", "ADD_CASE_ATTACHMENT"])
def test_documented_events_have_the_seed_key_order(event_type: str, comment_body: dict, attachment_body: dict) -> None:
    seed = comment_body if event_type == "ADD_CASE_COMMENT" else attachment_body
    made = fake_event(event_type, random.Random(3))
    assert list(made) == list(seed)
    assert list(made["payload"]) == list(seed["payload"])
    for key in made["payload"]:
        assert list(made["payload"][key]) == list(seed["payload"][key])
    assert list(made["payload"]["case"]["submitter"]) == list(seed["payload"]["case"]["submitter"])


def test_attachment_content_is_real_base64_of_the_requested_size() -> None:
    event = parse_event(stringify(fake_event("ADD_CASE_ATTACHMENT", random.Random(5), attachment_bytes=5000)))
    assert isinstance(event, CaseAttachmentAdded)
    assert event.attachment.content is not None
    data = event.attachment.content.read()
    assert len(data) == 5000
    assert data.startswith((b"\x89PNG\r\n\x1a\n", b"%PDF-"))


def test_url_format_puts_the_link_in_content() -> None:
    made = fake_event(
        "ADD_CASE_COMMENT", random.Random(6), document_format="URL", document_url=lambda i: f"https://h.test/d/{i}"
    )
    event = parse_event(stringify(made))
    assert isinstance(event, CaseCommentAdded)
    (attachment,) = event.attachments()
    assert attachment.document_url == f"https://h.test/d/{attachment.id}"


def test_comment_without_attachment_bytes_has_no_attachments() -> None:
    made = fake_event("ADD_CASE_COMMENT", random.Random(7), attachment_bytes=0)
    assert made["payload"]["comment"]["attachments"] == []


def test_ids_look_like_the_platform_ids() -> None:
    made = fake_event("ADD_CASE_COMMENT", random.Random(8))
    assert len(made["payload"]["comment"]["author"]["id"]) == 28
    assert len(made["payload"]["case"]["submitter"]["id"]) == 28
    assert base64.b64decode(made["payload"]["comment"]["attachments"][0]["content"])
    assert made["payload"]["activity"]["id"].count("-") == 4


def test_order_tracking_carries_order_beside_payload() -> None:
    made = fake_event("ORDER_TRACKING_ADDED", random.Random(9))
    assert set(made) == {"event", "payload", "order"}
    assert made["order"]["trackingId"]


def test_decision_event_carries_the_decision_first() -> None:
    made = fake_event("ADD_CASE_DECISION", random.Random(10))
    assert next(iter(made["payload"])) == "decision"
    assert made["payload"]["decision"]["medInfo"][0]["medicine"]


MED_INFO_KEYS = {
    "id",
    "medicine",
    "dosage",
    "refillCount",
    "pharmacyInstructions",
    "dosingFrequency",
    "externalId",
    "isRefill",
    "treatmentPeriod",
    "isPriorAuthRequested",
}
DECISION_KEYS = {
    "id",
    "isApproved",
    "isNoDecision",
    "startDate",
    "endDate",
    "decisionText",
    "category",
    "createdAt",
    "visitType",
    "medInfo",
}
VISIT_TYPES = {"NO_SHOW", "ASYNC_TEXT_EMAIL", "SYNC_VIDEO", "SYNC_PHONE", "ORDER_FORM"}


@settings(max_examples=40, deadline=None)
@given(seed=SEEDS)
def test_added_decision_has_the_prescriber_and_closes_the_case(seed: int) -> None:
    made = fake_event("ADD_CASE_DECISION", random.Random(seed))
    decision = made["payload"]["decision"]
    assert set(decision) == DECISION_KEYS | {"addedBy"}
    assert decision["visitType"] in VISIT_TYPES
    assert set(decision["addedBy"]) == {
        *("firstName", "lastName", "title", "email", "phoneNumber", "npi", "dea"),
        *("address", "city", "state", "postalCode"),
    }
    assert all(set(item) == MED_INFO_KEYS for item in decision["medInfo"])
    case = made["payload"]["case"]
    assert case["status"] == ("APPROVED" if decision["isApproved"] else "REJECTED")
    assert case["closedAt"] is not None
    assert made["payload"]["activity"]["valueAfter"] == case["status"]


@settings(max_examples=40, deadline=None)
@given(seed=SEEDS)
def test_deleted_decision_differs_from_an_added_one(seed: int) -> None:
    made = fake_event("DECISION_DELETED", random.Random(seed))
    decision = made["payload"]["decision"]
    assert set(decision) == DECISION_KEYS | {"addedById", "isIndefinite", "caseId", "cost", "isPaid"}
    assert decision["caseId"] == made["payload"]["case"]["id"]
    assert len(decision["addedById"]) == 28
    assert made["payload"]["case"]["closedAt"] is None
    assert decision["visitType"] in VISIT_TYPES


@pytest.mark.parametrize("event_type", ["ADD_FORM_RESPONSE", "UPDATE_FORM_RESPONSE"])
def test_form_events_carry_the_form_and_its_answers(event_type: str) -> None:
    made = fake_event(event_type, random.Random(11))
    payload = made["payload"]
    assert set(payload["form"]) == {"id", "name", "description"}
    assert payload["response"]
    for item in payload["response"]:
        assert set(item) == {"id", "isArchived", "question", "text", "createdAt", "respondent"}
        assert set(item["question"]) == {"index", "type", "text", "isPHI", "options", "required"}
        assert item["respondent"]["id"] == payload["case"]["submitter"]["id"]


@pytest.mark.parametrize("event_type", ["ADD_CASE_ASSIGNEE", "REMOVE_CASE_ASSIGNEE"])
def test_assignee_events_carry_a_list_of_assignees(event_type: str) -> None:
    made = fake_event(event_type, random.Random(12))
    payload = made["payload"]
    assert "assignee" not in payload
    (entry,) = payload["assignees"]
    assert set(entry["assignee"]) == {"id", "firstName", "lastName"}
    assert len(entry["assignee"]["id"]) == 28
    assert payload["activity"]["targetUser"]["id"] == entry["assignee"]["id"]


@pytest.mark.parametrize("event_type", ["ORDER_CREATED", "ORDER_STATUS_CHANGED", "ORDER_TRACKING_ADDED"])
def test_order_events_put_the_order_at_the_top_level(event_type: str) -> None:
    made = fake_event(event_type, random.Random(13))
    assert list(made) == ["event", "payload", "order"]
    assert set(made["order"]) == {"id", "status", "trackingId", "message", "createdAt"}
    assert "order" not in made["payload"]


def test_payment_link_sends_masked_payment_info_and_the_case_id() -> None:
    made = fake_event("ADD_PAYMENT_INFO_USING_LINK", random.Random(14))
    payload = made["payload"]
    assert "payment" not in payload
    assert payload["caseId"] == payload["case"]["id"]
    info = payload["paymentInfo"]
    assert info["maskedCardNumber"].startswith("**** **** **** ")
    assert sum(ch.isdigit() for ch in info["maskedCardNumber"]) == 4
    for key in ("shippingAddress", "billingAddress"):
        assert set(info[key]) == {"addressLine1", "addressLine2", "city", "state", "country", "postalCode"}
        assert len(info[key]["country"]) == 2


@pytest.mark.parametrize("event_type", [t for t in EVENT_TYPES if t.startswith("CALENDAR_EVENT_")])
def test_calendar_events_use_the_documented_names(event_type: str) -> None:
    calendar = fake_event(event_type, random.Random(15))["payload"]["calendarEvent"]
    assert "startTime" not in calendar and "endTime" not in calendar
    assert calendar["startDateTime"] < calendar["endDateTime"]
    assert {"timezone", "meetingNotes", "cancelURL", "rescheduleURL", "meetingLink"} <= set(calendar)
    assert set(calendar["tracking"]) >= {"utm_term", "utm_medium"}
    assert calendar["status"] in {
        None,
        "EVENT_ACCEPTED_BY_PROVIDER",
        "MISSED_EVENT_BY_PROVIDER",
        "MISSED_EVENT_BY_USER",
        "NEED_RESCHEDULE",
    }


@settings(max_examples=30, deadline=None)
@given(seed=SEEDS)
def test_the_snapshot_agrees_with_case_state_events(seed: int) -> None:
    def case(event_type: str) -> dict:
        return fake_event(event_type, random.Random(seed))["payload"]["case"]

    archived = case("ARCHIVE_CASE")
    assert archived["isArchived"] is True and archived["archiveReason"] in ("COMPLETE", "INELIGIBLE")
    assert case("ESCALATE_CASE")["isEscalated"] is True
    assert case("DEESCALATE_CASE")["isEscalated"] is False
    assert case("IMPORT_CASE")["isImported"] is True
    assert case("CREATE_CASE")["status"] == "OPEN"
    reopened = case("REOPEN_CASE")
    assert reopened["status"] == "IN_PROGRESS" and reopened["closedAt"] is None
    status = fake_event("CHANGE_CASE_STATUS", random.Random(seed))["payload"]
    assert status["activity"]["valueAfter"] == status["case"]["status"]
    assert status["activity"]["valueBefore"] != status["case"]["status"]


def test_unknown_types_are_refused() -> None:
    with pytest.raises(ValueError, match="unknown event type"):
        fake_event("FOO", random.Random(1))


def test_closed_case_has_consistent_timestamps() -> None:
    for seed in range(50):
        case = fake_event("CREATE_CASE", random.Random(seed))["payload"]["case"]
        if case["status"] in ("APPROVED", "REJECTED", "NO_DECISION"):
            assert case["createdAt"] <= case["assignedAt"] <= case["inProgressAt"] <= case["closedAt"]
            assert case["closedBy"] and case["inProgressBy"]
        if case["status"] == "OPEN":
            assert case["assignedAt"] is None and case["closedAt"] is None


#: Deviations the seeds themselves show (tests/fixtures/golden), or that the documented shapes imply: user ids
#: are 28-character strings, not UUIDs; a case not yet assigned or closed has null times; an activity without a
#: target has a null targetUser.
ALLOWED_DEVIATIONS = re.compile(
    r"^(null:payload\.case\.(referralCode|assignedAt|inProgressAt|closedAt|closedBy|inProgressBy|archiveReason)"
    r"|undocumented_field:payload\.activity\.(isPHI|isRestricted|valueBefore|valueAfter)"
    r"|renamed:payload\.comments"
    r"|undocumented_field:payload\.comments?\.forms\[\d+\]\.questions(\[\d+\]\.isPHI)?"
    r"|not_uuid:payload\.activity\.(actor|targetUser)\.id"
    r"|not_uuid:payload\.(comments?\.author|attachment\.uploadedBy|comments?\.attachments\[\d+\]\.uploadedBy)\.id"
    r"|null:payload\.activity\.targetUser"
    r"|document_url:.*)$"
)


@pytest.mark.parametrize("event_type", EVENT_TYPES)
def test_every_type_matches_its_json_schema_with_only_documented_deviations(event_type: str) -> None:
    validator = Draft202012Validator(event_json_schema(event_type))
    for seed in range(5):
        body = fake_event(event_type, random.Random(seed), attachment_bytes=64)
        assert [error.message for error in validator.iter_errors(body)] == []
        event = parse_event(stringify(body))
        found = [f"{d.kind}:{d.path}" for d in event.deviations]
        unexpected = [item for item in found if not ALLOWED_DEVIATIONS.match(item)]
        assert unexpected == []
