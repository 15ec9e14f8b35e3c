"""Metric labels come from closed sets: no sender can grow ``/metrics`` with invented event types or reasons."""

from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from prometheus_client import generate_latest

from casehooks.events import ActivityType
from casehooks.receiver.metrics import Metrics
from tests.processes import start_server
from tests.receiver.events import comment_event, signed

SECRET = "metrics-secret"


def fuzzed_type(n: int) -> str:
    return f"FUZZ_{n}_{uuid.uuid4().hex}"


def test_ten_thousand_fuzzed_event_types_count_as_one_label() -> None:
    metrics = Metrics()
    empty = len(generate_latest(metrics.registry))
    for n in range(10_000):
        metrics.count_accepted(fuzzed_type(n))
        metrics.count_refused(f"auth_{fuzzed_type(n)}")
    text = generate_latest(metrics.registry).decode()
    assert len(text) - empty < 2_000
    assert 'casehooks_events_accepted_total{event="other"} 10000.0' in text
    assert 'casehooks_requests_refused_total{reason="other"} 10000.0' in text
    assert "FUZZ" not in text


def test_documented_event_types_keep_their_own_label() -> None:
    metrics = Metrics()
    for event_type in ActivityType:
        metrics.count_accepted(event_type.value)
    metrics.count_refused("auth_mismatch")
    text = generate_latest(metrics.registry).decode()
    assert 'casehooks_events_accepted_total{event="ADD_CASE_COMMENT"} 1.0' in text
    assert 'casehooks_requests_refused_total{reason="auth_mismatch"} 1.0' in text
    assert 'event="other"' not in text


@pytest.mark.acceptance
def test_fuzzed_event_types_over_http_leave_metrics_small(tmp_path: Path) -> None:
    server = start_server(tmp_path, webhook_secret=SECRET)
    try:

        def post(n: int) -> int:
            event = comment_event()
            event["event"] = fuzzed_type(n)
            body, headers = signed(event, SECRET)
            return httpx.post(server.webhook, content=body, headers=headers, timeout=60).status_code

        with ThreadPoolExecutor(8) as pool:
            assert set(pool.map(post, range(300))) == {200}
        text = httpx.get(f"{server.url}/metrics", timeout=60).text
        assert 'casehooks_events_accepted_total{event="other"} 300.0' in text
        assert "FUZZ" not in text
        assert len(text) < 20_000
    finally:
        server.stop()
