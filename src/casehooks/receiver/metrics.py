"""Prometheus metrics of one receiver process. Labels are reasons, outcomes and event types: never payload data.

Every label comes from a closed set, so that no sender can grow ``/metrics`` (each new label value is a new
series kept for the life of the process): event types outside the documented list count as ``other``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from casehooks.events import ActivityType

OTHER = "other"
EVENT_TYPES = frozenset(ActivityType)
REFUSAL_REASONS = frozenset(
    {
        "auth_missing",
        "auth_malformed",
        "auth_mismatch",
        "auth_no_secret_configured",
        "auth_missing_auth_header",
        "auth_auth_header_mismatch",
        "schema",
        "too_large",
        "body_timeout",
        "busy",
        "internal_error",
        "unprocessable",
        "store_unavailable",
    }
)


def event_label(event_type: str) -> str:
    """The event type as a label: a documented type, or ``other``."""
    return event_type if event_type in EVENT_TYPES else OTHER


def reason_label(reason: str) -> str:
    """A refusal reason as a label: one of the fixed reasons, or ``other``."""
    return reason if reason in REFUSAL_REASONS else OTHER


class _QueueDepth(Collector):
    def __init__(self, read_depth: Callable[[], dict[str, int]]) -> None:
        self._read_depth = read_depth

    def collect(self) -> Iterator[GaugeMetricFamily]:
        family = GaugeMetricFamily("casehooks_jobs", "Handler jobs by state", labels=["state"])
        try:
            depth = self._read_depth()
        except Exception:  # a scrape must not fail because the store is down; readiness reports that
            depth = {}
        for state in ("queued", "running", "failed", "dead", "succeeded"):
            family.add_metric([state], depth.get(state, 0))
        yield family


class Metrics:
    """The counters and histograms the receiver and its worker update."""

    def __init__(self, read_depth: Callable[[], dict[str, int]] | None = None) -> None:
        self.registry = CollectorRegistry()
        self.received = Counter("casehooks_requests_received", "Webhook requests received", registry=self.registry)
        self.accepted = Counter(
            "casehooks_events_accepted", "Events stored for the first time", ["event"], registry=self.registry
        )
        self.duplicates = Counter("casehooks_events_duplicate", "Redeliveries of stored events", registry=self.registry)
        self.refused = Counter(
            "casehooks_requests_refused", "Requests refused and quarantined", ["reason"], registry=self.registry
        )
        self.unavailable = Counter(
            "casehooks_store_unavailable", "Requests answered 503: the store could not commit", registry=self.registry
        )
        self.quarantine_unrecorded = Counter(
            "casehooks_refusals_unrecorded",
            "Refusals answered but not recorded in the quarantine: the database did not answer in time",
            registry=self.registry,
        )
        self.handler_runs = Counter(
            "casehooks_handler_runs", "Handler runs by outcome", ["outcome"], registry=self.registry
        )
        self.files_swept = Counter(
            "casehooks_files_swept", "Blob-store files no row named, removed by the sweep", registry=self.registry
        )
        self.files_swept_bytes = Counter(
            "casehooks_files_swept_bytes", "Bytes of the files the sweep removed", registry=self.registry
        )
        self.file_sweeps_failed = Counter(
            "casehooks_file_sweeps_failed", "Sweeps the blob store or database cut short", registry=self.registry
        )
        self.ingest_seconds = Histogram(
            "casehooks_ingest_seconds",
            "Time from the end of the body to the committed answer",
            buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
            registry=self.registry,
        )
        if read_depth is not None:
            self.registry.register(_QueueDepth(read_depth))

    def count_accepted(self, event_type: str) -> None:
        self.accepted.labels(event_label(event_type)).inc()

    def count_refused(self, reason: str) -> None:
        self.refused.labels(reason_label(reason)).inc()
