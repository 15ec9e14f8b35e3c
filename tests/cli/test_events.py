"""``casehooks events show``: an event's typed objects, masked unless ``--reveal``, which is audited."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import pytest

from casehooks.events import parse_object, stringify
from casehooks.settings import Settings
from casehooks.store import Store
from tests.processes import casehooks_env, run_cli
from tests.store import objects as make
from tests.store.objects import event

pytestmark = pytest.mark.acceptance


def test_events_show_masks_the_objects_unless_revealed_and_audits_the_reveal(tmp_path: Path) -> None:
    data = tmp_path / "data"
    decided = event("ADD_CASE_DECISION", 1, str(uuid.uuid4()), decision=make.decision(str(uuid.uuid4()), 1))
    store = Store.open(Settings(data_dir=data))
    try:
        assert store.commit(store.prepare(parse_object(decided), stringify(decided)))
    finally:
        store.close()
    env = casehooks_env(data)
    event_id = decided["payload"]["activity"]["id"]

    masked = run_cli(env, "events", "show", event_id, "--json").stdout
    (decision,) = json.loads(masked)["objects"]
    assert (decision["kind"], decision["is_approved"], decision["prescription_count"]) == ("decision", True, 1)
    for value in (make.MEDICINE, make.DECISION_TEXT, "Quillfeather"):
        assert value not in masked
    assert json.loads(run_cli(env, "audit", "list", "--json").stdout)["items"] == []

    table = run_cli(env, "events", "show", event_id).stdout
    assert "decision" in table and make.MEDICINE not in table

    revealed = run_cli(env, "events", "show", event_id, "--reveal", "--json", "--as", "dr-who").stdout
    (decision,) = json.loads(revealed)["objects"]
    assert decision["details"]["medInfo"][0]["medicine"] == make.MEDICINE
    audit = json.loads(run_cli(env, "audit", "list", "--json").stdout)["items"]
    assert [(row["username"], row["action"], row["object_id"]) for row in audit] == [("dr-who", "read_event", event_id)]


def test_events_show_gives_the_request_headers_masked_unless_revealed(tmp_path: Path) -> None:
    data = tmp_path / "data"
    decided = event("ADD_CASE_DECISION", 1, str(uuid.uuid4()), decision=make.decision(str(uuid.uuid4()), 1))
    headers = {"content-type": "application/json", "user-agent": "cv-platform/9.9", "authorization": "Bearer GONE"}
    store = Store.open(Settings(data_dir=data))
    try:
        prepared = store.prepare(parse_object(decided), stringify(decided))
        assert store.commit(store.with_headers(prepared, headers, frozenset()))
    finally:
        store.close()
    env = casehooks_env(data)
    event_id = decided["payload"]["activity"]["id"]

    masked = json.loads(run_cli(env, "events", "show", event_id, "--json").stdout)["headers"]
    assert masked["content-type"] == "application/json"
    assert masked["user-agent"] != "cv-platform/9.9" and "user-agent" in masked
    revealed = json.loads(run_cli(env, "events", "show", event_id, "--json", "--reveal").stdout)["headers"]
    assert revealed["user-agent"] == "cv-platform/9.9"
    assert "GONE" not in json.dumps(revealed)  # a credential was never stored
    assert "request headers" in run_cli(env, "events", "show", event_id).stdout
