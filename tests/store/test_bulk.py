from __future__ import annotations

import random
from datetime import timedelta

import pytest

from casehooks.store import Store, bulk
from casehooks.store import queue as jobs
from casehooks.store.engine import writer
from tests.store.conftest import Clock
from tests.store.test_queue import add_event, claim

pytestmark = pytest.mark.integration


def test_events_match_by_type_status_and_received_range(store: Store, clock: Clock) -> None:
    early = add_event(store)
    clock.advance(3600)
    late = add_event(store)
    [job] = [job for job in claim(store, "w") if job.event_id == late]
    with writer(store.engine).begin() as connection:
        jobs.fail(connection, job, "w", clock(), "h: E", 1, random.Random(1))
    with store.engine.connect() as connection:
        assert bulk.matching_events(connection, bulk.EventSelection()) == [early, late]
        assert bulk.matching_events(connection, bulk.EventSelection(event_type="NO_SUCH")) == []
        assert bulk.matching_events(connection, bulk.EventSelection(job_status="dead")) == [late]
        since = bulk.EventSelection(since=clock() - timedelta(minutes=1))
        assert bulk.matching_events(connection, since) == [late]
        until = bulk.EventSelection(until=clock() - timedelta(minutes=1))
        assert bulk.matching_events(connection, until) == [early]


def test_dead_jobs_match_by_the_handler_and_error_that_failed_them(store: Store) -> None:
    dead = {}
    for handler, error in [("a", "Timeout"), ("b", "KeyError")]:
        add_event(store)
        [job] = claim(store, "w")
        with writer(store.engine).begin() as connection:
            jobs.record_attempt(connection, job, handler, "failed", error, store.clock(), 1.0)
            jobs.fail(connection, job, "w", store.clock(), error, 1, random.Random(1))
        dead[handler] = job.id
    with store.engine.connect() as connection:
        assert bulk.matching_dead(connection, bulk.DeadSelection()) == sorted(dead.values())
        assert bulk.matching_dead(connection, bulk.DeadSelection(handler="a")) == [dead["a"]]
        assert bulk.matching_dead(connection, bulk.DeadSelection(handler="a", error="KeyError")) == []
        assert bulk.matching_dead(connection, bulk.DeadSelection(error="KeyError")) == [dead["b"]]


def test_a_selection_describes_only_what_it_filters_on() -> None:
    assert bulk.EventSelection().describe() == "everything"
    assert bulk.DeadSelection(handler="a", error="E").describe() == "handler=a error=E"
