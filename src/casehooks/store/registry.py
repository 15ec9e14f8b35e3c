"""The handler registry: which handlers exist across every worker process, and which workers are alive.

Each worker with handlers registers them when it starts and keeps its row fresh with a heartbeat. Jobs are
dispatched against the registry, so a handler that some process has is never skipped because another process,
started without it, claimed the job first. Differences between the handler sets of live workers are reported,
never resolved silently.
"""

from __future__ import annotations

import hashlib
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, delete, select, update
from sqlalchemy.dialects import postgresql, sqlite

from casehooks.store.tables import HandlerRow, JobRow, WorkerRow


def fingerprint(registrations: Mapping[str, Sequence[str]], ordered: Collection[str] = ()) -> str:
    """A short digest of a handler set (names, their event types, and which run in case order), equal for equal
    sets."""
    text = "\n".join(
        f"{name}:{','.join(sorted(types))}{':ordered' if name in ordered else ''}"
        for name, types in sorted(registrations.items())
    )
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _insert(connection: Connection, table: Any) -> Any:
    dialect: Any = postgresql if connection.dialect.name == "postgresql" else sqlite
    return dialect.insert(table)


def register(
    connection: Connection,
    worker_id: str,
    registrations: Mapping[str, Sequence[str]],
    now: datetime,
    ordered: Collection[str] = (),
) -> None:
    """Record a starting worker and its handlers (a handler's event types and ordering are those of its newest
    registration)."""
    if registrations:
        handlers = _insert(connection, HandlerRow.__table__)
        connection.execute(
            handlers.on_conflict_do_update(
                index_elements=["name"],
                set_={
                    "event_types": handlers.excluded.event_types,
                    "last_seen_at": handlers.excluded.last_seen_at,
                    "ordered": handlers.excluded.ordered,
                },
            ),
            [
                {
                    "name": name,
                    "event_types": sorted(types),
                    "registered_at": now,
                    "last_seen_at": now,
                    "ordered": name in ordered,
                }
                for name, types in registrations.items()
            ],
        )
    workers = _insert(connection, WorkerRow.__table__)
    connection.execute(
        workers.on_conflict_do_update(
            index_elements=["id"],
            set_={"last_seen_at": workers.excluded.last_seen_at, "handlers": workers.excluded.handlers},
        ),
        {
            "id": worker_id,
            "fingerprint": fingerprint(registrations, ordered),
            "handlers": sorted(registrations),
            "started_at": now,
            "last_seen_at": now,
        },
    )


def heartbeat(connection: Connection, worker_id: str, now: datetime) -> None:
    connection.execute(update(WorkerRow).where(WorkerRow.id == worker_id).values(last_seen_at=now))


def forget(connection: Connection, worker_id: str) -> None:
    """Remove a worker that stops cleanly (one killed ages out of the live set)."""
    connection.execute(delete(WorkerRow).where(WorkerRow.id == worker_id))


@dataclass(frozen=True, slots=True)
class HandlerReport:
    """How the handler sets of live workers compare with the registry."""

    registered: tuple[str, ...]
    live_workers: int
    # Registered handlers no live worker has: their jobs wait until one starts (or the handler is retired).
    orphaned: tuple[str, ...]
    # Live workers with handlers do not all have the same set.
    differing: bool

    @property
    def ok(self) -> bool:
        return not self.orphaned and not self.differing

    def to_dict(self) -> dict[str, Any]:
        return {
            "status": "ok" if self.ok else "mismatch",
            "registered": list(self.registered),
            "live_workers": self.live_workers,
            "orphaned": list(self.orphaned),
            "differing": self.differing,
        }


def report(connection: Connection, now: datetime, live_within: timedelta) -> HandlerReport:
    registered = tuple(sorted(connection.execute(select(HandlerRow.name)).scalars()))
    live = connection.execute(
        select(WorkerRow.fingerprint, WorkerRow.handlers).where(WorkerRow.last_seen_at >= now - live_within)
    ).all()
    held = {name for row in live for name in (row.handlers or [])}
    prints = {row.fingerprint for row in live if row.handlers}
    return HandlerReport(
        registered=registered,
        live_workers=len(live),
        orphaned=tuple(name for name in registered if name not in held),
        differing=len(prints) > 1,
    )


def retire(connection: Connection, name: str, now: datetime) -> int:
    """Remove a handler from the registry and from every job still waiting for it; returns how many jobs."""
    connection.execute(delete(HandlerRow).where(HandlerRow.name == name))
    marker = f"|{name}|"
    waiting = connection.execute(
        select(JobRow.id, JobRow.pending).where(
            JobRow.pending.contains(marker, autoescape=True), JobRow.status != "running"
        )
    ).all()
    for row in waiting:
        left = str(row.pending).replace(marker, "|")
        values: dict[str, Any] = {"pending": left}
        if left == "|":
            values.update(status="succeeded", finished_at=now)
        connection.execute(update(JobRow).where(JobRow.id == row.id).values(**values))
    return len(waiting)
