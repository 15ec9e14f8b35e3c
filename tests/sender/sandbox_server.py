"""The sandbox app started for real on a free loopback port: in a thread (movable clock) or as a process."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import uvicorn

from casehooks.sender.app import create_app
from casehooks.sender.delivery import Resolver, resolve_host
from casehooks.settings import Settings
from tests.processes import free_port

SRC = Path(__file__).resolve().parents[2] / "src"


class MovableClock:
    """The real time plus an offset the test moves forward."""

    def __init__(self) -> None:
        self.offset = timedelta()

    def __call__(self) -> datetime:
        return datetime.now(UTC) + self.offset

    def advance(self, seconds: float) -> None:
        self.offset += timedelta(seconds=seconds)


FAST = {
    "sandbox_poll_seconds": 0.05,
    "sandbox_retry_base_seconds": 0.05,
    "sandbox_retry_cap_seconds": 0.2,
    "sandbox_delivery_timeout": 5.0,
}


@contextmanager
def running_sandbox(
    tmp_path: Path, clock: MovableClock | None = None, *, resolver: Resolver = resolve_host, **settings: Any
) -> Iterator[httpx.Client]:
    """A started sandbox; yields a client whose base URL is the sandbox."""
    port = free_port()
    config = Settings(data_dir=tmp_path / "sandbox", host="127.0.0.1", sandbox_port=port, **{**FAST, **settings})
    app = create_app(config, clock=clock or MovableClock(), resolver=resolver)
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise AssertionError("sandbox did not start")
        time.sleep(0.01)
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=10) as client:
            yield client
    finally:
        server.should_exit = True
        thread.join(timeout=20)


@dataclass
class SandboxProcess:
    """``casehooks sandbox serve`` as a child process (for kill -9)."""

    data_dir: Path
    port: int
    env: dict[str, str]
    log: Path
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> SandboxProcess:
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "casehooks", "sandbox", "serve", "--port", str(self.port)],
                env=self.env,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"sandbox exited early:\n{self.log.read_text()}")
            try:
                if httpx.get(f"{self.url}/healthz", timeout=1).status_code == 200:
                    return self
            except httpx.TransportError:
                pass
            time.sleep(0.05)
        self.kill()
        raise AssertionError(f"sandbox did not start:\n{self.log.read_text()}")

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(timeout=10)
        self.process = None

    def terminate(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.kill()
        self.process = None


def sandbox_process(tmp_path: Path, **settings: Any) -> SandboxProcess:
    env = {key: value for key, value in os.environ.items() if not key.startswith("CASEHOOKS_")}
    env["PYTHONPATH"] = str(SRC)
    env["CASEHOOKS_DATA_DIR"] = str(tmp_path / "sandbox")
    for key, value in {**FAST, **settings}.items():
        env[f"CASEHOOKS_{key.upper()}"] = str(value)
    return SandboxProcess(tmp_path / "sandbox", free_port(), env, tmp_path / "sandbox.log")


PATIENT = {
    "firstName": "Ada",
    "lastName": "Example",
    "email": "ada@example.test",
    "dob": "1990-04-01T00:00:00.000Z",
    "gender": "FEMALE",
    "phoneNumber": "+15555550100",
    "address": "1 Test Street",
    "city": "Springfield",
    "state": "CA",
    "postalCode": "90000",
}
DOCTOR = {
    "id": "DgHxzGRtS5gFzdL7cReiPzJcA852",
    "firstName": "Grace",
    "lastName": "Clinician",
    "email": "grace@example.test",
    "role": "CASEWORKER",
    "organizationAccess": [{"role": "TPAMEDICAL"}],
}


def new_case(client: httpx.Client) -> str:
    response = client.post(
        "/cases",
        json={"organizationId": "652f45e9-eb17-4955-8197-4170e375327f", "productBundle": "B-GLP", "submitter": PATIENT},
    )
    assert response.status_code == 201, response.text
    case_id: str = response.json()["id"]
    return case_id


def register(client: httpx.Client, url: str, **fields: Any) -> str:
    response = client.post("/endpoints", json={"url": url, **fields})
    assert response.status_code == 201, response.text
    endpoint_id: str = response.json()["id"]
    return endpoint_id
