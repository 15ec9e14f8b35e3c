"""``casehooks trigger`` against a started receiver: several sending processes, and ``--verify`` reading back
what the receiver stored."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.processes import casehooks_env, run_cli, start_server
from tests.sender.sink import running_sink

pytestmark = pytest.mark.acceptance


def test_processes_share_the_count_and_verify_finds_every_event_stored_as_sent(tmp_path: Path) -> None:
    server = start_server(tmp_path, webhook_secret="s3cret")
    try:
        result = run_cli(
            server.env,
            *("trigger", "ADD_CASE_COMMENT", "--to", server.webhook, "--count", "30", "--concurrency", "6"),
            *("--processes", "3", "--verify", "--json"),
        )
    finally:
        server.stop()
    summary = json.loads(result.stdout)
    assert summary["sent"] == 30
    assert summary["statuses"] == {"202": 30} or summary["statuses"] == {"200": 30}
    assert summary["verify"] == {"checked": 30, "stored": 30, "missing": 0, "differing": 0}


def test_verify_fails_when_what_was_accepted_is_not_in_the_store(tmp_path: Path) -> None:
    # A receiver that answers 2xx and keeps nothing: every accepted event must be reported missing.
    env = casehooks_env(tmp_path / "data")
    run_cli(env, "db", "upgrade")
    with running_sink(secret="s3cret") as sink:
        result = run_cli(
            env,
            *("trigger", "ADD_CASE_COMMENT", "--to", sink.url, "--secret", "s3cret", "--count", "10"),
            *("--verify", "--json"),
            check=False,
        )
    assert result.returncode == 1
    assert json.loads(result.stdout)["verify"] == {"checked": 10, "stored": 0, "missing": 10, "differing": 0}


def test_verify_with_each_engine_finds_every_event_stored_as_sent(tmp_path: Path) -> None:
    server = start_server(tmp_path, webhook_secret="s3cret")
    try:
        results = {
            engine: run_cli(
                server.env,
                *("trigger", "ADD_CASE_ATTACHMENT", "--to", server.webhook, "--count", "12", "--concurrency", "4"),
                *("--engine", engine, "--verify", "--json"),
            )
            for engine in ("fast", "httpx")
        }
    finally:
        server.stop()
    for result in results.values():
        assert json.loads(result.stdout)["verify"] == {"checked": 12, "stored": 12, "missing": 0, "differing": 0}


def test_the_fast_engine_is_refused_for_https_before_anything_is_sent(tmp_path: Path) -> None:
    env = casehooks_env(tmp_path / "data")
    result = run_cli(
        env, "trigger", "ADD_CASE_COMMENT", "--to", "https://127.0.0.1:9/hook", "--engine", "fast", check=False
    )
    assert result.returncode == 2
    assert "plain http://" in result.stderr
