"""Scenario: handlers in case order. A backlog of events over many cases, stored in shuffled order, drained by one
worker whose only handler is ordered, against the same backlog drained by an unordered handler (same run)."""

from __future__ import annotations

import asyncio
import random
import shutil
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bench.report import Row, median
from casehooks.crypto import Keyring
from casehooks.events import Event, parse_object, stringify
from casehooks.events.timestamps import format_js_iso
from casehooks.receiver.handlers import Receiver
from casehooks.receiver.metrics import Metrics
from casehooks.receiver.worker import Worker
from casehooks.sender.fake import fake_event
from casehooks.settings import Settings
from casehooks.store import Store

EPOCH = datetime(2026, 1, 1, tzinfo=UTC)


def _settings(data_dir: Path, key: str) -> Settings:
    return Settings(data_dir=data_dir, master_key=key)


def fill(data_dir: Path, key: str, events: int, cases: int) -> None:
    """Store ``events`` comment events spread over ``cases`` cases, in shuffled order."""
    rng = random.Random(11)
    store = Store.open(_settings(data_dir, key))
    order = [(case, minute) for case in range(cases) for minute in range(events // cases)]
    rng.shuffle(order)
    try:
        for case, minute in order:
            wire = fake_event("ADD_CASE_COMMENT", rng, attachment_bytes=0)
            payload = wire["payload"]
            payload["case"]["id"] = f"bench-case-{case}"
            payload["activity"]["id"] = str(uuid.uuid4())
            payload["activity"]["timestamp"] = format_js_iso(EPOCH + timedelta(minutes=minute))
            store.commit(store.prepare(parse_object(wire), stringify(wire)))
    finally:
        store.close()


def drain(data_dir: Path, key: str, *, ordered: bool, concurrency: int) -> float:
    """Jobs per second for one worker draining the stored backlog."""
    settings = _settings(data_dir, key)
    receiver = Receiver(settings)

    @receiver.on("ADD_CASE_COMMENT", ordered=ordered)
    async def push(event: Event) -> None:
        pass

    store = Store.open(settings)
    worker = Worker(store, receiver, Metrics(), concurrency=concurrency)
    try:
        started = time.perf_counter()
        ran = asyncio.run(worker.drain())
        return ran / (time.perf_counter() - started)
    finally:
        worker.close()
        store.close()


def run(events: int = 2000, cases: int = 50, rounds: int = 3, concurrency: int = 8) -> list[Row]:
    key = Keyring.generate_entry()
    rates: dict[bool, list[float]] = {True: [], False: []}
    with tempfile.TemporaryDirectory(prefix="casehooks-bench-ordering-") as folder:
        template = Path(folder) / "template"
        fill(template, key, events, cases)
        for index in range(rounds):
            # Alternate which runs first, so that drift on a shared machine falls on both sides.
            for ordered in (True, False) if index % 2 == 0 else (False, True):
                copy = Path(folder) / f"run-{index}-{ordered}"
                shutil.copytree(template, copy)
                rates[ordered].append(drain(copy, key, ordered=ordered, concurrency=concurrency))
                shutil.rmtree(copy)
    return [
        Row(
            "ordering",
            f"jobs/s draining {events:,} events over {cases} cases, ordered handler",
            median(rates[True]),
            "unordered handler",
            median(rates[False]),
            ">= 0.5",
        )
    ]
