from __future__ import annotations

import random
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from sqlalchemy import select

from casehooks.events import parse_object, stringify
from casehooks.store import Store
from casehooks.store import queue as jobs
from casehooks.store.engine import writer
from casehooks.store.notify import JobListener
from casehooks.store.tables import JobRow
from tests.receiver.events import comment_event
from tests.store.conftest import Clock

pytestmark = pytest.mark.integration
LEASE = timedelta(minutes=5)


def add_event(store: Store) -> str:
    wire = comment_event()
    store.commit(store.prepare(parse_object(wire), stringify(wire)))
    return str(wire["payload"]["activity"]["id"])


def claim(store: Store, worker: str, limit: int = 10) -> list[jobs.ClaimedJob]:
    with writer(store.engine).begin() as connection:
        return jobs.claim(connection, worker, store.clock(), limit, LEASE)


def status(store: Store, job_id: int) -> str:
    with store.engine.connect() as connection:
        return str(connection.execute(select(JobRow.status).where(JobRow.id == job_id)).scalar_one())


def test_a_claimed_job_is_not_claimed_again(store: Store) -> None:
    add_event(store)
    first = claim(store, "a")
    assert [job.attempt for job in first] == [1]
    assert claim(store, "b") == []


def test_an_expired_lease_is_claimed_again(store: Store, clock: Clock) -> None:
    add_event(store)
    claim(store, "a")
    clock.advance(LEASE.total_seconds() + 1)
    again = claim(store, "b")
    assert [job.attempt for job in again] == [2]


def test_failure_schedules_a_retry_with_backoff(store: Store, clock: Clock) -> None:
    add_event(store)
    [job] = claim(store, "a")
    with writer(store.engine).begin() as connection:
        state = jobs.fail(connection, job, "a", clock(), "E", 3, random.Random(1))
    assert state == "failed"
    assert claim(store, "a") == []  # not due yet
    clock.advance(3)
    assert [j.id for j in claim(store, "a")] == [job.id]


def test_last_attempt_failure_is_dead_until_requeued(store: Store, clock: Clock) -> None:
    add_event(store)
    for _ in range(3):
        clock.advance(4000)
        [job] = claim(store, "a")
        with writer(store.engine).begin() as connection:
            jobs.fail(connection, job, "a", clock(), "E", 3, random.Random(1))
    assert status(store, job.id) == "dead"
    clock.advance(10_000)
    assert claim(store, "a") == []
    with writer(store.engine).begin() as connection:
        assert jobs.requeue(connection, clock(), job_ids=[job.id]) == 1
    [again] = claim(store, "a")
    assert again.attempt == 1


def test_success_is_final(store: Store, clock: Clock) -> None:
    add_event(store)
    [job] = claim(store, "a")
    with writer(store.engine).begin() as connection:
        jobs.succeed(connection, job, "a", clock())
    assert status(store, job.id) == "succeeded"
    clock.advance(LEASE.total_seconds() * 2)
    assert claim(store, "b") == []


def test_backoff_doubles_with_jitter_and_is_capped() -> None:
    rng = random.Random(7)
    delays = [jobs.backoff(n, rng, base=2, cap=60).total_seconds() for n in range(1, 10)]
    for attempt, delay in enumerate(delays, start=1):
        ceiling = min(60, 2 * 2 ** (attempt - 1))
        assert ceiling / 2 <= delay <= ceiling


def test_concurrent_claimers_never_hold_the_same_job(store: Store) -> None:
    for _ in range(60):
        add_event(store)
    claimed: list[int] = []
    lock = threading.Lock()
    start = threading.Barrier(8)

    def claimer(name: str) -> None:
        start.wait()
        while batch := claim(store, name, limit=3):
            with lock:
                claimed.extend(job.id for job in batch)

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(claimer, [f"w{n}" for n in range(8)]))
    assert len(claimed) == 60
    assert len(set(claimed)) == 60


def test_new_and_replayed_jobs_wake_a_listening_worker(store: Store, engine_name: str) -> None:
    woken = threading.Event()
    listener = JobListener.for_engine(store.engine, woken.set)
    if engine_name == "sqlite":
        assert listener is None  # no notifications: the in-process callback and polling wake workers
        return
    assert listener is not None
    try:
        assert listener.listening.wait(10)
        woken.clear()
        event_id = add_event(store)
        assert woken.wait(5)
        woken.clear()
        with writer(store.engine).begin() as connection:
            assert jobs.requeue(connection, store.clock(), event_ids=[event_id]) == 1
        assert woken.wait(5)
    finally:
        listener.close()
