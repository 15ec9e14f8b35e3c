"""Latency and outcome statistics of a run of deliveries. Pure."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any


def percentile(sorted_values: Sequence[float], q: float) -> float | None:
    """The ``q`` (0..100) percentile by the nearest-rank method; None for no values."""
    if not sorted_values:
        return None
    rank = max(1, math.ceil(q / 100 * len(sorted_values)))
    return sorted_values[min(rank, len(sorted_values)) - 1]


@dataclass(slots=True)
class Outcome:
    """One request: its status code or error kind, and how long it took."""

    status: int | None
    error: str | None
    seconds: float
    body_bytes: int


@dataclass(slots=True)
class TriggerSummary:
    """What a trigger run did: how many were sent, their status codes, errors by kind, latency, throughput."""

    sent: int = 0
    statuses: Counter[int] = field(default_factory=Counter)
    errors: Counter[str] = field(default_factory=Counter)
    latencies: list[float] = field(default_factory=list)
    body_bytes: int = 0
    elapsed: float = 0.0
    #: activity id -> SHA-256 of the body, of accepted events, when asked for (``--verify``).
    accepted: dict[str, str] = field(default_factory=dict)

    def merge(self, other: TriggerSummary) -> None:
        """Add another run's counts (of a process sending at the same time); ``elapsed`` is the caller's."""
        self.sent += other.sent
        self.statuses.update(other.statuses)
        self.errors.update(other.errors)
        self.latencies.extend(other.latencies)
        self.body_bytes += other.body_bytes
        self.accepted.update(other.accepted)

    def add(self, outcome: Outcome) -> None:
        self.sent += 1
        self.body_bytes += outcome.body_bytes
        self.latencies.append(outcome.seconds)
        if outcome.status is not None:
            self.statuses[outcome.status] += 1
        if outcome.error is not None:
            self.errors[outcome.error] += 1

    @property
    def succeeded(self) -> int:
        return sum(count for status, count in self.statuses.items() if 200 <= status < 300)

    @property
    def throughput(self) -> float:
        """Requests a second over the whole run."""
        return self.sent / self.elapsed if self.elapsed > 0 else 0.0

    def latency_ms(self, q: float) -> float | None:
        value = percentile(sorted(self.latencies), q)
        return None if value is None else round(value * 1000, 3)

    def to_dict(self) -> dict[str, Any]:
        return {
            "sent": self.sent,
            "succeeded": self.succeeded,
            "statuses": {str(status): count for status, count in sorted(self.statuses.items())},
            "errors": dict(sorted(self.errors.items())),
            "latency_ms": {"p50": self.latency_ms(50), "p95": self.latency_ms(95), "p99": self.latency_ms(99)},
            "elapsed_seconds": round(self.elapsed, 3),
            "throughput_per_second": round(self.throughput, 2),
            "body_bytes": self.body_bytes,
        }
