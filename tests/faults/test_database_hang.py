"""A database that hangs (SIGSTOP) or stops (pg_ctl stop), and SQLite's write lock held elsewhere, under a
started ``casehooks serve``: every request answers 503 in seconds, never as long as the database hangs.

Bounds are derived from the configured timeout with a large factor (the client's own timeout): the assertion
is that an answer came at all while the database still hangs, not how fast it came.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from casehooks.crypto import Keyring
from casehooks.store.engine import dispose, make_engine
from casehooks.store.tables import EventRow, QuarantineRow
from tests.processes import Server, hold_sqlite_write_lock, run_cli, start_server, wait_for
from tests.receiver.events import comment_event, signed
from tests.services import PostgresCluster, start_postgres

pytestmark = [pytest.mark.acceptance, pytest.mark.integration]

SECRET = "hang-secret"
TIMEOUT_SECONDS = 1.0
# An answer must come while the database still hangs: well past the ~2 timeouts a refusal costs, far short of
# a hang (the test resumes the database only after every answer came).
CLIENT_TIMEOUT = 60 * TIMEOUT_SECONDS
PHI_MARKER = "PHI-" + uuid.uuid4().hex


@pytest.fixture
def own_postgres() -> Iterator[PostgresCluster]:
    """A cluster of this test's own: the test stops and freezes it."""
    cluster = start_postgres()
    yield cluster
    resume(cluster)
    cluster.discard()


def cluster_pids(cluster: PostgresCluster) -> list[int]:
    """The postmaster and every process it started (the backends serving our connections)."""
    postmaster = int((cluster.data / "postmaster.pid").read_text().split()[0])
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        parent = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(parent, []).append(int(entry.name))
    found, pending = [], [postmaster]
    while pending:
        pid = pending.pop()
        found.append(pid)
        pending.extend(children.get(pid, []))
    return found


def freeze(cluster: PostgresCluster) -> None:
    for pid in cluster_pids(cluster):  # the postmaster first: it forks no new backend meanwhile
        os.kill(pid, signal.SIGSTOP)


def resume(cluster: PostgresCluster) -> None:
    if (cluster.data / "postmaster.pid").exists():
        for pid in cluster_pids(cluster):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGCONT)


def post_each(server: Server, events: list[dict[str, Any]]) -> dict[str, httpx.Response]:
    """Post every event at once, each from its own client; the answer each one got."""
    answers: dict[str, httpx.Response] = {}
    lock = threading.Lock()

    def send(event: dict[str, Any]) -> None:
        body, headers = signed(event, SECRET)
        with httpx.Client(timeout=CLIENT_TIMEOUT) as client:
            response = client.post(server.webhook, content=body, headers=headers)
        with lock:
            answers[event["payload"]["activity"]["id"]] = response

    threads = [threading.Thread(target=send, args=(event,)) for event in events]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(answers) == len(events), "a request got no answer before the client's timeout"
    return answers


def deliver(server: Server, events: list[dict[str, Any]]) -> dict[str, httpx.Response]:
    """Deliver as the platform does: send again what was not answered 2xx (a loaded machine may need it)."""
    accepted: dict[str, httpx.Response] = {}

    def all_answered() -> bool:
        waiting = [event for event in events if event["payload"]["activity"]["id"] not in accepted]
        for event_id, response in post_each(server, waiting).items():
            if response.status_code == 200:
                accepted[event_id] = response
        return len(accepted) == len(events)

    wait_for(all_answered, timeout=120, interval=TIMEOUT_SECONDS)
    return accepted


def ready(server: Server) -> httpx.Response:
    return httpx.get(f"{server.url}/readyz", timeout=CLIENT_TIMEOUT)


def refusals_unrecorded(server: Server) -> float:
    metrics = httpx.get(f"{server.url}/metrics", timeout=CLIENT_TIMEOUT).text
    line = next(line for line in metrics.splitlines() if line.startswith("casehooks_refusals_unrecorded_total"))
    return float(line.split()[1])


def read_rows(server: Server, statement: Any) -> list[Any]:
    """Rows read straight from the server's database (the test's own engine, closed after)."""
    engine = make_engine(server.env["CASEHOOKS_DATABASE_URL"], timeout=CLIENT_TIMEOUT)
    try:
        with engine.connect() as connection:
            return list(connection.execute(statement).all())
    finally:
        dispose(engine)


def held_unavailable(server: Server) -> list[Any]:
    """Held refusals of requests whose commit did not land in time."""
    return read_rows(
        server,
        select(QuarantineRow.id, QuarantineRow.event_id).where(
            QuarantineRow.status == "held", QuarantineRow.reason == "store_unavailable"
        ),
    )


def stored_ids(server: Server) -> list[str]:
    return [row.id for row in read_rows(server, select(EventRow.id))]


def assert_refused_unavailable(answers: dict[str, httpx.Response]) -> None:
    for response in answers.values():
        assert response.status_code == 503, response.text
        assert int(response.headers["retry-after"]) >= 1
        assert response.json()["reason"] == "store_unavailable"
        assert PHI_MARKER not in response.text


def start(tmp_path: Path, database_url: str) -> Server:
    return start_server(
        tmp_path,
        webhook_secret=SECRET,
        database_url=database_url,
        master_key=Keyring.generate_entry(),
        database_timeout_seconds=TIMEOUT_SECONDS,
    )


def test_a_hung_postgresql_answers_503_in_seconds_and_keeps_no_body_of_a_stored_event(
    tmp_path: Path, own_postgres: PostgresCluster
) -> None:
    server = start(tmp_path, own_postgres.create_database())
    try:
        deliver(server, [comment_event() for _ in range(3)])
        unrecorded_before = refusals_unrecorded(server)

        freeze(own_postgres)
        try:
            events = [comment_event(text=PHI_MARKER) for _ in range(6)]
            during = post_each(server, events)
            assert_refused_unavailable(during)
            readiness = ready(server)
            assert readiness.status_code == 503
            assert readiness.json()["checks"]["database"] == "failed"
            # Recording a refusal needs the database too: each was logged and counted instead.
            assert all(response.json()["quarantine_id"] is None for response in during.values())
            assert refusals_unrecorded(server) - unrecorded_before == len(events)
        finally:
            resume(own_postgres)

        wait_for(lambda: ready(server).status_code == 200, timeout=120)
        # Whether a commit the writer had begun lands once the database resumes depends on where the hang caught
        # it; either way the platform's retries store each event once. An event already stored when the retry
        # comes is a duplicate; one whose late commit lands meanwhile may be either.
        landed = set(stored_ids(server)) & set(during)
        retries = deliver(server, events)
        statuses = {event_id: response.json()["status"] for event_id, response in retries.items()}
        assert set(statuses.values()) <= {"accepted", "duplicate"}
        assert {statuses[event_id] for event_id in landed} <= {"duplicate"}
        stored = stored_ids(server)
        assert len(stored) == 3 + len(events)
        assert set(during) <= set(stored)
        # No body of a stored event stays held: deleted by the commits, and whatever a race left is a duplicate.
        if held_unavailable(server):
            outcome = json.loads(run_cli(server.env, "quarantine", "reprocess", "--yes", "--json").stdout)
            assert {row["outcome"] for row in outcome} == {"duplicate"}
        assert held_unavailable(server) == []
        assert PHI_MARKER not in server.output()
    finally:
        server.stop()


def test_a_stopped_postgresql_answers_503_and_recovers_when_it_is_back(
    tmp_path: Path, own_postgres: PostgresCluster
) -> None:
    server = start(tmp_path, own_postgres.create_database())
    try:
        own_postgres.stop("fast")
        events = [comment_event(text=PHI_MARKER) for _ in range(3)]
        assert_refused_unavailable(post_each(server, events))
        assert ready(server).json()["checks"]["database"] == "failed"
        own_postgres.start()
        wait_for(lambda: ready(server).status_code == 200, timeout=120)
        retries = deliver(server, events)
        assert {response.json()["status"] for response in retries.values()} <= {"accepted", "duplicate"}
        assert sorted(stored_ids(server)) == sorted(retries)
        assert PHI_MARKER not in server.output()
    finally:
        server.stop()


def test_a_sqlite_write_lock_held_by_another_process_answers_503_not_a_hang(tmp_path: Path) -> None:
    database = tmp_path / "data" / "casehooks.db"
    server = start(tmp_path, f"sqlite:///{database}")
    try:
        holder = hold_sqlite_write_lock(database)
        try:
            events = [comment_event(text=PHI_MARKER) for _ in range(3)]
            assert_refused_unavailable(post_each(server, events))
        finally:
            holder.communicate("", timeout=120)
        retries = deliver(server, events)
        assert {response.json()["status"] for response in retries.values()} <= {"accepted", "duplicate"}
        assert sorted(stored_ids(server)) == sorted(retries)
        assert PHI_MARKER not in server.output()
    finally:
        server.stop()
