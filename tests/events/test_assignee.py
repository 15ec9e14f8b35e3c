"""Assignees: the list of users added to or removed from a case."""

from __future__ import annotations

from typing import Any

import pytest

from casehooks import SchemaError
from casehooks.events import CaseAssigneeAdded, CaseAssigneeRemoved, parse_object
from tests.events.bodies import USER_ID, seed_shaped


def test_assignees_are_read_for_both_events(attachment_body: dict[str, Any]) -> None:
    for event_type, cls in (("ADD_CASE_ASSIGNEE", CaseAssigneeAdded), ("REMOVE_CASE_ASSIGNEE", CaseAssigneeRemoved)):
        body = seed_shaped(event_type, attachment_body)
        event = parse_object(body)
        assert isinstance(event, cls)
        assert [a.assignee.id for a in event.assignees if a.assignee] == [USER_ID]
        assert event.to_wire() == body


def test_an_assignee_that_is_not_an_object_is_a_schema_error(attachment_body: dict[str, Any]) -> None:
    body = seed_shaped("ADD_CASE_ASSIGNEE", attachment_body)
    body["payload"]["assignees"] = [{"assignee": "Zebediah"}]
    with pytest.raises(SchemaError) as raised:
        parse_object(body)
    assert "Zebediah" not in str(raised.value)
    assert raised.value.path == "payload.assignees[0].assignee"
