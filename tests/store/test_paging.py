"""Keyset paging over real stores: pages that never repeat or skip a row under inserts, totals, bad cursors."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest
from sqlalchemy import text

from casehooks.errors import BadFilter
from casehooks.events import parse_object, stringify
from casehooks.store import Store, paging
from casehooks.store.event_list import EventFilter, event_cursor, list_events, page_events
from casehooks.store.reads import CaseFilter, page_cases, page_quarantine
from tests.receiver.events import comment_event
from tests.store.steps import sqlite_steps

pytestmark = pytest.mark.integration


def ingest(store: Store, count: int) -> None:
    for _ in range(count):
        wire = comment_event()
        store.commit(store.prepare(parse_object(wire), stringify(wire)))


def test_paging_through_events_while_new_ones_arrive_shows_each_older_event_once(store: Store) -> None:
    ingest(store, 7)
    with store.engine.connect() as connection:
        everything = [row["id"] for row in page_events(connection, EventFilter(limit=100)).items]
        first = page_events(connection, EventFilter(limit=3))
    ingest(store, 2)  # arrivals after the first page never shift the next ones
    seen = [row["id"] for row in first.items]
    cursor = first.next
    with store.engine.connect() as connection:
        while cursor is not None:
            page = page_events(connection, EventFilter(limit=3, before_seq=event_cursor(cursor)))
            seen += [row["id"] for row in page.items]
            cursor = page.next
            assert page.total == 9
    assert seen == everything
    assert first.total == 7
    assert first.total_estimated is False


def test_cases_page_through_by_update_time_and_id(store: Store) -> None:
    ingest(store, 5)  # one case, many events: cases from several snapshots are one row
    with store.engine.connect() as connection:
        page = page_cases(connection, CaseFilter(limit=1))
        assert page.total == 1
        assert page.next is None
        assert page_cases(connection, CaseFilter(case_ids=())).items == []


def test_a_total_past_the_cap_is_labelled_an_estimate(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    ingest(store, 5)
    monkeypatch.setattr(paging, "COUNT_CAP", 3)
    with store.engine.connect() as connection:
        page = page_events(connection, EventFilter(limit=2, event_type="ADD_CASE_COMMENT"))
    assert (page.total, page.total_estimated, page.total_label) == (3, True, "3+")


def test_a_filter_counted_through_the_jobs_join_is_exact_to_the_lower_cap(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Each event counted by its job's state is a lookup in the jobs: counted exactly to a thousand, not ten.
    ingest(store, 5)
    monkeypatch.setattr(paging, "JOINED_COUNT_CAP", 3)
    with store.engine.connect() as connection:
        by_state = page_events(connection, EventFilter(limit=2, job_status="queued"))
        by_type = page_events(connection, EventFilter(limit=2, event_type="ADD_CASE_COMMENT"))
    assert (by_state.total, by_state.total_estimated, by_state.total_label) == (3, True, "3+")
    assert (by_type.total, by_type.total_estimated, by_type.total_label) == (5, False, "5")
    assert len(by_state.items) == 2 and by_state.next is not None  # the page itself is whole


@pytest.mark.parametrize(
    "cursor",
    ["", "!!!", "bm90IGpzb24", paging.encode_cursor("events", 5), paging.encode_cursor("quarantine", "x")],
)
def test_a_cursor_of_another_list_or_garbage_is_a_bad_filter(store: Store, cursor: Any) -> None:
    with store.engine.connect() as connection, pytest.raises(BadFilter):
        page_quarantine(connection, before=cursor or "e30")


def page_steps(store: Store, where: EventFilter) -> tuple[int, list[str]]:
    """SQLite's steps for one page, and the page's ids."""
    steps, page = sqlite_steps(store, lambda connection: page_events(connection, where))
    return steps, [row["id"] for row in page.items]


@pytest.fixture
def sqlite_store(store: Store) -> Store:
    """The store, on SQLite only: the tests that take it count SQLite's own steps."""
    if store.engine.dialect.name != "sqlite":
        pytest.skip("counts SQLite's own steps")
    return store


def test_a_page_of_a_common_job_state_costs_the_same_however_many_events_hold_it(
    sqlite_store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Read through the jobs in the state, a page sorted every such event: 6.9 s at a million. Past the count's
    # cap (lowered here) the page walks the events newest first instead.
    store = sqlite_store
    monkeypatch.setattr(paging, "JOINED_COUNT_CAP", 20)
    monkeypatch.setattr(paging, "COUNT_CAP", 20)
    where = EventFilter(limit=5, event_type="ADD_CASE_COMMENT", job_status="queued")
    ingest(store, 100)
    fewer, _ = page_steps(store, where)
    ingest(store, 300)
    more, newest = page_steps(store, where)
    assert more <= 1.2 * fewer
    with store.engine.connect() as connection:
        everything = [row["id"] for row in page_events(connection, EventFilter(limit=5)).items]
    assert newest == everything


def test_a_state_past_the_total_s_cap_but_rare_among_the_events_is_read_through_its_jobs(
    sqlite_store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Dead jobs after an outage: more than the filtered total counts, few among the events. Walking the events
    # newest first would look up a job for most of them; the jobs' status index reads only the dead ones.
    store = sqlite_store
    monkeypatch.setattr(paging, "JOINED_COUNT_CAP", 5)
    ingest(store, 400)
    with store.engine.begin() as connection:
        connection.execute(
            text("UPDATE jobs SET status = 'dead' WHERE id IN (SELECT id FROM jobs ORDER BY id LIMIT 12)")
        )
    where = EventFilter(limit=5, job_status="dead")
    steps, page = sqlite_steps(store, lambda connection: page_events(connection, where))
    walked, _ = sqlite_steps(store, lambda connection: list_events(connection, replace(where, limit=6), common=True))
    assert (page.total, page.total_estimated) == (5, True)
    assert len(page.items) == 5
    assert steps < walked / 2


def test_both_ways_of_reading_a_job_state_give_the_same_events(store: Store) -> None:
    ingest(store, 12)
    where = EventFilter(limit=50, job_status="queued")
    with store.engine.connect() as connection:
        assert list_events(connection, where, common=True) == list_events(connection, where, common=False)
        assert len(list_events(connection, where, common=True)) == 12
        assert list_events(connection, EventFilter(job_status="dead"), common=True) == []
