"""The sandbox's case-state actions: each emits its documented event, and the snapshot agrees with it."""

from __future__ import annotations

import json
from pathlib import Path

from casehooks.events import parse_event
from tests.sender.sandbox_server import DOCTOR, new_case, register, running_sandbox
from tests.sender.sink import Sink

NURSE = {"id": "Qm3v9XcT0bLkP2sW8nYdR4fH6jA1", "firstName": "Nia", "lastName": "Nurse", "email": "nia@example.test"}


def test_every_case_state_action_emits_its_event_with_an_agreeing_snapshot(tmp_path: Path, sink: Sink) -> None:
    with running_sandbox(tmp_path) as api:
        register(api, sink.url, secret="s3cret")
        case_id = new_case(api)
        steps = [
            ("assignees", {"assignee": NURSE, "actor": DOCTOR}),
            ("escalation", {"escalated": True, "actor": DOCTOR}),
            ("escalation", {"escalated": False, "actor": DOCTOR}),
            ("import", {"actor": DOCTOR}),
            ("archive", {"reason": "INELIGIBLE", "actor": DOCTOR}),
            ("assignees", {"assignee": NURSE, "actor": DOCTOR, "remove": True}),
        ]
        for path, body in steps:
            answer = api.post(f"/cases/{case_id}/{path}", json=body)
            assert answer.status_code == 201, answer.text
        assert api.post(f"/cases/{case_id}/archive", json={"reason": "BORED", "actor": DOCTOR}).status_code == 422
        received = sink.wait_for(1 + len(steps), timeout=120)
    events = {}
    for item in received:
        parse_event(item.body)
        body = json.loads(item.body)
        events[body["event"]] = body
    added = events["ADD_CASE_ASSIGNEE"]["payload"]
    assert added["assignees"] == [{"assignee": {"id": NURSE["id"], "firstName": "Nia", "lastName": "Nurse"}}]
    assert added["case"]["status"] == "ASSIGNED" and added["activity"]["targetUser"]["id"] == NURSE["id"]
    assert "assignee" not in added
    escalated = events["ESCALATE_CASE"]["payload"]
    assert escalated["case"]["isEscalated"] is True
    assert (escalated["activity"]["valueBefore"], escalated["activity"]["valueAfter"]) == (False, True)
    assert events["DEESCALATE_CASE"]["payload"]["case"]["isEscalated"] is False
    assert events["IMPORT_CASE"]["payload"]["case"]["isImported"] is True
    archived = events["ARCHIVE_CASE"]["payload"]["case"]
    assert archived["isArchived"] is True and archived["archiveReason"] == "INELIGIBLE"
    assert archived["isImported"] is True  # earlier changes stay in later snapshots
    assert events["REMOVE_CASE_ASSIGNEE"]["payload"]["assignees"][0]["assignee"]["id"] == NURSE["id"]
