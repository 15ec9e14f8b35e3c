"""Counts for the console's overview: stored events and cases, the queue, refusals, events per minute."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import Connection, func, select

from casehooks.store.tables import CaseRow, EventRow, QuarantineRow


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


def refusals_by_reason(connection: Connection) -> dict[str, int]:
    rows = connection.execute(
        select(QuarantineRow.reason, func.count()).group_by(QuarantineRow.reason).order_by(func.count().desc())
    ).all()
    return {str(reason): int(count) for reason, count in rows}
