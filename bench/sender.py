"""Scenario 3: deliveries a second from the sandbox's outbox worker into a bare sink, against a minimal httpx
loop posting bodies of the same kind and size at the same concurrency."""

from __future__ import annotations

import asyncio
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import httpx
from tests.sender.sandbox_server import DOCTOR, PATIENT

from bench.report import Row, median
from bench.servers import free_port, start_uvicorn
from casehooks.events.wire import stringify
from casehooks.sender.fake import fake_event
from casehooks.signing import sign

CONCURRENCY = 16


def _sandbox(data_dir: Path, port: int, worker: bool) -> subprocess.Popen[bytes]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("CASEHOOKS_")}
    env.update(
        CASEHOOKS_DATA_DIR=str(data_dir),
        CASEHOOKS_LOG_LEVEL="warning",
        CASEHOOKS_SANDBOX_POLL_SECONDS="0.02",
        CASEHOOKS_SANDBOX_DELIVERY_CONCURRENCY=str(CONCURRENCY),
    )
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "casehooks",
            "sandbox",
            "serve",
            "--port",
            str(port),
            "--worker" if worker else "--no-worker",
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 120  # generous: the machine may be loaded
    while time.monotonic() < deadline:
        try:
            httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1)
            return process
        except httpx.TransportError:
            time.sleep(0.1)
    process.kill()
    raise RuntimeError("sandbox did not start")


def _stop(process: subprocess.Popen[bytes]) -> None:
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def _count(sink_url: str) -> int:
    return int(httpx.get(sink_url.replace("/webhooks/carevalidate", "/count"), timeout=5).text)


def sandbox_rate(sink_url: str, count: int) -> float:
    """Fill the outbox with the worker off, then time the worker draining it into the sink."""
    with tempfile.TemporaryDirectory() as folder:
        port = free_port()
        api = f"http://127.0.0.1:{port}"
        process = _sandbox(Path(folder), port, worker=False)
        try:
            with httpx.Client(base_url=api, timeout=30) as client:
                client.post("/endpoints", json={"url": sink_url, "secret": "bench", "eventTypes": ["ADD_CASE_COMMENT"]})
                case = client.post(
                    "/cases",
                    json={
                        "organizationId": "652f45e9-eb17-4955-8197-4170e375327f",
                        "productBundle": "B",
                        "submitter": PATIENT,
                    },
                ).json()["id"]
                for index in range(count):
                    client.post(f"/cases/{case}/comments", json={"text": f"note {index}", "author": DOCTOR})
        finally:
            _stop(process)
        before = _count(sink_url)
        process = _sandbox(Path(folder), port, worker=True)
        try:
            # The clock starts once the sandbox answers, not at its launch: the loop is not charged for
            # starting an interpreter either. What it delivered while starting up is not counted.
            started = time.perf_counter()
            early = _count(sink_url) - before
            while _count(sink_url) - before < count:
                time.sleep(0.02)
            return (count - early) / (time.perf_counter() - started)
        finally:
            _stop(process)


def loop_rate(sink_url: str, count: int) -> float:
    """The minimal sender: a pooled httpx client posting signed bodies at the same concurrency."""
    rng = random.Random(3)
    bodies = [stringify(fake_event("ADD_CASE_COMMENT", rng, attachment_bytes=0)) for _ in range(64)]

    async def run() -> float:
        limits = httpx.Limits(max_connections=CONCURRENCY, max_keepalive_connections=CONCURRENCY)
        async with httpx.AsyncClient(limits=limits, timeout=30) as client:
            indices = iter(range(count))

            async def one() -> None:
                for index in indices:
                    body = bodies[index % len(bodies)]
                    await client.post(sink_url, content=body, headers={"x-cv-signature": sign(body, "bench")})

            started = time.perf_counter()
            await asyncio.gather(*(one() for _ in range(CONCURRENCY)))
            return count / (time.perf_counter() - started)

    return asyncio.run(run())


def run(count: int = 2000, rounds: int = 3) -> list[Row]:
    sink = start_uvicorn("sink", "bench.baselines.sink:app")
    try:
        ours: list[float] = []
        loop: list[float] = []
        for round_number in range(rounds):
            order: list[Callable[[], None]] = [
                lambda: ours.append(sandbox_rate(sink.url, count)),
                lambda: loop.append(loop_rate(sink.url, count)),
            ]
            if round_number % 2:
                order.reverse()
            for step in order:
                step()
    finally:
        sink.stop()
    return [Row("sender", "deliveries/s", median(ours), "httpx loop", median(loop), ">= 0.9")]
