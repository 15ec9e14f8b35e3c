"""Handlers in case order, in one process on a real database: case order whatever the arrival order, late events
told as late, a failing case holding back only itself until an operator releases it."""

from __future__ import annotations

import asyncio
import random
import time
import uuid
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from casehooks.crypto import Keyring
from casehooks.events import Event, parse_object, stringify
from casehooks.events.timestamps import format_js_iso
from casehooks.receiver.handlers import Delivery, Receiver
from casehooks.receiver.metrics import Metrics
from casehooks.receiver.worker import Worker
from casehooks.settings import Settings
from casehooks.store import Store, ordering, reads
from casehooks.store.engine import writer
from casehooks.store.tables import JobAttemptRow, JobRow
from tests.receiver.events import comment_event

pytestmark = pytest.mark.integration

EPOCH = datetime(2026, 1, 1, tzinfo=UTC)


def case_event(case_id: str, minute: int) -> dict[str, Any]:
    """A comment on ``case_id`` that happened ``minute`` minutes after the epoch."""
    event = comment_event(case_id=case_id)
    event["payload"]["activity"]["timestamp"] = format_js_iso(EPOCH + timedelta(minutes=minute))
    return event


def minute_of(event: Event) -> int:
    assert event.activity is not None and event.activity.timestamp is not None
    return int((event.activity.timestamp - EPOCH).total_seconds() // 60)


class Harness:
    """A store, a receiver with an ordered and an unordered handler, and what each observed."""

    def __init__(self, tmp_path: Path, database_url: str, *, poison: tuple[str, int] | None = None) -> None:
        self.settings = Settings(
            data_dir=tmp_path / "data", database_url=database_url, master_key=Keyring.generate_entry()
        )
        self.store = Store.open(self.settings)
        self.receiver = Receiver(self.settings)
        self.seen: dict[str, list[tuple[int, bool]]] = defaultdict(list)
        self.unordered: list[str] = []

        @self.receiver.on("ADD_CASE_COMMENT", ordered=True)
        def push_to_ehr(event: Event, delivery: Delivery) -> None:
            case = str(event.case.id if event.case else None)
            if poison is not None and (case, minute_of(event)) == poison:
                raise RuntimeError("the EHR refused it")
            self.seen[case].append((minute_of(event), delivery.late))

        @self.receiver.on("ADD_CASE_COMMENT")
        def count(event: Event) -> None:
            self.unordered.append(event.type)

    def commit(self, events: list[dict[str, Any]]) -> None:
        for wire in events:
            assert self.store.commit(self.store.prepare(parse_object(wire), stringify(wire)))

    def drain(self, **options: Any) -> int:
        worker = Worker(self.store, self.receiver, Metrics(), retry_base=0.01, **options)
        try:
            return asyncio.run(worker.drain())
        finally:
            worker.close()

    def drain_until_none(self, state: str, **options: Any) -> None:
        """Drain again while some job is in ``state`` (a retry not yet due ends a drain early)."""
        deadline = time.monotonic() + 120
        self.drain(**options)
        while state in self.jobs().values():
            assert time.monotonic() < deadline, f"jobs still {state}"
            self.drain(**options)

    def jobs(self) -> dict[int, str]:
        with self.store.engine.connect() as connection:
            return {row.id: row.status for row in connection.execute(select(JobRow.id, JobRow.status))}

    def close(self) -> None:
        self.store.close()


def test_a_case_committed_in_shuffled_order_is_handled_in_timestamp_order(tmp_path: Path, database_url: str) -> None:
    harness = Harness(tmp_path, database_url)
    try:
        events = [case_event(case, minute) for case in ("case-a", "case-b", "case-c") for minute in range(20)]
        random.Random(7).shuffle(events)
        harness.commit(events)
        harness.drain(concurrency=8)
        for case in ("case-a", "case-b", "case-c"):
            assert harness.seen[case] == [(minute, False) for minute in range(20)]
        assert len(harness.unordered) == len(events)
        assert set(harness.jobs().values()) == {"succeeded"}
    finally:
        harness.close()


def test_an_event_older_than_one_already_handled_is_delivered_as_late_and_recorded(
    tmp_path: Path, database_url: str
) -> None:
    harness = Harness(tmp_path, database_url)
    try:
        harness.commit([case_event("case-a", 10)])
        harness.drain()
        harness.commit([case_event("case-a", 5), case_event("case-a", 20)])
        harness.drain()
        assert harness.seen["case-a"] == [(10, False), (5, True), (20, False)]
        with harness.store.engine.connect() as connection:
            late = connection.execute(select(JobAttemptRow.handler).where(JobAttemptRow.late.is_(True))).scalars().all()
        assert late == [f"{__name__}.Harness.__init__.<locals>.push_to_ehr"]
        with harness.store.engine.connect() as connection:
            (late_job,) = ordering.list_jobs(connection, late_only=True)
            attempts = reads.event_detail(connection, late_job["event_id"])["attempts"]
        assert [attempt["late"] for attempt in attempts] == [True, False]
    finally:
        harness.close()


def test_a_poisoned_case_blocks_only_itself_until_an_operator_skips_the_job(tmp_path: Path, database_url: str) -> None:
    harness = Harness(tmp_path, database_url, poison=("case-a", 3))
    try:
        events = [case_event(case, minute) for case in ("case-a", "case-b") for minute in range(8)]
        random.Random(3).shuffle(events)
        harness.commit(events)
        harness.drain_until_none("failed", max_attempts=2, concurrency=4)
        # The poisoned job is dead; the case's later jobs wait behind it; the other case ran in full.
        assert harness.seen["case-b"] == [(minute, False) for minute in range(8)]
        assert harness.seen["case-a"] == [(minute, False) for minute in range(3)]
        states = harness.jobs()
        dead = [job_id for job_id, state in states.items() if state == "dead"]
        assert len(dead) == 1
        waiting = [job_id for job_id, state in states.items() if state == "queued"]
        assert len(waiting) == 4
        with harness.store.engine.connect() as connection:
            assert ordering.blocked_by(connection, waiting) == dict.fromkeys(waiting, dead[0])
            # The event page (console and `events show`) says what holds each waiting job.
            event_id = connection.execute(select(JobRow.event_id).where(JobRow.id == waiting[0])).scalar_one()
            assert reads.event_detail(connection, event_id)["jobs"][0]["blocked_by"] == dead[0]
            listed = ordering.list_jobs(connection, case_id="case-a")
            assert [row["status"] for row in listed] == ["succeeded"] * 3 + ["dead"] + ["queued"] * 4
            assert [row["blocked_by"] for row in listed] == [None] * 4 + [dead[0]] * 4
            assert len(ordering.list_jobs(connection, blocked=True)) == 4
        # Draining again runs nothing of the case: a dead ordered job holds it until an operator acts.
        harness.drain()
        assert len(harness.seen["case-a"]) == 3
        with writer(harness.store.engine).begin() as connection:
            released = ordering.skip(connection, dead[0], datetime.now(UTC))
        assert released is not None and released.after == "skipped"
        harness.drain()
        assert harness.seen["case-a"] == [(minute, False) for minute in (0, 1, 2, 4, 5, 6, 7)]
        assert harness.jobs()[dead[0]] == "skipped"
        with harness.store.engine.connect() as connection:
            assert ordering.blocked_by(connection, list(harness.jobs())) == {}
    finally:
        harness.close()


def test_dead_lettering_a_retrying_job_releases_its_case_and_a_replay_runs_it_late(
    tmp_path: Path, database_url: str
) -> None:
    harness = Harness(tmp_path, database_url, poison=("case-a", 1))
    try:
        harness.commit([case_event("case-a", minute) for minute in range(4)])
        harness.drain(max_attempts=50)  # the failed job waits for its retry; the case waits behind it
        states = harness.jobs()
        failing = [job_id for job_id, state in states.items() if state == "failed"]
        assert len(failing) == 1
        assert harness.seen["case-a"] == [(0, False)]
        with writer(harness.store.engine).begin() as connection:
            released = ordering.dead_letter(connection, failing[0], datetime.now(UTC))
        assert released is not None and (released.before, released.after) == ("failed", "dead")
        harness.drain()
        assert harness.seen["case-a"] == [(0, False), (2, False), (3, False)]
    finally:
        harness.close()


def test_events_without_a_case_are_not_held_back(tmp_path: Path, database_url: str) -> None:
    harness = Harness(tmp_path, database_url)
    try:
        event = case_event("case-a", 1)
        del event["payload"]["case"]
        event["payload"]["activity"]["id"] = str(uuid.uuid4())
        harness.commit([event])
        harness.drain()
        assert set(harness.jobs().values()) == {"succeeded"}
    finally:
        harness.close()
