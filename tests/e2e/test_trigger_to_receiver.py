"""``casehooks trigger`` against a started ``casehooks serve``: what the receiver stores of its runs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.processes import run_cli, start_server

pytestmark = pytest.mark.acceptance

SECRET = "trigger-secret"


def test_three_runs_of_three_types_store_three_events(tmp_path: Path) -> None:
    server = start_server(tmp_path / "receiver", webhook_secret=f"{SECRET},older")
    try:
        for event_type in ("ADD_CASE_DECISION", "ORDER_CREATED", "CALENDAR_EVENT_CREATED"):
            sent = run_cli(server.env, "trigger", event_type, "--to", server.webhook, "--json", check=False)
            assert sent.returncode == 0, sent.stdout + sent.stderr
            assert json.loads(sent.stdout)["statuses"] == {"200": 1}
        listed = json.loads(run_cli(server.env, "events", "list", "--limit", "100", "--json").stdout)["items"]
        assert sorted(str(e["event_type"]) for e in listed) == [
            "ADD_CASE_DECISION",
            "CALENDAR_EVENT_CREATED",
            "ORDER_CREATED",
        ]
    finally:
        server.stop()
