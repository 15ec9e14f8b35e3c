"""parse_event / parse_object: the seed examples, unknown event types and malformed envelopes."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime
from typing import Any

import pytest

from casehooks import SchemaError
from casehooks.events import (
    Activity,
    ActivityType,
    Attachment,
    Author,
    AuthorRole,
    Case,
    CaseAttachmentAdded,
    CaseCommentAdded,
    CaseEvent,
    CaseStatus,
    Comment,
    Content,
    DeviationKind,
    Form,
    FormQuestion,
    Gender,
    OrderTrackingAdded,
    OrganizationAccess,
    OrganizationRole,
    Person,
    ProductBundle,
    Submitter,
    Timestamp,
    Uploader,
    parse_event,
    parse_object,
)


def _at(text: str) -> datetime:
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%f").replace(tzinfo=UTC)


def _assert_instant(value: object, wire: str) -> None:
    assert isinstance(value, Timestamp)
    assert value.tzinfo is not None
    assert value.utcoffset() is not None
    assert value == _at(wire.removesuffix("Z"))
    assert value.wire == wire


def _kinds(event: Any) -> set[DeviationKind]:
    return {deviation.kind for deviation in event.deviations}


# --- the attachment seed -------------------------------------------------------------------------------------


def test_attachment_seed_parses_as_case_attachment_added(attachment_raw: bytes) -> None:
    event = parse_event(attachment_raw)
    assert type(event) is CaseAttachmentAdded
    assert event.event == "ADD_CASE_ATTACHMENT"
    assert event.type == "ADD_CASE_ATTACHMENT"


def test_attachment_seed_attachment_fields(attachment_raw: bytes) -> None:
    event = parse_event(attachment_raw)
    assert isinstance(event, CaseAttachmentAdded)
    attachment = event.attachment
    assert type(attachment) is Attachment
    assert attachment.id == "8085262f-4c1b-426b-8953-64eec489f08d"
    assert attachment.is_restricted is False
    assert attachment.is_phi is False
    assert attachment.file_name == "logo.png"
    assert attachment.is_deleted is False
    _assert_instant(attachment.created_at, "2025-09-03T23:52:43.927Z")
    assert event.attachments() == (attachment,)


def test_attachment_seed_uploaded_by(attachment_raw: bytes) -> None:
    event = parse_event(attachment_raw)
    assert isinstance(event, CaseAttachmentAdded)
    uploader = event.attachment.uploaded_by
    assert type(uploader) is Uploader
    assert uploader.id == "YaM948FdwiQa3Ek3GCnYsnZTTSW2"
    assert uploader.first_name == "Ritik-1-Med"
    assert uploader.last_name == "Parikh-1-Med"


def test_attachment_seed_content_is_kept_undecoded(attachment_raw: bytes) -> None:
    event = parse_event(attachment_raw)
    assert isinstance(event, CaseAttachmentAdded)
    content = event.attachment.content
    assert type(content) is Content
    assert content.text == "base64 data"
    assert content.is_url is False
    assert content.is_base64() is False
    assert event.attachment.document_url is None
    assert event.attachment.document_url_field is None


def test_attachment_seed_case_fields(attachment_raw: bytes) -> None:
    case = parse_event(attachment_raw).case
    assert type(case) is Case
    assert case.id == "5abd7b81-6702-42d7-a776-a10b363a5be2"
    assert case.type == "GLP"
    assert case.title == "Case for api_user6 user_lastname6"
    assert case.status is CaseStatus.APPROVED
    assert case.status.is_closed is True
    assert case.short_id == "ADA-60DSBO"
    _assert_instant(case.created_at, "2025-08-08T11:29:47.888Z")
    _assert_instant(case.updated_at, "2025-09-03T23:26:48.614Z")
    _assert_instant(case.assigned_at, "2025-09-03T14:48:30.565Z")
    _assert_instant(case.in_progress_at, "2025-09-03T14:48:30.859Z")
    _assert_instant(case.closed_at, "2025-09-03T23:26:48.584Z")
    assert case.is_archived is False
    assert case.is_escalated is True
    assert case.is_imported is False
    assert case.referral_code is None
    assert case.closed_by == "YaM948FdwiQa3Ek3GCnYsnZTTSW2"
    assert case.in_progress_by == "DgHxzGRtS5gFzdL7cReiPzJcA852"
    assert case.organization_id == "652f45e9-eb17-4955-8197-4170e375327f"
    assert case.archive_reason is None
    assert type(case.product_bundle) is ProductBundle
    assert case.product_bundle.name == "BUNDLE-RITIK_GLP"


def test_attachment_seed_submitter_fields(attachment_raw: bytes) -> None:
    case = parse_event(attachment_raw).case
    assert case is not None
    submitter = case.submitter
    assert type(submitter) is Submitter
    assert submitter.id == "sotf7RtpKeVWTivoaUYu8G8yrGx2"
    assert submitter.first_name == "api_user6"
    assert submitter.last_name == "user_lastname6"
    assert submitter.email == "ritik.parikh01@carevalidate.com"
    _assert_instant(submitter.dob, "2000-01-01T00:00:00.000Z")
    assert submitter.gender is Gender.MALE
    assert submitter.phone_number == "+11235678111"
    assert submitter.address == "line1"
    assert submitter.address2 == "line2"
    assert submitter.city == "Alpharetaa"
    assert submitter.state == "CA"
    assert submitter.postal_code == "30005"


def test_attachment_seed_activity_fields(attachment_raw: bytes) -> None:
    activity = parse_event(attachment_raw).activity
    assert type(activity) is Activity
    assert activity.id == "d1141cfd-9f3b-4e50-ac0f-78e83477dc02"
    assert activity.type is ActivityType.ADD_CASE_ATTACHMENT
    assert activity.is_phi is False
    assert activity.is_restricted is False
    _assert_instant(activity.timestamp, "2025-09-03T23:52:43.927Z")
    assert activity.value_before is None
    assert activity.value_after == "logo.png"
    assert type(activity.actor) is Person
    assert activity.actor.id == "YaM948FdwiQa3Ek3GCnYsnZTTSW2"
    assert activity.actor.first_name == "Ritik-1-Med"
    assert activity.actor.last_name == "Parikh-1-Med"
    assert activity.actor.email == "ritik.parikh+med1@carevalidate.com"
    assert activity.target_user is None


# --- the comment seed ----------------------------------------------------------------------------------------


def test_comment_seed_parses_as_case_comment_added(comment_raw: bytes) -> None:
    event = parse_event(comment_raw)
    assert type(event) is CaseCommentAdded
    assert event.type == "ADD_CASE_COMMENT"


def test_comment_seed_comment_fields(comment_raw: bytes) -> None:
    event = parse_event(comment_raw)
    assert isinstance(event, CaseCommentAdded)
    comment = event.comment
    assert type(comment) is Comment
    assert comment.id == "78efb1f8-f62d-455a-8b6f-72cf2c52fe70"
    assert comment.text == "Please find my data"
    assert comment.is_restricted is False
    _assert_instant(comment.created_at, "2025-09-03T21:42:14.260Z")


def test_comment_seed_forms(comment_raw: bytes) -> None:
    event = parse_event(comment_raw)
    assert isinstance(event, CaseCommentAdded)
    forms = event.comment.forms
    assert forms is not None
    assert len(forms) == 1
    assert type(forms[0]) is Form
    questions = forms[0].questions
    assert questions is not None
    assert len(questions) == 2
    assert all(type(question) is FormQuestion for question in questions)
    assert questions[0].is_phi is False
    assert questions[1].is_phi is False
    assert event.comment.has_phi_forms is False


def test_comment_seed_author(comment_raw: bytes) -> None:
    event = parse_event(comment_raw)
    assert isinstance(event, CaseCommentAdded)
    author = event.comment.author
    assert type(author) is Author
    assert author.id == "WzvygANWTEcfsLlDW1K22WWS7dY2"
    assert author.first_name == "Ritik-2"
    assert author.last_name == "Parikh-2"
    assert author.email == "ritik.parikh+02@carevalidate.com"
    assert author.role is AuthorRole.USER
    assert author.title is None
    assert author.title_suffix is None
    assert author.npi is None
    assert author.dea is None
    assert author.organization_access is not None
    assert len(author.organization_access) == 1
    assert type(author.organization_access[0]) is OrganizationAccess
    assert author.organization_access[0].role is OrganizationRole.TPA_MEDICAL


def test_comment_seed_attachment(comment_raw: bytes) -> None:
    event = parse_event(comment_raw)
    assert isinstance(event, CaseCommentAdded)
    assert event.comment.attachments is not None
    (attachment,) = event.comment.attachments
    assert event.attachments() == (attachment,)
    assert attachment.id == "5e162d52-cf7f-46bd-b53e-dc8e29005a29"
    assert attachment.is_restricted is False
    assert attachment.is_phi is False
    assert attachment.file_name == "logo.png"
    assert attachment.is_deleted is False
    _assert_instant(attachment.created_at, "2025-09-03T22:07:48.071Z")
    assert attachment.uploaded_by is not None
    assert attachment.uploaded_by.id == "WzvygANWTEcfsLlDW1K22WWS7dY2"
    assert attachment.uploaded_by.first_name == "Ritik-2"
    assert attachment.uploaded_by.last_name == "Parikh-2"
    assert type(attachment.content) is Content
    assert attachment.content.text == "base64 content"


def test_comment_seed_case_and_submitter(comment_raw: bytes) -> None:
    case = parse_event(comment_raw).case
    assert case is not None
    assert case.id == "ec7ebb4c-3a36-43bf-93f7-3c292020c281"
    assert case.type == "GLP"
    assert case.title == "Case for Ritik-2 Parikh-2"
    assert case.status is CaseStatus.APPROVED
    assert case.short_id == "ADA-C1HM17"
    _assert_instant(case.created_at, "2025-08-05T08:51:38.903Z")
    _assert_instant(case.updated_at, "2025-08-06T18:04:51.722Z")
    _assert_instant(case.assigned_at, "2025-08-06T18:04:26.412Z")
    _assert_instant(case.in_progress_at, "2025-08-06T18:04:28.538Z")
    _assert_instant(case.closed_at, "2025-08-06T18:04:51.678Z")
    assert (case.is_archived, case.is_escalated, case.is_imported) == (False, True, False)
    assert case.referral_code is None
    assert case.closed_by == "DgHxzGRtS5gFzdL7cReiPzJcA852"
    assert case.in_progress_by == "DgHxzGRtS5gFzdL7cReiPzJcA852"
    assert case.organization_id == "652f45e9-eb17-4955-8197-4170e375327f"
    assert case.archive_reason is None
    assert case.product_bundle is not None
    assert case.product_bundle.name == "RITIK-GLSA-4"
    submitter = case.submitter
    assert submitter is not None
    assert submitter.id == "WzvygANWTEcfsLlDW1K22WWS7dY2"
    assert (submitter.first_name, submitter.last_name) == ("Ritik-2", "Parikh-2")
    assert submitter.email == "ritik.parikh+02@carevalidate.com"
    _assert_instant(submitter.dob, "1998-12-17T00:00:00.000Z")
    assert submitter.gender is Gender.MALE
    assert submitter.phone_number == "+12286475628"
    assert submitter.address == "1271 6th Avenue"
    assert submitter.address2 == ""
    assert (submitter.city, submitter.state, submitter.postal_code) == ("New York", "AK", "10020")


def test_comment_seed_activity(comment_raw: bytes) -> None:
    activity = parse_event(comment_raw).activity
    assert activity is not None
    assert activity.id == "2c87f7a8-00f7-4db4-80e2-98cc77baa68c"
    assert activity.type is ActivityType.ADD_CASE_COMMENT
    assert activity.is_phi is False
    assert activity.is_restricted is False
    _assert_instant(activity.timestamp, "2025-09-03T21:44:52.232Z")
    assert activity.value_before is None
    assert activity.value_after == "Please Attach my documents"
    assert activity.actor is not None
    assert activity.actor.id == "WzvygANWTEcfsLlDW1K22WWS7dY2"
    assert activity.actor.email == "ritik.parikh+02@carevalidate.com"
    target = activity.target_user
    assert type(target) is Person
    assert target.id == "4cNpFgLRTtPcEjbAH9ujWAv1zY03"
    assert target.first_name == "Ritik-TPA-1"
    assert target.last_name == "Parikh-TPA-1"
    assert target.email == "ritik.parikh+tpa1@carevalidate.com"


# --- round trips ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("seed", ["attachment_raw", "comment_raw"])
def test_seed_round_trips_to_the_same_object(seed: str, request: pytest.FixtureRequest) -> None:
    raw: bytes = request.getfixturevalue(seed)
    assert parse_event(raw).to_wire() == json.loads(raw)


@pytest.mark.parametrize("seed", ["attachment_raw", "comment_raw"])
def test_seed_round_trip_keeps_key_order(seed: str, request: pytest.FixtureRequest) -> None:
    raw: bytes = request.getfixturevalue(seed)
    assert json.dumps(parse_event(raw).to_wire()) == json.dumps(json.loads(raw))


def test_parse_event_accepts_str_bytearray_and_memoryview(attachment_raw: bytes) -> None:
    expected = parse_event(attachment_raw)
    assert parse_event(attachment_raw.decode()) == expected
    assert parse_event(bytearray(attachment_raw)) == expected
    assert parse_event(memoryview(attachment_raw)) == expected


def test_documented_comments_key_parses_without_a_renamed_deviation(comment_body: dict[str, Any]) -> None:
    comment_body["payload"] = {"comments": comment_body["payload"].pop("comment"), **comment_body["payload"]}
    event = parse_object(comment_body)
    assert isinstance(event, CaseCommentAdded)
    assert event.comment.id == "78efb1f8-f62d-455a-8b6f-72cf2c52fe70"
    assert [d for d in event.deviations if d.kind is DeviationKind.RENAMED] == []


def test_sent_comment_key_is_reported_as_renamed_from_the_documented_comments(comment_body: dict[str, Any]) -> None:
    renamed = [d for d in parse_object(comment_body).deviations if d.kind is DeviationKind.RENAMED]
    assert [(d.path, d.documented, d.received) for d in renamed] == [("payload.comments", "comments", "comment")]


def test_comments_key_round_trips_as_comments(comment_body: dict[str, Any]) -> None:
    comment_body["payload"] = {"comments": comment_body["payload"].pop("comment"), **comment_body["payload"]}
    wire = parse_object(comment_body).to_wire()
    assert "comment" not in wire["payload"]
    assert wire == comment_body


# --- unknown and generic event types -------------------------------------------------------------------------


def _generic(body: dict[str, Any], event_type: str) -> dict[str, Any]:
    generic = copy.deepcopy(body)
    generic["event"] = event_type
    generic["payload"]["activity"]["type"] = event_type
    return generic


def test_order_tracking_event_keeps_the_top_level_order(attachment_body: dict[str, Any]) -> None:
    body = _generic(attachment_body, "ORDER_TRACKING_ADDED")
    body["order"] = {"id": "0f0e3c36-1f0a-4d43-8c3b-6f1f8c1f0b1a", "status": "SHIPPED", "trackingId": "1Z999"}
    event = parse_object(body)
    assert isinstance(event, OrderTrackingAdded)
    assert event.order is not None
    assert event.order.tracking_id == "1Z999"
    assert event.activity is not None
    assert event.activity.type is ActivityType.ORDER_TRACKING_ADDED
    assert event.to_wire() == body
    assert DeviationKind.UNKNOWN_EVENT not in _kinds(event)


def test_subscription_paused_is_a_known_generic_event(attachment_body: dict[str, Any]) -> None:
    body = _generic(attachment_body, "SUBSCRIPTION_PAUSED")
    body["payload"]["subscription"] = {"id": "b1c1f5d0-3c1a-4b53-9a55-2a2d4a1f4e11", "pausedUntil": None}
    event = parse_object(body)
    assert type(event) is CaseEvent
    assert event.payload.model_extra is not None
    assert event.payload.model_extra["subscription"] == body["payload"]["subscription"]
    assert event.to_wire() == body
    assert DeviationKind.UNKNOWN_EVENT not in _kinds(event)


def test_made_up_event_type_parses_with_an_unknown_event_deviation(attachment_body: dict[str, Any]) -> None:
    body = _generic(attachment_body, "SOMETHING_NEW")
    body["payload"]["widget"] = {"a": [1, 2.5, None, {"b": "c"}]}
    body["extraTopLevel"] = True
    event = parse_object(body)
    assert type(event) is CaseEvent
    assert event.to_wire() == body
    unknown = [d for d in event.deviations if d.kind is DeviationKind.UNKNOWN_EVENT]
    assert [(d.path, d.received) for d in unknown] == [("event", "string of 13 characters")]


def test_generic_event_keeps_the_unknown_activity_type_as_a_string(attachment_body: dict[str, Any]) -> None:
    body = _generic(attachment_body, "SOMETHING_NEW")
    event = parse_object(body)
    assert event.activity is not None
    assert event.activity.type == "SOMETHING_NEW"
    assert not isinstance(event.activity.type, ActivityType)


def test_generic_event_with_payload_lacking_case_and_activity_parses() -> None:
    body = {"event": "TEXT_INFO", "payload": {"text": "x"}}
    event = parse_object(body)
    assert type(event) is CaseEvent
    assert event.case is None
    assert event.activity is None
    assert event.attachments() == ()
    assert event.to_wire() == body


# --- malformed envelopes -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "path"),
    [
        pytest.param(b'{"event": "ADD_CASE_COMMENT", "payload": ', "$", id="truncated"),
        pytest.param(b"not json at all", "$", id="not-json"),
        pytest.param(b"", "$", id="empty-body"),
        pytest.param(b'{"event": "\xff\xfe", "payload": {}}', "$", id="invalid-utf8"),
        pytest.param(b"[1, 2, 3]", "$", id="array"),
        pytest.param(b'"ADD_CASE_COMMENT"', "$", id="string"),
        pytest.param(b"null", "$", id="null"),
        pytest.param(b'{"payload": {}}', "event", id="missing-event"),
        pytest.param(b'{"event": "", "payload": {}}', "event", id="empty-event"),
        pytest.param(b'{"event": 7, "payload": {}}', "event", id="numeric-event"),
        pytest.param(b'{"event": "ADD_CASE_COMMENT"}', "payload", id="missing-payload"),
        pytest.param(b'{"event": "ADD_CASE_COMMENT", "payload": "x"}', "payload", id="payload-string"),
        pytest.param(b'{"event": "X", "payload": []}', "payload", id="payload-array"),
    ],
)
def test_malformed_envelope_raises_schema_error_with_path(raw: bytes, path: str) -> None:
    with pytest.raises(SchemaError) as caught:
        parse_event(raw)
    assert caught.value.path == path
    assert caught.value.reason


def test_deep_nesting_raises_schema_error() -> None:
    raw = b'{"event": "X", "payload": {"x": ' + b"[" * 5000 + b"]" * 5000 + b"}}"
    with pytest.raises(SchemaError) as caught:
        parse_event(raw)
    assert caught.value.path == "$"


def test_string_boolean_is_an_error_at_its_path(attachment_body: dict[str, Any]) -> None:
    attachment_body["payload"]["case"]["isArchived"] = "yes"
    with pytest.raises(SchemaError) as caught:
        parse_object(attachment_body)
    assert caught.value.path == "payload.case.isArchived"
    assert "boolean" in caught.value.reason


def test_missing_comment_id_is_an_error_at_its_path(comment_body: dict[str, Any]) -> None:
    del comment_body["payload"]["comment"]["id"]
    with pytest.raises(SchemaError) as caught:
        parse_object(comment_body)
    assert caught.value.path == "payload.comment.id"
    assert caught.value.reason == "Field required"


def test_missing_attachment_object_is_an_error(attachment_body: dict[str, Any]) -> None:
    del attachment_body["payload"]["attachment"]
    with pytest.raises(SchemaError) as caught:
        parse_object(attachment_body)
    assert caught.value.path == "payload.attachment"


@pytest.mark.parametrize(
    ("where", "value", "path"),
    [
        (("case", "status"), 5, "payload.case.status"),
        (("case", "submitter", "dob"), "tomorrow", "payload.case.submitter.dob"),
        (("case", "createdAt"), 1725407563927, "payload.case.createdAt"),
        (("attachment", "content"), ["x"], "payload.attachment.content"),
        (("attachment", "uploadedBy"), "someone", "payload.attachment.uploadedBy"),
        (("activity", "id"), None, "payload.activity.id"),
        (("case",), "x", "payload.case"),
    ],
)
def test_wrong_type_reports_the_wire_path(
    attachment_body: dict[str, Any], where: tuple[str, ...], value: object, path: str
) -> None:
    target = attachment_body["payload"]
    for key in where[:-1]:
        target = target[key]
    target[where[-1]] = value
    with pytest.raises(SchemaError) as caught:
        parse_object(attachment_body)
    assert caught.value.path == path


def test_wrong_type_in_a_list_reports_the_index(comment_body: dict[str, Any]) -> None:
    comment_body["payload"]["comment"]["author"]["organizationAccess"][0]["role"] = 3
    with pytest.raises(SchemaError) as caught:
        parse_object(comment_body)
    assert caught.value.path == "payload.comment.author.organizationAccess[0].role"


# --- unknown enum values -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("where", "enum"),
    [
        (("case", "status"), CaseStatus),
        (("activity", "type"), ActivityType),
        (("comment", "author", "role"), AuthorRole),
        (("case", "submitter", "gender"), Gender),
    ],
)
def test_unknown_enum_value_is_kept_as_a_plain_string(
    comment_body: dict[str, Any], where: tuple[str, ...], enum: type
) -> None:
    target = comment_body["payload"]
    for key in where[:-1]:
        target = target[key]
    target[where[-1]] = "NEVER_DOCUMENTED"
    event = parse_object(comment_body)
    value: Any = event.payload
    for key in where:
        value = getattr(value, key)
    assert value == "NEVER_DOCUMENTED"
    assert type(value) is str
    assert not isinstance(value, enum)
    unknown = [d for d in event.deviations if d.kind is DeviationKind.UNKNOWN_VALUE]
    assert [d.path for d in unknown] == ["payload." + ".".join(where)]
    assert event.to_wire() == comment_body


def test_unknown_organization_role_is_kept(comment_body: dict[str, Any]) -> None:
    comment_body["payload"]["comment"]["author"]["organizationAccess"].append({"role": "TPAFINANCE"})
    event = parse_object(comment_body)
    assert isinstance(event, CaseCommentAdded)
    assert event.comment.author is not None
    access = event.comment.author.organization_access
    assert access is not None
    assert access[0].role is OrganizationRole.TPA_MEDICAL
    assert access[1].role == "TPAFINANCE"
    assert type(access[1].role) is str
    unknown = [d for d in event.deviations if d.kind is DeviationKind.UNKNOWN_VALUE]
    assert [d.path for d in unknown] == ["payload.comment.author.organizationAccess[1].role"]


# --- errors carry no payload values ---------------------------------------------------------------------------

_PHI_NAME = "Zebediah-Quartermain"
_PHI_EMAIL = "zebediah.q@private-clinic.example"
_PHI_DOB = "not-a-date-1961-04-12-Zebediah"


@pytest.mark.parametrize(
    ("where", "value"),
    [
        (("case", "submitter", "firstName"), [_PHI_NAME]),
        (("case", "submitter", "email"), {"address": _PHI_EMAIL}),
        (("case", "submitter", "dob"), _PHI_DOB),
        (("case", "isArchived"), _PHI_NAME),
        (("case", "status"), {"x": _PHI_NAME}),
        (("attachment", "content"), {"data": _PHI_NAME}),
        (("case", "submitter"), _PHI_EMAIL),
        (("activity", "id"), [_PHI_NAME]),
    ],
)
def test_schema_error_message_holds_no_input_values(
    attachment_body: dict[str, Any], where: tuple[str, ...], value: object
) -> None:
    target = attachment_body["payload"]
    for key in where[:-1]:
        target = target[key]
    target[where[-1]] = value
    with pytest.raises(SchemaError) as caught:
        parse_object(attachment_body)
    message = str(caught.value) + repr(caught.value) + caught.value.reason + caught.value.path
    for secret in (_PHI_NAME, _PHI_EMAIL, _PHI_DOB, "1961", "Zebediah"):
        assert secret not in message


def test_not_json_error_message_holds_no_body_text() -> None:
    raw = ('{"event": "X", "payload": {"name": "' + _PHI_NAME + '" oops}}').encode()
    with pytest.raises(SchemaError) as caught:
        parse_event(raw)
    assert "Zebediah" not in str(caught.value)


def test_a_lone_surrogate_written_by_javascript_is_read_and_written_back_the_same() -> None:
    from casehooks.events import stringify
    from tests.conftest import seed

    wire = seed("add_case_comment")
    wire["payload"]["comment"]["text"] = "cut mid-emoji \ud83d"
    body = stringify(wire)
    assert b"\\ud83d" in body

    event = parse_event(body)

    assert isinstance(event, CaseCommentAdded)
    assert event.comment.text == "cut mid-emoji \ud83d"
    assert stringify(event.to_wire()) == body


def test_a_timestamp_that_overflows_in_utc_is_a_schema_error() -> None:
    from tests.conftest import seed

    for text in ("0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-01:00"):
        wire = seed("add_case_comment")
        wire["payload"]["case"]["updatedAt"] = text
        with pytest.raises(SchemaError) as caught:
            parse_object(wire)
        assert caught.value.path == "payload.case.updatedAt"
