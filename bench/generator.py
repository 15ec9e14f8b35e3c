"""Scenario: ``casehooks trigger`` as a load generator, against autocannon, both on CPU 1 sending the same kind of
signed ~5 KB bodies at 32 connections into the bare ASGI echo on CPU 0, in alternating rounds."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable

from bench.ingest import CONNECTIONS, SECRET, bodies
from bench.load import run_autocannon
from bench.report import Row, median
from bench.servers import LOAD_CPU, SERVER_CPU, pinned, start_uvicorn


def trigger_rate(url: str, count: int) -> float:
    command = [sys.executable, "-m", "casehooks", "trigger", "ADD_CASE_COMMENT", "--to", url, "--secret", SECRET]
    command += ["--count", str(count), "--concurrency", str(CONNECTIONS), "--attachment-bytes", "1800", "--json"]
    env = {key: value for key, value in os.environ.items() if not key.startswith("CASEHOOKS_")}
    done = subprocess.run(pinned(command, LOAD_CPU), env=env, capture_output=True, check=True, timeout=1800)
    summary = json.loads(done.stdout)
    return float(summary["succeeded"]) / float(summary["elapsed_seconds"])


def run(count: int = 5000, rounds: int = 3) -> list[Row]:
    echo = start_uvicorn("bare", "bench.baselines.bare:app", cpu=SERVER_CPU)
    ours: list[float] = []
    native: list[float] = []
    requests = bodies("", count, seed=11)
    try:
        for round_number in range(rounds):
            steps: list[Callable[[], None]] = [
                lambda: ours.append(trigger_rate(echo.url, count)),
                lambda: native.append(run_autocannon(echo.url, requests, CONNECTIONS).requests_per_s),
            ]
            if round_number % 2:
                steps.reverse()
            for step in steps:
                step()
    finally:
        echo.stop()
        requests.unlink()
    return [Row("trigger", "requests/s into the bare echo", median(ours), "autocannon", median(native), ">= 0.5")]
