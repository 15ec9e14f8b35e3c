"""Handlers run from the durable queue: retries with backoff, a dead-letter state, replay."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import httpx
import pytest

from tests.processes import Server, run_cli, start_server, wait_for
from tests.receiver.events import comment_event, signed

pytestmark = pytest.mark.acceptance

SECRET = "handler-secret"

APP = textwrap.dedent(
    """
    import os
    from pathlib import Path

    from casehooks import CaseCommentAdded, Receiver

    app = Receiver.from_env()
    out = Path(os.environ["HOOKS_OUT"])


    @app.on("ADD_CASE_COMMENT")
    async def record(event: CaseCommentAdded) -> None:
        with (out / "record.log").open("a") as file:
            file.write(event.comment.id + "\\n")


    @app.on("ADD_CASE_COMMENT")
    def flaky(event: CaseCommentAdded) -> None:
        marker = out / ("flaky-" + event.comment.id)
        count = int(marker.read_text()) if marker.exists() else 0
        marker.write_text(str(count + 1))
        if count < 2:
            raise RuntimeError("not yet: " + (event.comment.text or ""))


    @app.on("ADD_CASE_COMMENT")
    async def broken(event: CaseCommentAdded) -> None:
        if not (out / "fixed").exists():
            raise ValueError("broken for " + (event.comment.text or ""))
    """
)


@pytest.fixture
def app_server(tmp_path: Path, deployment: dict[str, str]) -> Server:
    (tmp_path / "myhooks.py").write_text(APP)
    out = tmp_path / "out"
    out.mkdir()
    return start_server(
        tmp_path,
        app="myhooks:app",
        extra_env={"HOOKS_OUT": str(out), **deployment},
        webhook_secret=SECRET,
        handler_max_attempts=3,
        handler_retry_base_seconds=0.05,
    )


def job_of(server: Server, event_id: str) -> dict[str, object]:
    shown = json.loads(run_cli(server.env, "events", "show", event_id, "--json").stdout)
    job: dict[str, object] = shown["jobs"][0]
    job["attempts_log"] = shown["attempts"]
    return job


def test_handlers_retry_then_dead_letter_then_replay_succeeds(app_server: Server, tmp_path: Path) -> None:
    try:
        event = comment_event(text="Jane Roe has a rash")
        event_id = event["payload"]["activity"]["id"]
        response = httpx.post(app_server.webhook, content=signed(event, SECRET)[0], headers=signed(event, SECRET)[1])
        assert response.status_code == 200

        wait_for(lambda: job_of(app_server, event_id)["status"] == "dead")
        job = job_of(app_server, event_id)
        attempts = job["attempts_log"]
        assert isinstance(attempts, list)
        outcomes = {(a["handler"].split(".")[-1], a["attempt"], a["outcome"]) for a in attempts}
        # record ran once and is not run again; flaky failed twice then succeeded; broken failed three times.
        assert ("record", 1, "succeeded") in outcomes
        assert not any(name == "record" and attempt > 1 for name, attempt, _ in outcomes)
        assert {("flaky", 1, "failed"), ("flaky", 2, "failed"), ("flaky", 3, "succeeded")} <= outcomes
        assert {("broken", n, "failed") for n in (1, 2, 3)} <= outcomes
        assert job["last_error"] == "myhooks.broken: ValueError"
        assert (tmp_path / "out" / "record.log").read_text().splitlines() == [event["payload"]["comment"]["id"]]

        (tmp_path / "out" / "fixed").write_text("yes")
        replayed = run_cli(app_server.env, "events", "replay", "--failed")
        assert "queued 1 job(s) again" in replayed.stdout
        wait_for(lambda: job_of(app_server, event_id)["status"] == "succeeded")
        assert (tmp_path / "out" / "record.log").read_text().splitlines() == [event["payload"]["comment"]["id"]]
        assert "Jane Roe" not in app_server.output()
    finally:
        app_server.stop()
