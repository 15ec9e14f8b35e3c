"""Handler jobs always end: whatever a handler raises is recorded and retried, a lease outlives a slow handler
through the heartbeat, and a crashed worker's jobs run again after its lease."""

from __future__ import annotations

import asyncio
import gc
import logging
import threading
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from casehooks.crypto import Keyring
from casehooks.events import CaseCommentAdded, parse_object, stringify
from casehooks.receiver.handlers import Receiver
from casehooks.receiver.metrics import Metrics
from casehooks.receiver.worker import Worker
from casehooks.settings import Settings
from casehooks.store import Store
from casehooks.store.tables import JobAttemptRow, JobRow
from tests.receiver.events import comment_event

pytestmark = pytest.mark.integration

PATIENT = "Jane Roe born 1961-02-03"


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> Settings:
    return Settings(data_dir=tmp_path / "data", database_url=database_url, master_key=Keyring.generate_entry())


@pytest.fixture
def store(settings: Settings) -> Iterator[Store]:
    opened = Store.open(settings)
    yield opened
    opened.close()


def commit_one(store: Store) -> str:
    wire = comment_event()
    store.commit(store.prepare(parse_object(wire), stringify(wire)))
    return str(wire["payload"]["activity"]["id"])


def lease_until(store: Store, event_id: str) -> object:
    with store.engine.connect() as connection:
        return connection.execute(select(JobRow.locked_until).where(JobRow.event_id == event_id)).scalar_one()


def job_of(store: Store, event_id: str) -> tuple[str, int]:
    with store.engine.connect() as connection:
        row = connection.execute(select(JobRow.status, JobRow.id).where(JobRow.event_id == event_id)).one()
    return str(row.status), int(row.id)


@pytest.mark.parametrize("raised", [asyncio.CancelledError, SystemExit, KeyboardInterrupt, GeneratorExit])
def test_whatever_a_handler_raises_is_recorded_retried_and_dead_lettered(
    store: Store, settings: Settings, raised: type[BaseException], caplog: pytest.LogCaptureFixture
) -> None:
    receiver = Receiver(settings)

    @receiver.on("ADD_CASE_COMMENT")
    async def explode(event: CaseCommentAdded) -> None:
        raise raised(PATIENT)

    event_id = commit_one(store)
    worker = Worker(store, receiver, Metrics(), max_attempts=3, retry_base=0.01)

    async def until_dead() -> None:
        deadline = time.monotonic() + 120
        while job_of(store, event_id)[0] != "dead":
            assert time.monotonic() < deadline, "the job never ended"
            await worker.drain()
            await asyncio.sleep(0.05)

    with caplog.at_level(logging.DEBUG):
        asyncio.run(until_dead())
    worker.close()

    status, job_id = job_of(store, event_id)
    with store.engine.connect() as connection:
        attempts = connection.execute(
            select(JobAttemptRow).where(JobAttemptRow.job_id == job_id).order_by(JobAttemptRow.id)
        ).all()
        last_error = connection.execute(select(JobRow.last_error).where(JobRow.id == job_id)).scalar_one()
    assert status == "dead"
    assert [row.outcome for row in attempts] == ["failed"] * 3
    assert {row.error for row in attempts} == {raised.__name__}
    assert PATIENT not in str(last_error)
    # The message and the traceback are kept, sealed: readable with the keys, never in plain columns or logs.
    row = attempts[-1]
    detail = store.vault.open(
        row.dek_id, row.detail_sealed, f"job_attempts:{job_id}:{row.attempt}:{row.handler}".encode()
    ).decode()
    assert PATIENT in detail
    assert "Traceback" in detail
    assert PATIENT.encode() not in row.detail_sealed
    assert PATIENT not in caplog.text
    assert "never retrieved" not in caplog.text


def test_a_handler_running_past_its_lease_is_never_run_twice_at_once(store: Store, settings: Settings) -> None:
    receiver = Receiver(settings)
    running = 0
    most = 0
    runs = 0
    lock = threading.Lock()

    @receiver.on("ADD_CASE_COMMENT")
    def slow(event: CaseCommentAdded) -> None:
        nonlocal running, most, runs
        with lock:
            running += 1
            runs += 1
            most = max(most, running)
        # Past its first lease by three renewals seen in the database (not by a fixed sleep): the handler
        # outlives the lease it was claimed with, and only the heartbeat keeps the job its own.
        renewals = [lease_until(store, event_id)]
        deadline = time.monotonic() + 120
        while len(set(renewals)) < 4:
            assert time.monotonic() < deadline
            time.sleep(0.05)
            renewals.append(lease_until(store, event_id))
        with lock:
            running -= 1

    event_id = commit_one(store)
    other = Store.open(settings, upgrade=False)
    # A heartbeat renews the lease every third of it: another worker could take the job only after a stall
    # of two thirds of a lease, so the lease is long enough for a loaded machine and short against the run.
    lease = timedelta(seconds=2)
    workers = [
        Worker(s, receiver, Metrics(), lease=lease, poll_interval=0.1, listening_poll_interval=0.1)
        for s in (store, other)
    ]

    async def scenario() -> None:
        stop = asyncio.Event()
        tasks = [asyncio.create_task(worker.run(stop)) for worker in workers]
        deadline = time.monotonic() + 120
        while job_of(store, event_id)[0] != "succeeded":
            assert time.monotonic() < deadline
            await asyncio.sleep(0.1)
        stop.set()
        await asyncio.gather(*tasks)

    try:
        asyncio.run(scenario())
    finally:
        for worker in workers:
            worker.close()
        other.close()
    assert (runs, most) == (1, 1)


def test_no_task_exception_is_left_unretrieved_by_a_working_worker(
    store: Store, settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    receiver = Receiver(settings)
    seen: list[str] = []

    @receiver.on("ADD_CASE_COMMENT")
    async def record(event: CaseCommentAdded) -> None:
        seen.append(event.activity.id if event.activity else "")

    ids = [commit_one(store) for _ in range(20)]
    worker = Worker(store, receiver, Metrics(), poll_interval=0.05, listening_poll_interval=0.05)

    async def scenario() -> None:
        stop = asyncio.Event()
        task = asyncio.create_task(worker.run(stop))
        deadline = time.monotonic() + 120
        while len(seen) < len(ids):
            assert time.monotonic() < deadline
            await asyncio.sleep(0.05)
        await asyncio.sleep(0.3)  # idle rounds: the wait with no running job is where it used to fail
        stop.set()
        await task

    with caplog.at_level(logging.DEBUG, logger="asyncio"):
        asyncio.run(scenario())
        gc.collect()
    worker.close()
    assert sorted(seen) == sorted(ids)
    assert "never retrieved" not in caplog.text
    assert "Traceback" not in caplog.text
