"""Prometheus metrics of one receiver process. Labels are reasons, outcomes and event types: never payload data."""

from __future__ import annotations

from collections.abc import Callable, Iterator

from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector


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
        self.handler_runs = Counter(
            "casehooks_handler_runs", "Handler runs by outcome", ["outcome"], registry=self.registry
        )
        self.ingest_seconds = Histogram(
            "casehooks_ingest_seconds",
            "Time from the end of the body to the committed answer",
            buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
            registry=self.registry,
        )
        if read_depth is not None:
            self.registry.register(_QueueDepth(read_depth))
