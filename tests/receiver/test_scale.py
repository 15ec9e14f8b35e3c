"""Scaled out: several receiver processes, separate workers racing over one queue, a database that goes away."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select

from casehooks.crypto import Keyring
from casehooks.events import parse_object, stringify
from casehooks.settings import Settings
from casehooks.store import Store
from casehooks.store.tables import JobRow
from tests.processes import casehooks_env, run_cli, start_server, wait_for
from tests.receiver.events import comment_event, signed
from tests.services import PostgresCluster, start_postgres

pytestmark = pytest.mark.acceptance

SECRET = "scale-secret"

# Each run of the handler appends one line in a single write to a file opened with O_APPEND, so that lines
# from concurrent processes never interleave and the count is the number of runs.
APP = textwrap.dedent(
    """
    import os
    import time

    from casehooks import Receiver

    app = Receiver.from_env()


    @app.on("ADD_CASE_COMMENT")
    def record(event) -> None:
        time.sleep(0.005)
        fd = os.open(os.environ["HOOKS_OUT"], os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            os.write(fd, (event.activity.id + "\\n").encode())
        finally:
            os.close(fd)
    """
)


def handler_runs(out: Path) -> list[str]:
    return out.read_text().splitlines() if out.exists() else []


def settings_of(env: dict[str, str]) -> Settings:
    return Settings(
        data_dir=Path(env["CASEHOOKS_DATA_DIR"]),
        database_url=env.get("CASEHOOKS_DATABASE_URL"),
        blob_url=env.get("CASEHOOKS_BLOB_URL"),
        master_key=env.get("CASEHOOKS_MASTER_KEY"),
    )


def post_all(url: str, events: list[dict[str, object]], threads: int = 6, pause: float = 0.0) -> dict[str, int]:
    """Post every event from a few threads; the status each one got (0 when the connection failed)."""
    statuses: dict[str, int] = {}
    lock = threading.Lock()

    def send(chunk: list[dict[str, object]]) -> None:
        with httpx.Client(timeout=30) as client:
            for event in chunk:
                body, headers = signed(event, SECRET)  # type: ignore[arg-type]
                try:
                    status = client.post(url, content=body, headers=headers).status_code
                except httpx.TransportError:
                    status = 0
                with lock:
                    statuses[event["payload"]["activity"]["id"]] = status  # type: ignore[index]
                time.sleep(pause)

    workers = [threading.Thread(target=send, args=(events[n::threads],)) for n in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return statuses


@pytest.fixture
def hooks(tmp_path: Path) -> Path:
    (tmp_path / "scalehooks.py").write_text(APP)
    return tmp_path / "runs.log"


def test_several_receiver_processes_store_every_event_and_run_each_handler_once(
    tmp_path: Path, deployment: dict[str, str], hooks: Path
) -> None:
    server = start_server(
        tmp_path,
        app="scalehooks:app",
        extra_env={"HOOKS_OUT": str(hooks), **deployment},
        extra_args=("--workers", "2"),
        webhook_secret=SECRET,
    )
    try:
        events = [comment_event() for _ in range(120)]
        statuses = post_all(server.webhook, events)
        assert set(statuses.values()) == {200}
        wait_for(lambda: len(handler_runs(hooks)) >= len(events))
        time.sleep(0.5)  # a second run of any job would show up here
        assert sorted(handler_runs(hooks)) == sorted(statuses)
        stored = json.loads(run_cli(server.env, "events", "list", "--limit", "1000", "--json").stdout)["items"]
        assert len(stored) == len(events)
    finally:
        server.stop()
    assert server.output().count("worker_started") >= 2  # one in-process worker per receiver process


@pytest.fixture
def backlog(tmp_path: Path, deployment: dict[str, str]) -> tuple[dict[str, str], list[str]]:
    """A store with 200 queued jobs and no worker yet; the environment that reaches it."""
    env = {**casehooks_env(tmp_path / "data", webhook_secret=SECRET), **deployment}
    store = Store.open(settings_of(env))
    ids = []
    for _ in range(200):
        wire = comment_event()
        store.commit(store.prepare(parse_object(wire), stringify(wire)))
        ids.append(str(wire["payload"]["activity"]["id"]))
    store.close()
    return env, ids


def test_two_worker_processes_racing_run_each_job_once(
    tmp_path: Path, backlog: tuple[dict[str, str], list[str]], hooks: Path
) -> None:
    env, ids = backlog
    env = {**env, "HOOKS_OUT": str(hooks)}
    workers = []
    for n in range(2):
        with (tmp_path / f"worker-{n}.log").open("wb") as log:
            workers.append(
                subprocess.Popen(
                    [sys.executable, "-m", "casehooks", "worker", "--app", "scalehooks:app", "--concurrency", "4"],
                    env=env,
                    cwd=tmp_path,
                    stdout=subprocess.DEVNULL,
                    stderr=log,
                )
            )
    try:
        wait_for(lambda: len(handler_runs(hooks)) >= len(ids))
        time.sleep(0.5)
    finally:
        for worker in workers:
            worker.send_signal(signal.SIGTERM)
        for worker in workers:
            assert worker.wait(timeout=30) == 0
    assert sorted(handler_runs(hooks)) == sorted(ids)
    store = Store.open(settings_of(env), upgrade=False)
    try:
        with store.engine.connect() as connection:
            by_worker = connection.execute(select(JobRow.status, func.count()).group_by(JobRow.status)).all()
    finally:
        store.close()
    assert dict(by_worker) == {"succeeded": len(ids)}
    logs = [(tmp_path / f"worker-{n}.log").read_text() for n in range(2)]
    assert all("worker_started" in log for log in logs)


@pytest.fixture
def own_postgres() -> Iterator[PostgresCluster]:
    """A cluster of this test's own, since the test stops it."""
    cluster = start_postgres()
    yield cluster
    cluster.discard()


def test_postgresql_outage_answers_503_and_loses_nothing(tmp_path: Path, own_postgres: PostgresCluster) -> None:
    server = start_server(
        tmp_path,
        webhook_secret=SECRET,
        database_url=own_postgres.create_database(),
        master_key=Keyring.generate_entry(),
    )
    try:
        events = [comment_event() for _ in range(300)]
        first = post_all(server.webhook, events[:100])
        assert set(first.values()) == {200}

        # The database goes away in the middle of a stream.
        during: dict[str, int] = {}
        stream = events[100:]
        sender = threading.Thread(target=lambda: during.update(post_all(server.webhook, stream, 3, pause=0.01)))
        sender.start()
        time.sleep(0.3)
        own_postgres.stop("fast")
        time.sleep(2)
        refused = httpx.post(server.webhook, content=signed(events[0], SECRET)[0], headers=signed(events[0], SECRET)[1])
        assert refused.status_code == 503
        assert httpx.get(f"{server.url}/readyz").status_code == 503
        sender.join()
        own_postgres.start()

        # The receiver recovers by itself; whatever was not answered 2xx is sent again and stored once.
        wait_for(lambda: httpx.get(f"{server.url}/readyz").status_code == 200, timeout=30)
        assert 503 in during.values()
        acknowledged = {event_id for event_id, status in {**first, **during}.items() if status == 200}
        stored_now = {item["id"] for item in list_events(server.env)}
        assert acknowledged <= stored_now
        retry = [event for event in events if during.get(event["payload"]["activity"]["id"], 200) != 200]
        assert set(post_all(server.webhook, retry).values()) <= {200}
        assert {item["id"] for item in list_events(server.env)} == {e["payload"]["activity"]["id"] for e in events}
    finally:
        server.stop()


def list_events(env: dict[str, str]) -> list[dict[str, str]]:
    result = run_cli(env, "events", "list", "--limit", "1000", "--json")
    listed: list[dict[str, str]] = json.loads(result.stdout)["items"]
    return listed
