"""The events list: filters, pages newest first, and the total a filter matches.

A listing of plain columns (ids, types, states, counts): it reads two tables and opens nothing sealed. It
reads them as lightweight clauses naming only those columns, so ``casehooks events list`` loads neither the ORM
and its thirty mapped tables nor the keys nor the event models; tests/store/test_event_list.py holds the clauses
to the tables' definitions.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Connection, Integer, Select, String, column, exists, literal, select, table

from casehooks.store.column_types import UTCDateTime
from casehooks.store.paging import Page, count, cursor_int, decode_cursor, encode_cursor

EVENTS = table(
    "events",
    column("seq", BigInteger),
    column("id", String),
    column("event_type", String),
    column("case_id", String),
    column("received_at", UTCDateTime),
    column("body_size", BigInteger),
    column("source", String),
    column("deviations", JSON),
)
JOBS = table(
    "jobs",
    column("id", BigInteger),
    column("event_id", String),
    column("status", String),
    column("attempts", Integer),
)


@dataclass(frozen=True, slots=True)
class EventFilter:
    event_type: str | None = None
    case_id: str | None = None
    job_status: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    limit: int = 50
    before_seq: int | None = None
    after_seq: int | None = None


def _events_query(where: EventFilter, *, walk_events: bool = False) -> Select[Any]:
    events, jobs = EVENTS.c, JOBS.c
    query: Select[Any] = select(
        *EVENTS.c,
        jobs.id.label("job_id"),
        jobs.status.label("job_status"),
        jobs.attempts.label("job_attempts"),
    ).join_from(EVENTS, JOBS, jobs.event_id == events.id, isouter=True)
    if where.job_status:
        # Walking the events newest first and looking up each one's job finds a page of a common state at once;
        # reading every job in the state and sorting them (what a planner picks from the status index) took
        # seconds at a million. Comparing an expression keeps the planner off that index.
        status = jobs.status + literal("") if walk_events else jobs.status
        query = query.where(status == where.job_status)
    return _by_event(query, where)


def _events_counted(where: EventFilter) -> Select[Any]:
    """The rows ``where`` matches, as cheaply as they can be counted: the jobs join only when filtering by it."""
    events, jobs = EVENTS.c, JOBS.c
    query: Select[Any] = select(events.seq)
    if where.job_status:
        query = query.join_from(EVENTS, JOBS, jobs.event_id == events.id).where(jobs.status == where.job_status)
    return _by_event(query, where)


def _by_event(query: Select[Any], where: EventFilter) -> Select[Any]:
    """``query`` narrowed by the filters on the events' own columns: type, case, received-at range."""
    events = EVENTS.c
    if where.event_type:
        query = query.where(events.event_type == where.event_type)
    if where.case_id:
        query = query.where(events.case_id == where.case_id)
    if where.since:
        query = query.where(events.received_at >= where.since)
    if where.until:
        query = query.where(events.received_at < where.until)
    return query


def matching_ids(connection: Connection, where: EventFilter) -> list[str]:
    """The id of every event ``where`` matches, oldest first, its page bounds and limit aside (a bulk action's
    selection)."""
    events, jobs = EVENTS.c, JOBS.c
    query: Select[Any] = select(events.id).order_by(events.seq)
    if where.job_status:
        query = query.where(exists().where(jobs.event_id == events.id, jobs.status == where.job_status))
    return [str(event_id) for event_id in connection.execute(_by_event(query, where)).scalars()]


def _filtered(where: EventFilter) -> bool:
    return any((where.event_type, where.case_id, where.job_status, where.since, where.until))


def list_events(connection: Connection, where: EventFilter, *, common: bool = False) -> list[dict[str, Any]]:
    """Events ``where`` matches, newest first; ``common`` when the job state filtered on is held by more events
    than a count reaches (then the events are walked, not the jobs in that state)."""
    seq = EVENTS.c.seq
    query = _events_query(where, walk_events=common).order_by(seq.desc()).limit(where.limit)
    if where.before_seq:
        query = query.where(seq < where.before_seq)
    if where.after_seq is not None:
        query = query.where(seq > where.after_seq)
    events = []
    for row in connection.execute(query):
        item = {key: value for key, value in row._mapping.items() if key != "deviations"}
        item["deviation_count"] = len(row.deviations or [])
        events.append(item)
    return events


def _common_state(connection: Connection, status: str) -> bool:
    """Whether more jobs than a total counts hold ``status``: counted on the jobs' own status index (no join), so
    a state held by a few thousand events (dead jobs after an outage) is still read through that index."""
    return count(connection, select(JOBS.c.id).where(JOBS.c.status == status), table="jobs", filtered=True)[1]


def event_cursor(cursor: str) -> int:
    """The seq an events cursor stands for; a bare seq number is accepted too (the live view follows seqs)."""
    if cursor.isdigit() and len(cursor) < 19:
        return int(cursor)
    return cursor_int(decode_cursor("events", cursor, 1)[0])


def page_events(connection: Connection, where: EventFilter) -> Page:
    """A page of ``list_events`` with the next page's cursor and the total the filter matches."""
    counted = _events_counted(where)
    joined = bool(where.job_status)  # the job state counts through the jobs
    total, estimated = count(connection, counted, table="events", filtered=_filtered(where), joined=joined)
    common = estimated and joined and _common_state(connection, str(where.job_status))
    items = list_events(connection, replace(where, limit=where.limit + 1), common=common)
    more = len(items) > where.limit
    items = items[: where.limit]
    following = encode_cursor("events", items[-1]["seq"]) if more and items else None
    return Page(items, following, total, estimated)
