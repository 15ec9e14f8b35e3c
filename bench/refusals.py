"""Scenario: a flood of refused requests. Refusal throughput with 20,000 requests held in the quarantine
against an empty one, and a genuine event's latency during a flood of refusals against idle, in one run."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

from bench.ingest import SECRET
from bench.report import Row, median
from bench.servers import Process, start_casehooks
from casehooks.sender.trigger import TriggerOptions, run_trigger
from casehooks.settings import Settings
from casehooks.store import Store
from casehooks.store.engine import writer
from casehooks.store.quarantine import recount
from casehooks.store.tables import QuarantineRow

WRONG = "not-the-secret"
BATCH = 5_000


def fill_quarantine(data_dir: Path, held: int) -> None:
    """``held`` refused requests with sealed ~5 KB bodies, in bulk, as a flood would have left them."""
    store = Store.open(Settings(data_dir=data_dir))
    try:
        dek_id, sealed = store.vault.seal(os.urandom(5000), b"bench")
        now = datetime(2025, 1, 1, tzinfo=UTC)
        for offset in range(0, held, BATCH):
            rows = [
                {
                    "id": uuid.uuid4().hex,
                    "received_at": now,
                    "reason": "auth_mismatch",
                    "detail": "authentication failed: mismatch",
                    "status_code": 401,
                    "size": 5000,
                    "sha256": None,
                    "headers": {"content-type": "application/json"},
                    "body_sealed": sealed,
                    "body_kept_size": 5000,
                    "dek_id": dek_id,
                    "status": "held",
                }
                for _ in range(min(BATCH, held - offset))
            ]
            with writer(store.engine).begin() as connection:
                connection.execute(QuarantineRow.__table__.insert(), rows)  # type: ignore[attr-defined]
        with writer(store.engine).begin() as connection:
            recount(connection)
    finally:
        store.close()


def send(process: Process, count: int, concurrency: int, secret: str, seed: int) -> tuple[float, float, int]:
    """Events a second, p50 latency in ms, and how many were answered as expected (2xx, or 401 when refused)."""
    options = TriggerOptions(
        url=process.url, count=count, concurrency=concurrency, secret=secret, attachment_bytes=1800, seed=seed
    )
    summary = asyncio.run(run_trigger(options))
    wanted = 401 if secret == WRONG else 200
    answered = sum(n for status, n in summary.statuses.items() if status == wanted)
    return count / summary.elapsed if summary.elapsed else 0.0, summary.latency_ms(0.5) or 0.0, answered


def start_flood(process: Process) -> subprocess.Popen[bytes]:
    """Refusals from another process, as fast as 16 senders go, until stopped."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("CASEHOOKS_")}
    return subprocess.Popen(
        [sys.executable, "-m", "casehooks", "trigger", "ADD_CASE_COMMENT", "--to", process.url, "--secret", WRONG,
         "--count", "10000000", "--concurrency", "16", "--attachment-bytes", "1800"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )  # fmt: skip


def genuine_latency(process: Process, count: int, seed: int, *, flooded: bool) -> float:
    flood = start_flood(process) if flooded else None
    try:
        if flood is not None:
            time.sleep(2)  # let the flood reach its pace before measuring
        _, p50, answered = send(process, count, 1, SECRET, seed)
    finally:
        if flood is not None:
            flood.terminate()
            flood.wait(timeout=30)
    if answered != count:
        raise RuntimeError(f"genuine events: {answered}/{count} accepted")
    return p50


def run(held: int = 20_000, count: int = 2000, genuine: int = 300, rounds: int = 3) -> list[Row]:
    rates: dict[str, list[float]] = {"one": [], "many": []}
    latency: dict[str, list[float]] = {"idle": [], "flood": []}
    with tempfile.TemporaryDirectory() as folder:
        base = Path(folder)
        fill_quarantine(base / "many", held)
        fill_quarantine(base / "one", 1)
        for round_number in range(rounds):
            order = ["one", "many"] if round_number % 2 == 0 else ["many", "one"]
            for name in order:
                process = start_casehooks(base / name, SECRET)
                try:
                    send(process, 200, 16, WRONG, seed=999)  # warm up
                    rate, _, answered = send(process, count, 16, WRONG, seed=round_number)
                    if answered != count:
                        raise RuntimeError(f"refusals: {answered}/{count} answered 401")
                    rates[name].append(rate)
                    if name == "many":
                        for flooded in (round_number % 2 == 0, round_number % 2 == 1):
                            key = "flood" if flooded else "idle"
                            latency[key].append(genuine_latency(process, genuine, 100 + round_number, flooded=flooded))
                finally:
                    process.stop()
    return [
        Row(
            "refusals",
            f"refusals/s, {held:,} held",
            median(rates["many"]),
            "1 held",
            median(rates["one"]),
            ">= 0.8",
        ),
        Row(
            "refusals",
            "genuine event p50 ms during a refusal flood",
            median(latency["flood"]),
            "idle",
            median(latency["idle"]),
            "<= 2.0",
            False,
        ),
    ]
