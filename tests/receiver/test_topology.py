"""The documented topologies, run for real: every registered handler runs for every event, whatever processes are
started with whatever ``--app``; a process never finishes a job for a handler it does not have."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import textwrap
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.processes import casehooks_env, run_cli, start_server, wait_for
from tests.receiver.events import comment_event, signed

pytestmark = pytest.mark.acceptance

SECRET = "topology-secret"

# Each run appends "handler activity-id" in one O_APPEND write, so lines from several processes never interleave.
HOOKS = textwrap.dedent(
    """
    import os

    from casehooks import Receiver

    app = Receiver.from_env()
    both = Receiver.from_env()


    def _write(name, event):
        fd = os.open(os.environ["HOOKS_OUT"], os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            os.write(fd, f"{name} {event.activity.id}\\n".encode())
        finally:
            os.close(fd)


    @app.on("ADD_CASE_COMMENT")
    @both.on("ADD_CASE_COMMENT")
    def first(event) -> None:
        _write("first", event)


    @both.on("ADD_CASE_COMMENT")
    def second(event) -> None:
        _write("second", event)
    """
)


def runs(out: Path) -> Counter[tuple[str, str]]:
    lines = out.read_text().splitlines() if out.exists() else []
    return Counter(tuple(line.split(" ", 1)) for line in lines)  # type: ignore[misc]


class Workers:
    """``casehooks worker`` processes started by a test, stopped at its end."""

    def __init__(self, env: dict[str, str], cwd: Path) -> None:
        self.env, self.cwd = env, cwd
        self.processes: list[subprocess.Popen[bytes]] = []
        self.logs: list[Path] = []

    def start(self, *args: str) -> subprocess.Popen[bytes]:
        log = self.cwd / f"worker-{len(self.processes)}.log"
        with log.open("wb") as stream:
            process = subprocess.Popen(
                [sys.executable, "-m", "casehooks", "worker", *args],
                env=self.env,
                cwd=self.cwd,
                stdout=subprocess.DEVNULL,
                stderr=stream,
            )
        self.processes.append(process)
        self.logs.append(log)
        return process

    def stop(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in self.processes:
            try:
                process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


@pytest.fixture
def hooks(tmp_path: Path) -> Path:
    (tmp_path / "myhooks.py").write_text(HOOKS)
    return tmp_path / "runs.log"


@pytest.fixture
def workers(tmp_path: Path, deployment: dict[str, str], hooks: Path) -> Iterator[Workers]:
    env = {**casehooks_env(tmp_path / "data", webhook_secret=SECRET), **deployment, "HOOKS_OUT": str(hooks)}
    started = Workers(env, tmp_path)
    yield started
    started.stop()


def deliver(url: str, count: int) -> list[str]:
    ids = []
    with httpx.Client(timeout=60) as client:
        for _ in range(count):
            event = comment_event()
            body, headers = signed(event, SECRET)
            assert client.post(url, content=body, headers=headers).status_code == 200
            ids.append(str(event["payload"]["activity"]["id"]))  # type: ignore[index]
    return ids


def job_states(env: dict[str, str]) -> Counter[str]:
    listed = json.loads(run_cli(env, "events", "list", "--limit", "1000", "--json").stdout)["items"]
    return Counter(str(item["job_status"]) for item in listed)


def test_a_receiver_without_handlers_beside_a_worker_with_them_runs_every_handler(
    tmp_path: Path, deployment: dict[str, str], engine_name: str, hooks: Path, workers: Workers
) -> None:
    # docs/scaling.md: receivers without --app (several processes on PostgreSQL), handlers in `casehooks worker`.
    extra = ("--workers", "2") if engine_name == "postgresql" else ()
    server = start_server(
        tmp_path, extra_env={**deployment, "HOOKS_OUT": str(hooks)}, extra_args=extra, webhook_secret=SECRET
    )
    try:
        workers.start("--app", "myhooks:app", "--concurrency", "4")
        ids = deliver(server.webhook, 30)
        wait_for(lambda: sum(runs(hooks).values()) >= len(ids), timeout=180)
        wait_for(lambda: job_states(server.env) == Counter({"succeeded": len(ids)}), timeout=180)
        assert runs(hooks) == Counter({("first", event_id): 1 for event_id in ids})
    finally:
        server.stop()


def test_events_that_arrive_before_any_handler_is_registered_wait_for_it(
    tmp_path: Path, deployment: dict[str, str], hooks: Path, workers: Workers
) -> None:
    server = start_server(tmp_path, extra_env={**deployment, "HOOKS_OUT": str(hooks)}, webhook_secret=SECRET)
    try:
        ids = deliver(server.webhook, 20)
        # The receiver's own worker has no handler: it must leave every job for one that has.
        drained = run_cli(server.env, "worker", "--drain", cwd=tmp_path)
        assert drained.returncode == 0
        assert job_states(server.env) == Counter({"queued": len(ids)})
        workers.start("--app", "myhooks:app")
        wait_for(lambda: sum(runs(hooks).values()) >= len(ids), timeout=180)
        wait_for(lambda: job_states(server.env) == Counter({"succeeded": len(ids)}), timeout=180)
        assert runs(hooks) == Counter({("first", event_id): 1 for event_id in ids})
    finally:
        server.stop()


def test_workers_with_different_handler_sets_run_each_handler_where_it_lives_and_report_the_difference(
    tmp_path: Path, deployment: dict[str, str], hooks: Path, workers: Workers
) -> None:
    server = start_server(tmp_path, extra_env={**deployment, "HOOKS_OUT": str(hooks)}, webhook_secret=SECRET)
    try:
        workers.start("--app", "myhooks:app")  # first only
        workers.start("--app", "myhooks:both")  # first and second
        wait_for(lambda: _report(server.url).get("live_workers", 0) >= 3, timeout=180)
        report = _report(server.url)
        assert report["differing"] is True
        assert report["status"] == "mismatch"
        assert {"myhooks.first", "myhooks.second"} <= set(report["registered"])
        ids = deliver(server.webhook, 30)
        expected = Counter({(name, event_id): 1 for event_id in ids for name in ("first", "second")})
        wait_for(lambda: sum(runs(hooks).values()) >= len(expected), timeout=180)
        wait_for(lambda: job_states(server.env) == Counter({"succeeded": len(ids)}), timeout=180)
        assert runs(hooks) == expected
    finally:
        server.stop()
    assert any("handler_sets_differ" in log.read_text() for log in workers.logs)


def _report(url: str) -> dict[str, object]:
    answer = httpx.get(f"{url}/readyz", timeout=30).json()
    handlers: dict[str, object] = answer.get("handlers", {})
    return handlers


def test_retiring_a_handler_gone_from_the_code_releases_the_jobs_waiting_for_it(
    tmp_path: Path, deployment: dict[str, str], hooks: Path, workers: Workers
) -> None:
    server = start_server(tmp_path, extra_env={**deployment, "HOOKS_OUT": str(hooks)}, webhook_secret=SECRET)
    try:
        env = {**server.env, "HOOKS_OUT": str(hooks)}
        # A worker that once had `second` registered it; the code no longer has it.
        run_cli(env, "worker", "--app", "myhooks:both", "--drain", cwd=tmp_path)
        workers.start("--app", "myhooks:app")
        ids = deliver(server.webhook, 10)
        wait_for(lambda: sum(runs(hooks).values()) >= len(ids), timeout=180)
        listed = json.loads(run_cli(env, "handlers", "--json", cwd=tmp_path).stdout)
        assert listed["orphaned"] == ["myhooks.second"]
        assert job_states(server.env) == Counter({"queued": len(ids)})  # waiting for `second`, visibly
        run_cli(env, "handlers", "retire", "myhooks.second", cwd=tmp_path)
        wait_for(lambda: job_states(server.env) == Counter({"succeeded": len(ids)}), timeout=180)
        assert runs(hooks) == Counter({("first", event_id): 1 for event_id in ids})
    finally:
        server.stop()
