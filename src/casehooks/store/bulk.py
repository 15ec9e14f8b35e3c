"""Selections for bulk actions: the events, held requests and dead jobs that match a filter.

A selection is plain data with a stable text form (``describe``), so that a confirmation can be bound to exactly
the filter that was previewed; the functions here only read, the actions themselves stay where they are.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import datetime

from sqlalchemy import Connection, and_, exists, select

from casehooks.store.event_list import EventFilter, matching_ids
from casehooks.store.tables import JobAttemptRow, JobRow, QuarantineRow


def _describe(selection: object) -> str:
    parts = []
    for field in fields(selection):  # type: ignore[arg-type]
        value = getattr(selection, field.name)
        if value is not None:
            shown = value.isoformat() if isinstance(value, datetime) else str(value)
            parts.append(f"{field.name}={shown}")
    return " ".join(parts) or "everything"


@dataclass(frozen=True, slots=True)
class EventSelection:
    """Events by type, job status and a received-at range (``until`` excluded)."""

    event_type: str | None = None
    job_status: str | None = None
    since: datetime | None = None
    until: datetime | None = None

    def describe(self) -> str:
        return _describe(self)

    def as_filter(self) -> EventFilter:
        """The events list's filter that matches the same events."""
        return EventFilter(event_type=self.event_type, job_status=self.job_status, since=self.since, until=self.until)


@dataclass(frozen=True, slots=True)
class HeldSelection:
    """Held requests (with their body kept, so they can be reprocessed) by refusal reason."""

    reason: str | None = None

    def describe(self) -> str:
        return _describe(self)


@dataclass(frozen=True, slots=True)
class DeadSelection:
    """Dead jobs by a handler that failed them and the error it raised."""

    handler: str | None = None
    error: str | None = None

    def describe(self) -> str:
        return _describe(self)


def matching_events(connection: Connection, selection: EventSelection) -> list[str]:
    return matching_ids(connection, selection.as_filter())


def matching_held(connection: Connection, selection: HeldSelection) -> list[str]:
    query = (
        select(QuarantineRow.id)
        .where(QuarantineRow.status == "held", QuarantineRow.body_sealed.is_not(None))
        .order_by(QuarantineRow.received_at)
    )
    if selection.reason:
        query = query.where(QuarantineRow.reason == selection.reason)
    return [str(record_id) for record_id in connection.execute(query).scalars()]


def matching_dead(connection: Connection, selection: DeadSelection) -> list[int]:
    query = select(JobRow.id).where(JobRow.status == "dead").order_by(JobRow.id)
    conditions = [JobAttemptRow.job_id == JobRow.id, JobAttemptRow.outcome == "failed"]
    if selection.handler:
        conditions.append(JobAttemptRow.handler == selection.handler)
    if selection.error:
        conditions.append(JobAttemptRow.error == selection.error)
    if selection.handler or selection.error:
        query = query.where(exists().where(and_(*conditions)))
    return [int(job_id) for job_id in connection.execute(query).scalars()]
