"""The worker wakes for jobs committed by other processes: by notification on PostgreSQL, by polling on SQLite."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest

from casehooks.crypto import Keyring
from casehooks.events import CaseCommentAdded, parse_object, stringify
from casehooks.receiver.handlers import Receiver
from casehooks.receiver.metrics import Metrics
from casehooks.receiver.worker import Worker
from casehooks.settings import Settings
from casehooks.store import Store
from tests.receiver.events import comment_event

pytestmark = pytest.mark.integration


def test_an_idle_worker_runs_a_job_committed_elsewhere_promptly(
    tmp_path: Path, database_url: str, engine_name: str
) -> None:
    settings = Settings(data_dir=tmp_path / "data", database_url=database_url, master_key=Keyring.generate_entry())
    receiver = Receiver(settings)
    done: asyncio.Queue[str] = asyncio.Queue()

    @receiver.on("ADD_CASE_COMMENT")
    async def record(event: CaseCommentAdded) -> None:
        await done.put(event.comment.id)

    worker_store, other_process = Store.open(settings), Store.open(settings, upgrade=False)
    # On PostgreSQL the idle worker would not poll within this test at all: only a notification can wake it.
    poll = 0.2 if engine_name == "sqlite" else 60.0
    worker = Worker(worker_store, receiver, Metrics(), poll_interval=poll, listening_poll_interval=60.0)

    async def scenario() -> float:
        stop = asyncio.Event()
        task = asyncio.create_task(worker.run(stop))
        await asyncio.sleep(1.0)  # idle, listening
        wire = comment_event()
        started = time.monotonic()
        await asyncio.to_thread(other_process.commit, other_process.prepare(parse_object(wire), stringify(wire)))
        assert await asyncio.wait_for(done.get(), timeout=10) == wire["payload"]["comment"]["id"]
        elapsed = time.monotonic() - started
        stop.set()
        await task
        return elapsed

    try:
        assert asyncio.run(scenario()) < 5
    finally:
        worker_store.close()
        other_process.close()
