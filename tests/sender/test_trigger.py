import asyncio
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from casehooks.events import parse_event, stringify
from casehooks.sender.trigger import EventBodies, TriggerOptions, run_trigger, run_trigger_processes, split
from casehooks.signing import sign
from tests.processes import free_port
from tests.sender.sink import Sink, running_sink

SRC = Path(__file__).resolve().parents[2] / "src"
BASE = [sys.executable, "-m", "casehooks", "trigger"]


def test_every_event_arrives_signed_parsed_and_unique(sink: Sink) -> None:
    options = TriggerOptions(url=sink.url, count=40, concurrency=8, secret="s3cret", attachment_bytes=2048)
    summary = asyncio.run(run_trigger(options))
    assert summary.sent == 40
    assert summary.statuses == {200: 40}
    assert sink.bad_signatures == 0
    activity_ids = set()
    for item in sink.received:
        event = parse_event(item.body)
        assert item.body == stringify(json.loads(item.body))
        assert item.headers["x-cv-signature"] == sign(item.body, "s3cret")
        assert event.activity is not None
        activity_ids.add(event.activity.id)
    assert len(activity_ids) == 40


def test_wrong_secret_is_refused_by_the_receiver(sink: Sink) -> None:
    summary = asyncio.run(run_trigger(TriggerOptions(url=sink.url, count=3, secret="other")))
    assert summary.statuses == {401: 3}
    assert summary.succeeded == 0


def test_static_auth_header_is_sent_verbatim() -> None:
    with running_sink() as sink:
        asyncio.run(run_trigger(TriggerOptions(url=sink.url, count=1, auth_header=("X-Org-Key", "abc 123"))))
        assert sink.received[0].headers["x-org-key"] == "abc 123"


def test_rate_paces_the_run() -> None:
    with running_sink() as sink:
        started = time.perf_counter()
        summary = asyncio.run(run_trigger(TriggerOptions(url=sink.url, count=6, concurrency=3, rate=20)))
        assert time.perf_counter() - started >= 5 / 20 * 0.9
        assert summary.succeeded == 6


def test_connection_refused_is_counted_as_an_error() -> None:
    url = f"http://127.0.0.1:{free_port()}/hook"
    summary = asyncio.run(run_trigger(TriggerOptions(url=url, count=2, timeout=2)))
    assert summary.errors == {"connect": 2}


def test_bodies_are_deterministic_and_get_fresh_ids() -> None:
    options = TriggerOptions(url="http://unused", count=4, templates=2, seed=7)
    first, second = EventBodies(options), EventBodies(options)
    bodies = [first.body(i) for i in range(4)]
    assert bodies == [second.body(i) for i in range(4)]
    ids = {parse_event(body).activity.id for body in bodies}  # type: ignore[union-attr]
    assert len(ids) == 4


def test_runs_without_a_seed_never_share_ids() -> None:
    options = TriggerOptions(url="http://unused", count=3, templates=1)
    first = [parse_event(EventBodies(options).body(i)) for i in range(3)]
    second = [parse_event(EventBodies(options).body(i)) for i in range(3)]
    ids = {event.activity.id for event in first + second}  # type: ignore[union-attr]
    assert len(ids) == 6
    assert first[0].case.id != second[0].case.id  # type: ignore[union-attr]


def test_a_secret_list_signs_with_the_first(sink: Sink) -> None:
    summary = asyncio.run(run_trigger(TriggerOptions(url=sink.url, count=2, secret=" s3cret , old-one")))
    assert summary.statuses == {200: 2}
    for item in sink.received:
        assert item.headers["x-cv-signature"] == sign(item.body, "s3cret")


def test_cli_refuses_an_unknown_type_and_lists_the_known_ones() -> None:
    env = {**os.environ, "PYTHONPATH": str(SRC)}
    result = subprocess.run(
        [*BASE, "FOO", "--to", "http://127.0.0.1:9/hook"], env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 2
    assert "ADD_CASE_DECISION" in result.stderr and "CALENDAR_EVENT_CREATED" in result.stderr
    listing = subprocess.run([*BASE, "--help"], env={**env, "COLUMNS": "400"}, capture_output=True, text=True)
    assert "ORDER_TRACKING_ADDED" in listing.stdout


def test_cli_prints_a_json_summary(sink: Sink) -> None:
    env = {**os.environ, "PYTHONPATH": str(SRC)}
    result = subprocess.run(
        [*BASE, "ADD_CASE_ATTACHMENT", "--to", sink.url, "--secret", "s3cret", "--count", "5", "--json"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    assert summary["sent"] == 5
    assert summary["statuses"] == {"200": 5}
    assert set(summary["latency_ms"]) == {"p50", "p95", "p99"}
    assert len(sink.received) == 5


def test_split_shares_count_and_concurrency_out_exactly_with_distinct_seeds() -> None:
    parts = split(TriggerOptions(url="u", count=101, concurrency=7, seed=5, rate=50.0), 3)
    assert [part.count for part in parts] == [34, 34, 33]
    assert sum(part.concurrency for part in parts) == 7
    assert len({part.seed for part in parts}) == 3
    assert sum(part.rate or 0 for part in parts) == pytest.approx(50.0)
    # Never more processes than events or concurrent senders.
    assert len(split(TriggerOptions(url="u", count=2, concurrency=8), 4)) == 2
    assert len(split(TriggerOptions(url="u", count=50, concurrency=1), 4)) == 1


def test_processes_send_every_event_once_even_with_one_seed(sink: Sink) -> None:
    options = TriggerOptions(url=sink.url, count=24, concurrency=4, secret="s3cret", seed=7, keep_accepted=True)
    summary = run_trigger_processes(options, 2)
    assert summary.sent == 24 and summary.succeeded == 24
    ids = {parse_event(item.body).activity.id for item in sink.received}  # type: ignore[union-attr]
    assert len(ids) == 24
    assert set(summary.accepted) == ids
