"""Counts for the console's overview and health pages: stored events and cases, the queue, refusals, accepted,
refused and failed over time, and handler success and durations per event type and per handler."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, func, select

from casehooks.store.tables import CaseRow, EventRow, JobAttemptRow, JobRow, QuarantineRow


def totals(connection: Connection) -> dict[str, int]:
    def count(query: object) -> int:
        return int(connection.execute(query).scalar() or 0)  # type: ignore[call-overload]

    return {
        "events": count(select(func.count()).select_from(EventRow)),
        "cases": count(select(func.count()).select_from(CaseRow)),
        "quarantine_held": count(select(func.count()).select_from(QuarantineRow).where(QuarantineRow.status == "held")),
    }


def events_per_minute(connection: Connection, now: datetime, minutes: int = 60) -> list[tuple[datetime, int]]:
    """Events received in each of the last ``minutes`` minutes, oldest first (empty minutes included)."""
    end = now.replace(second=0, microsecond=0) + timedelta(minutes=1)
    start = end - timedelta(minutes=minutes)
    counts = [0] * minutes
    stamps = connection.execute(select(EventRow.received_at).where(EventRow.received_at >= start)).scalars()
    for stamp in stamps:
        index = int((stamp - start).total_seconds() // 60)
        if 0 <= index < minutes:
            counts[index] += 1
    return [(start + timedelta(minutes=index), count) for index, count in enumerate(counts)]


def refusals_by_reason(connection: Connection, since: datetime | None = None) -> dict[str, int]:
    """Refused requests per reason, since ``since`` (or ever)."""
    query = select(QuarantineRow.reason, func.count()).group_by(QuarantineRow.reason).order_by(func.count().desc())
    if since is not None:
        query = query.where(QuarantineRow.received_at >= since)
    rows = connection.execute(query).all()
    return {str(reason): int(count) for reason, count in rows}


@dataclass(frozen=True, slots=True)
class Span:
    """A time range cut into equal buckets, ending with the bucket that holds ``now``."""

    name: str
    bucket: timedelta
    buckets: int

    def start(self, now: datetime) -> datetime:
        # Buckets divide a day, so they are aligned on the clock (12:00, 12:30, ...) whatever the time zone.
        midnight = now.replace(hour=0, minute=0, second=0, microsecond=0)
        into_day = (now - midnight) // self.bucket
        return midnight + self.bucket * (into_day + 1 - self.buckets)

    def counts(self, stamps: Iterable[datetime], now: datetime) -> list[tuple[datetime, int]]:
        start = self.start(now)
        counts = [0] * self.buckets
        for stamp in stamps:
            index = int((stamp - start) / self.bucket)
            if 0 <= index < self.buckets:
                counts[index] += 1
        return [(start + self.bucket * index, count) for index, count in enumerate(counts)]


SPANS = {
    "1h": Span("1h", timedelta(minutes=1), 60),
    "24h": Span("24h", timedelta(minutes=30), 48),
    "7d": Span("7d", timedelta(hours=3), 56),
    "30d": Span("30d", timedelta(days=1), 30),
}


def activity(connection: Connection, span: Span, now: datetime) -> dict[str, list[tuple[datetime, int]]]:
    """Requests accepted (stored events), refused (quarantined) and handler runs failed, per bucket of ``span``."""
    start = span.start(now)
    accepted = connection.execute(select(EventRow.received_at).where(EventRow.received_at >= start)).scalars()
    refused = connection.execute(select(QuarantineRow.received_at).where(QuarantineRow.received_at >= start)).scalars()
    failed = connection.execute(
        select(JobAttemptRow.started_at).where(JobAttemptRow.started_at >= start, JobAttemptRow.outcome == "failed")
    ).scalars()
    return {
        "accepted": span.counts(accepted, now),
        "refused": span.counts(refused, now),
        "failed": span.counts(failed, now),
    }


def percentile(ordered: list[float], share: float) -> float | None:
    """The nearest-rank percentile of sorted values (``share`` in 0..1); None for no values."""
    if not ordered:
        return None
    rank = max(1, -(-len(ordered) * share // 1))
    return ordered[int(rank) - 1]


def _figures(runs: list[tuple[str, float]], span: Span) -> dict[str, Any]:
    durations = sorted(duration for _, duration in runs)
    succeeded = sum(1 for outcome, _ in runs if outcome == "succeeded")
    hours = span.bucket.total_seconds() * span.buckets / 3600
    return {
        "runs": len(runs),
        "per_hour": round(len(runs) / hours, 2),
        "succeeded": succeeded,
        "failed": len(runs) - succeeded,
        "success_pct": round(100 * succeeded / len(runs), 1) if runs else None,
        "p50_ms": percentile(durations, 0.5),
        "p95_ms": percentile(durations, 0.95),
    }


def handler_health(connection: Connection, span: Span, now: datetime) -> dict[str, Any]:
    """Handler runs within ``span``: rate, success % and p50/p95 duration per event type and per handler, and
    failed runs per bucket."""
    rows = connection.execute(
        select(
            JobAttemptRow.handler,
            JobAttemptRow.outcome,
            JobAttemptRow.duration_ms,
            JobAttemptRow.started_at,
            JobRow.event_type,
        )
        .join(JobRow, JobRow.id == JobAttemptRow.job_id)
        .where(JobAttemptRow.started_at >= span.start(now))
    ).all()
    by_type: dict[str, list[tuple[str, float]]] = {}
    by_handler: dict[str, list[tuple[str, float]]] = {}
    for row in rows:
        run = (str(row.outcome), float(row.duration_ms))
        by_type.setdefault(str(row.event_type or "?"), []).append(run)
        by_handler.setdefault(str(row.handler), []).append(run)
    return {
        "by_event_type": {name: _figures(runs, span) for name, runs in sorted(by_type.items())},
        "by_handler": {name: _figures(runs, span) for name, runs in sorted(by_handler.items())},
        "failures": span.counts((row.started_at for row in rows if row.outcome == "failed"), now),
    }
