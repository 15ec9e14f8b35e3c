"""The generated JSON Schema is valid and accepts the documented examples."""

from __future__ import annotations

import json
from typing import Any

import pytest
from jsonschema import Draft202012Validator, ValidationError

from casehooks.events import event_json_schema
from casehooks.events.envelope import EVENT_CLASSES
from tests.events.bodies import seed_shaped

_SEEDED = ("ADD_CASE_ATTACHMENT", "ADD_CASE_COMMENT")


@pytest.mark.parametrize("event_type", ["ADD_CASE_ATTACHMENT", "ADD_CASE_COMMENT", "ORDER_CREATED", None])
def test_schema_is_a_valid_json_schema(event_type: str | None) -> None:
    schema = event_json_schema(event_type)
    Draft202012Validator.check_schema(schema)
    assert json.loads(json.dumps(schema)) == schema


@pytest.mark.parametrize(
    ("event_type", "seed"), [("ADD_CASE_ATTACHMENT", "attachment_body"), ("ADD_CASE_COMMENT", "comment_body")]
)
def test_event_schema_accepts_its_seed(event_type: str, seed: str, request: pytest.FixtureRequest) -> None:
    body: dict[str, Any] = request.getfixturevalue(seed)
    Draft202012Validator(event_json_schema(event_type)).validate(body)


@pytest.mark.parametrize("seed", ["attachment_body", "comment_body"])
def test_schema_of_every_event_accepts_both_seeds(seed: str, request: pytest.FixtureRequest) -> None:
    body: dict[str, Any] = request.getfixturevalue(seed)
    Draft202012Validator(event_json_schema()).validate(body)


def test_schema_of_every_event_accepts_an_unknown_event(attachment_body: dict[str, Any]) -> None:
    attachment_body["event"] = "SOMETHING_NEW"
    Draft202012Validator(event_json_schema()).validate(attachment_body)


def test_attachment_schema_rejects_the_comment_seed(comment_body: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        Draft202012Validator(event_json_schema("ADD_CASE_ATTACHMENT")).validate(comment_body)


def test_schema_rejects_a_string_boolean(attachment_body: dict[str, Any]) -> None:
    attachment_body["payload"]["case"]["isArchived"] = "yes"
    with pytest.raises(ValidationError):
        Draft202012Validator(event_json_schema()).validate(attachment_body)


def test_schema_uses_wire_names(comment_body: dict[str, Any]) -> None:
    schema = event_json_schema("ADD_CASE_COMMENT")
    assert "isPHI" in schema["$defs"]["Attachment"]["properties"]
    assert "organizationAccess" in schema["$defs"]["Author"]["properties"]
    assert schema["$defs"]["Attachment"]["properties"]["content"]["anyOf"][0]["contentEncoding"] == "base64"


@pytest.mark.parametrize("event_type", [name for name in EVENT_CLASSES if name not in _SEEDED])
def test_event_schema_accepts_its_seed_shaped_body(event_type: str, attachment_body: dict[str, Any]) -> None:
    body = seed_shaped(event_type, attachment_body)
    Draft202012Validator(event_json_schema(event_type)).validate(body)
    Draft202012Validator(event_json_schema()).validate(body)


@pytest.mark.parametrize("shape", ["object", "array"])
def test_decision_schema_accepts_med_info_as_object_or_array(shape: str, attachment_body: dict[str, Any]) -> None:
    body = seed_shaped("ADD_CASE_DECISION", attachment_body)
    if shape == "object":
        body["payload"]["decision"]["medInfo"] = body["payload"]["decision"]["medInfo"][0]
    Draft202012Validator(event_json_schema("ADD_CASE_DECISION")).validate(body)


def test_form_schema_accepts_one_response_object(attachment_body: dict[str, Any]) -> None:
    body = seed_shaped("ADD_FORM_RESPONSE", attachment_body)
    body["payload"]["response"] = body["payload"]["response"][0]
    Draft202012Validator(event_json_schema("ADD_FORM_RESPONSE")).validate(body)


def test_order_schema_accepts_the_order_inside_the_payload_too(attachment_body: dict[str, Any]) -> None:
    body = seed_shaped("ORDER_TRACKING_ADDED", attachment_body)
    body["payload"]["order"] = body.pop("order")
    Draft202012Validator(event_json_schema("ORDER_TRACKING_ADDED")).validate(body)


def test_order_schema_rejects_an_order_that_is_not_an_object(attachment_body: dict[str, Any]) -> None:
    body = seed_shaped("ORDER_TRACKING_ADDED", attachment_body)
    body["order"] = "1Z999"
    with pytest.raises(ValidationError):
        Draft202012Validator(event_json_schema("ORDER_TRACKING_ADDED")).validate(body)


def test_payment_schema_accepts_the_shape_with_only_the_activity(attachment_body: dict[str, Any]) -> None:
    body = seed_shaped("ADD_PAYMENT_INFO_USING_LINK", attachment_body)
    del body["payload"]["paymentInfo"], body["payload"]["case"]
    Draft202012Validator(event_json_schema("ADD_PAYMENT_INFO_USING_LINK")).validate(body)


def test_calendar_schema_uses_the_snake_case_and_url_keys() -> None:
    schema = event_json_schema("CALENDAR_EVENT_CREATED")
    assert {"cancelURL", "rescheduleURL"} <= set(schema["$defs"]["CalendarEvent"]["properties"])
    assert {"utm_term", "utm_medium"} <= set(schema["$defs"]["CampaignTracking"]["properties"])


@pytest.mark.parametrize("key", ["comment", "comments"])
def test_comment_schema_accepts_both_keys(key: str, comment_body: dict[str, Any]) -> None:
    comment_body["payload"][key] = comment_body["payload"].pop("comment")
    Draft202012Validator(event_json_schema("ADD_CASE_COMMENT")).validate(comment_body)
    Draft202012Validator(event_json_schema()).validate(comment_body)


def test_comment_schema_needs_one_of_the_keys(comment_body: dict[str, Any]) -> None:
    del comment_body["payload"]["comment"]
    with pytest.raises(ValidationError):
        Draft202012Validator(event_json_schema("ADD_CASE_COMMENT")).validate(comment_body)
