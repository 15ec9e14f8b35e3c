"""Scenario 5 (PostgreSQL): one against two receiver processes under the same load, and one against two
worker processes draining a backlog of handler jobs (a no-op handler, so every job is loaded and run)."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import IO

from sqlalchemy import func, select
from tests.services import start_postgres

from bench.growth import fill
from bench.ingest import SECRET, events_per_s
from bench.report import Row, median
from bench.servers import Process, _wait, free_port
from casehooks.crypto import Keyring
from casehooks.settings import Settings
from casehooks.store import Store
from casehooks.store.engine import writer
from casehooks.store.tables import JobRow

HANDLERS = "from casehooks import Receiver\napp = Receiver.from_env()\n@app.on('*')\nasync def noop(event):\n    pass\n"


def _env(database_url: str, key: str, data_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CASEHOOKS_")}
    env.update(
        CASEHOOKS_DATABASE_URL=database_url,
        CASEHOOKS_MASTER_KEY=key,
        CASEHOOKS_BLOB_URL=(data_dir / "blobs").resolve().as_uri(),
        CASEHOOKS_DATA_DIR=str(data_dir),
        CASEHOOKS_WEBHOOK_SECRET=SECRET,
        CASEHOOKS_LOG_LEVEL="warning",
        PYTHONPATH=str(data_dir),
    )
    return env


def receivers(env: dict[str, str], processes: int, count: int, seed: int) -> float:
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "casehooks", "serve", "--port", str(port), "--workers", str(processes)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    _wait(url, process, "/healthz")
    server = Process(f"casehooks x{processes}", f"{url}/webhooks/carevalidate", process)
    try:
        return events_per_s(server, count, seed)
    finally:
        server.stop()


def drain(env: dict[str, str], store: Store, workers: int, backlog: int) -> float:
    with writer(store.engine).begin() as connection:
        # Each round starts from undispatched jobs: a job whose handlers all ran (``pending`` empty) is finished
        # without running anything.
        fresh = {"status": "queued", "attempts": 0, "run_at": func.now(), "pending": None, "finished_at": None}
        connection.execute(JobRow.__table__.update().values(**fresh))  # type: ignore[attr-defined]
    with contextlib.ExitStack() as stack:
        logs = [stack.enter_context(tempfile.TemporaryFile()) for _ in range(workers)]
        return _drained(env, store, logs, backlog)


def _drained(env: dict[str, str], store: Store, logs: Sequence[IO[bytes]], backlog: int) -> float:
    started = time.perf_counter()
    processes = [
        subprocess.Popen(
            [sys.executable, "-m", "casehooks", "worker", "--app", "benchhooks:app", "--concurrency", "8", "--drain"],
            env=env,
            cwd=env["PYTHONPATH"],
            stdout=subprocess.DEVNULL,
            stderr=log,
        )
        for log in logs
    ]
    for process in processes:
        process.wait()
    elapsed = time.perf_counter() - started
    with store.engine.connect() as connection:
        done = connection.execute(select(func.count()).where(JobRow.status == "succeeded")).scalar_one()
    if done != backlog:
        told = b""
        for log in logs:
            log.seek(0)
            told += log.read()[-2000:]
        raise RuntimeError(f"{done} of {backlog} jobs succeeded; the workers said: {told.decode(errors='replace')}")
    return backlog / elapsed


def run(count: int = 3000, backlog: int = 50_000, rounds: int = 3) -> list[Row]:
    cluster = start_postgres()
    try:
        with tempfile.TemporaryDirectory() as folder:
            data_dir = Path(folder)
            (data_dir / "benchhooks.py").write_text(HANDLERS)
            key = Keyring.generate_entry()
            ingest_url = cluster.create_database()
            env = _env(ingest_url, key, data_dir)
            rates: dict[int, list[float]] = {1: [], 2: []}
            for round_number in range(rounds):
                for processes in (1, 2) if round_number % 2 == 0 else (2, 1):
                    rates[processes].append(receivers(env, processes, count, seed=200 + round_number))
            backlog_url = cluster.create_database()
            store = Store.open(Settings(database_url=backlog_url, master_key=key, data_dir=data_dir / "backlog"))
            fill(store, backlog, real_bodies=True)
            drained: dict[int, list[float]] = {1: [], 2: []}
            backlog_env = _env(backlog_url, key, data_dir)
            for round_number in range(rounds):
                for workers in (1, 2) if round_number % 2 == 0 else (2, 1):
                    drained[workers].append(drain(backlog_env, store, workers, backlog))
            store.close()
    finally:
        cluster.discard()
    return [
        Row(
            "scale (PostgreSQL)",
            "events/s, 2 receiver processes",
            median(rates[2]),
            "1 process",
            median(rates[1]),
            ">= 1.6 (0.8 N)",
        ),
        Row(
            "scale (PostgreSQL)",
            f"jobs/s draining {backlog:,}, 2 workers",
            median(drained[2]),
            "1 worker",
            median(drained[1]),
            ">= 1.6 (0.8 N)",
        ),
    ]
