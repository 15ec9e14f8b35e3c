"""``casehooks jobs``: a case held behind a dead ordered job is listed as blocked by it, and an operator's
dead-letter releases it (refused for a job that is not waiting)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import update

from casehooks.events import parse_object, stringify
from casehooks.settings import Settings
from casehooks.store import Store, registry
from casehooks.store.engine import writer
from casehooks.store.tables import JobRow
from tests.processes import casehooks_env, run_cli
from tests.receiver.test_ordering import case_event

pytestmark = pytest.mark.acceptance


def test_a_blocked_case_is_listed_and_released_by_dead_lettering_its_head(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    env = casehooks_env(tmp_path / "data")
    monkeypatch.setenv("CASEHOOKS_DATA_DIR", str(tmp_path / "data"))
    store = Store.open(Settings())
    try:
        for minute in (2, 1, 3):  # arrives out of order: the job of minute 1 is the case's head
            wire = case_event("case-a", minute)
            assert store.commit(store.prepare(parse_object(wire), stringify(wire)))
        with writer(store.engine).begin() as connection:
            now = datetime.now(UTC)
            registry.register(connection, "w", {"hooks.push": ["ADD_CASE_COMMENT"]}, now, ordered={"hooks.push"})
            connection.execute(update(JobRow).where(JobRow.id == 2).values(status="failed", last_error="KeyError"))
    finally:
        store.close()
    blocked = json.loads(run_cli(env, "jobs", "list", "--blocked", "--json").stdout)
    assert sorted((job["id"], job["blocked_by"]) for job in blocked) == [(1, 2), (3, 2)]
    assert run_cli(env, "jobs", "skip", "999", check=False).returncode == 1
    released = run_cli(env, "jobs", "dead-letter", "2", "--as", "operator")
    assert "failed -> dead" in released.stdout
    assert json.loads(run_cli(env, "jobs", "list", "--blocked", "--json").stdout) == []
    listed = json.loads(run_cli(env, "jobs", "list", "--case", "case-a", "--json").stdout)
    assert [(job["id"], job["status"]) for job in listed] == [(2, "dead"), (1, "queued"), (3, "queued")]
