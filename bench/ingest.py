"""Scenario 1: signed ~5 KB ADD_CASE_COMMENT events at 32 connections into ``casehooks serve`` against the bare
ASGI ceiling and a hand-written FastAPI + ORM receiver, in alternating rounds.

Each server runs pinned to one core and autocannon to the other (see bench/load.py); every body is unique and
signed, and each goes out once, so casehooks stores every one of them.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from functools import partial
from pathlib import Path

from bench.load import Load, request_file, run_autocannon
from bench.report import Row, median
from bench.servers import SERVER_CPU, Process, start_casehooks, start_uvicorn
from casehooks.sender.trigger import TriggerOptions

SECRET = "bench-secret"
CONNECTIONS = 32


def bodies(url: str, count: int, seed: int) -> Path:
    options = TriggerOptions(
        url=url,
        event_type="ADD_CASE_COMMENT",
        count=count,
        secret=SECRET,
        attachment_bytes=1800,  # with the case snapshot: bodies of about 5 KB
        seed=seed,
    )
    return request_file(options)


def load(process: Process, requests: Path, warm_up: Path) -> Load:
    run_autocannon(process.url, warm_up, CONNECTIONS)
    result = run_autocannon(process.url, requests, CONNECTIONS)
    if process.name == "casehooks" and result.failed:
        raise RuntimeError(f"{process.name}: {result.failed} requests not answered 2xx")
    return result


def events_per_s(process: Process, count: int, seed: int) -> float:
    """Accepted events a second when ``count`` unique signed bodies go to ``process`` (after a warm-up)."""
    requests = bodies("", count, seed=seed)
    warm_up = bodies("", min(500, max(50, count // 10)), seed=1000 + seed)
    try:
        return load(process, requests, warm_up).requests_per_s
    finally:
        requests.unlink()
        warm_up.unlink()


def run(count: int = 5000, rounds: int = 3) -> list[Row]:
    results: dict[str, list[Load]] = {"casehooks": [], "bare": [], "handwritten": []}
    for round_number in range(rounds):
        with tempfile.TemporaryDirectory() as folder:
            base = Path(folder)
            systems: list[Callable[[], Process]] = [
                partial(start_uvicorn, "bare", "bench.baselines.bare:app", cpu=SERVER_CPU),
                partial(
                    start_uvicorn,
                    "handwritten",
                    "bench.baselines.handwritten:app",
                    cpu=SERVER_CPU,
                    BENCH_DB=str(base / "h.db"),
                ),
                partial(start_casehooks, base / "casehooks", SECRET, cpu=SERVER_CPU),
            ]
            if round_number % 2:
                systems.reverse()
            # The bare echo answers an order of magnitude faster: it gets more requests so that its run is not
            # over before the connections are up (its bodies need not be unique, so the file is cycled).
            requests = bodies("", count, seed=round_number)
            warm_up = bodies("", min(500, max(50, count // 10)), seed=1000 + round_number)
            try:
                for start in systems:
                    process = start()
                    try:
                        if process.name == "bare":
                            run_autocannon(process.url, warm_up, CONNECTIONS)
                            results["bare"].append(run_autocannon(process.url, requests, CONNECTIONS, count * 5))
                        else:
                            results[process.name].append(load(process, requests, warm_up))
                    finally:
                        process.stop()
            finally:
                requests.unlink()
                warm_up.unlink()

    def m(name: str, key: str) -> float:
        return median([getattr(result, key) for result in results[name]])

    ours = m("casehooks", "requests_per_s")
    return [
        Row("ingest", "events/s", ours, "bare ASGI", m("bare", "requests_per_s"), ">= 0.25"),
        Row("ingest", "events/s", ours, "hand-written", m("handwritten", "requests_per_s"), ">= 6"),
        Row("ingest", "p50 ms", m("casehooks", "p50_ms"), "bare ASGI", m("bare", "p50_ms"), "", False),
        Row("ingest", "p99 ms", m("casehooks", "p99_ms"), "bare ASGI", m("bare", "p99_ms"), "<= 50 ms", False),
        Row("ingest", "p99 ms", m("casehooks", "p99_ms"), "hand-written", m("handwritten", "p99_ms"), "", False),
        Row(
            "ingest",
            f"requests not accepted (of {count})",
            m("casehooks", "failed"),
            "hand-written",
            m("handwritten", "failed"),
            "0",
            False,
        ),
    ]
