"""The generated JSON Schema is valid and accepts the documented examples."""

from __future__ import annotations

import json
from typing import Any

import pytest
from jsonschema import Draft202012Validator, ValidationError

from casehooks.events import event_json_schema


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
