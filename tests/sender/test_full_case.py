"""Per endpoint "only event data" or "full case data": the same change, with and without the case's history."""

from __future__ import annotations

import json
from pathlib import Path

from casehooks.events import parse_event
from tests.sender.sandbox_server import DOCTOR, new_case, register, running_sandbox
from tests.sender.sink import Sink, running_sink
from tests.sender.test_actions import NURSE
from tests.sender.test_case_objects import DECISION

HISTORY_KEYS = {
    *("assignedTo", "assignedBy", "hrRep", "assignees", "responses", "decisions"),
    *("communications", "documents", "payments", "activityLogs"),
}


def test_full_case_data_carries_the_history_and_event_data_does_not(tmp_path: Path, sink: Sink) -> None:
    with running_sandbox(tmp_path) as api, running_sink(secret="s3cret") as plain:
        full = register(api, sink.url, secret="s3cret", caseData="FULL", eventTypes=["ADD_CASE_DECISION"])
        register(api, plain.url, secret="s3cret", eventTypes=["ADD_CASE_DECISION"])
        assert api.get(f"/endpoints/{full}").json()["caseData"] == "FULL"
        case_id = new_case(api)
        api.post(f"/cases/{case_id}/assignees", json={"assignee": NURSE, "actor": DOCTOR})
        api.post(f"/cases/{case_id}/comments", json={"text": "Labs look fine", "author": DOCTOR})
        api.post(f"/cases/{case_id}/decisions", json=DECISION)
        (full_item,) = sink.wait_for(1, timeout=120)
        (plain_item,) = plain.wait_for(1, timeout=120)
    parse_event(full_item.body)
    parse_event(plain_item.body)
    full_case = json.loads(full_item.body)["payload"]["case"]
    event_case = json.loads(plain_item.body)["payload"]["case"]
    assert set(full_case) >= HISTORY_KEYS and not HISTORY_KEYS & set(event_case)
    assert full_case["assignedTo"]["id"] == NURSE["id"] and full_case["assignedBy"]["id"] == DOCTOR["id"]
    assert [a["assignee"]["id"] for a in full_case["assignees"]] == [NURSE["id"]]
    assert [c["text"] for c in full_case["communications"]] == ["Labs look fine"]
    assert len(full_case["decisions"]) == 1 and full_case["decisions"][0]["addedBy"]["npi"] == "1234567890"
    assert [a["type"] for a in full_case["activityLogs"]] == [
        "CREATE_CASE",
        "ADD_CASE_ASSIGNEE",
        "ADD_CASE_COMMENT",
        "ADD_CASE_DECISION",
    ]
