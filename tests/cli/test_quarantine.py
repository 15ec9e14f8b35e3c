"""``casehooks quarantine reprocess``: a dry run changes nothing, and reprocessing everything asks first."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest

from tests.processes import Server, run_cli, start_server
from tests.receiver.events import comment_event, signed

pytestmark = pytest.mark.acceptance

SECRET = "the-server-secret"
ROTATED = "the-secret-the-platform-moved-to"


def held(env: dict[str, str]) -> list[dict[str, object]]:
    return json.loads(run_cli(env, "quarantine", "list", "--json").stdout)["items"]  # type: ignore[no-any-return]


def events(env: dict[str, str]) -> int:
    return len(json.loads(run_cli(env, "events", "list", "--json").stdout)["items"])


@pytest.fixture
def refused(tmp_path: Path) -> Server:
    """A store holding a genuine event signed with a newer secret, a forgery, and a signed body that is no event."""
    server = start_server(tmp_path, webhook_secret=SECRET)
    genuine, headers = signed(comment_event(text="Patient reports chest pain XYZZY"), ROTATED)
    forged, _ = signed(comment_event(), "not-a-secret-anyone-has")
    junk, junk_headers = signed({"no": "event"}, SECRET)
    assert httpx.post(server.webhook, content=genuine, headers=headers, timeout=30).status_code == 401
    assert httpx.post(server.webhook, content=forged, headers=headers, timeout=30).status_code == 401
    assert httpx.post(server.webhook, content=junk, headers=junk_headers, timeout=30).status_code == 400
    server.stop()
    # The operator reprocesses from a shell that knows both secrets (rotation keeps the old one for a while).
    server.env["CASEHOOKS_WEBHOOK_SECRET"] = f"{ROTATED},{SECRET}"
    return server


def test_dry_run_says_what_would_happen_and_changes_nothing(refused: Server) -> None:
    env = refused.env
    before = held(env)
    shown = run_cli(env, "quarantine", "reprocess", "--dry-run", "--json")
    plan = json.loads(shown.stdout)
    assert sorted(row["would"] for row in plan) == ["accept", "stay held: auth_mismatch", "stay held: schema"]
    assert held(env) == before and events(env) == 0
    assert "XYZZY" not in shown.stdout + shown.stderr


def test_reprocess_without_filters_asks_and_a_no_changes_nothing(refused: Server) -> None:
    env = refused.env
    answered = run_cli(env, "quarantine", "reprocess", check=False, stdin_text="n\n")
    assert answered.returncode != 0 and "Reprocess all 3 held request(s)?" in answered.stdout
    unanswered = run_cli(env, "quarantine", "reprocess", check=False)
    assert unanswered.returncode != 0
    assert len(held(env)) == 3 and events(env) == 0


def test_reprocess_by_reason_runs_only_that_reason_without_asking(refused: Server) -> None:
    env = refused.env
    result = json.loads(run_cli(env, "quarantine", "reprocess", "--reason", "auth_mismatch", "--json").stdout)
    assert sorted(row["outcome"] for row in result) == ["accepted", "refused"]
    assert [row["reason"] for row in held(env)].count("schema") == 1
    assert events(env) == 1


def test_reprocess_with_yes_runs_every_held_request(refused: Server) -> None:
    env = refused.env
    result = json.loads(run_cli(env, "quarantine", "reprocess", "--yes", "--json").stdout)
    assert sorted(row["outcome"] for row in result) == ["accepted", "refused", "refused"]
    assert events(env) == 1


def test_reprocess_named_ids_runs_them_without_asking(refused: Server) -> None:
    env = refused.env
    [schema] = [row["id"] for row in held(env) if row["reason"] == "schema"]
    result = json.loads(run_cli(env, "quarantine", "reprocess", str(schema), "--json").stdout)
    assert [row["outcome"] for row in result] == ["refused"] and len(held(env)) == 3
