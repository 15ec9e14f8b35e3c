"""Start the systems under test as real processes on loopback ports, and read their memory."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
SERVER_CPU, LOAD_CPU = 0, 1


def pinned(command: list[str], cpu: int | None) -> list[str]:
    """``command`` bound to one CPU when asked and the machine has two or more (and taskset exists)."""
    if cpu is not None and (os.cpu_count() or 1) >= 2 and shutil.which("taskset"):
        return ["taskset", "-c", str(cpu), *command]
    return command


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Process:
    name: str
    url: str
    process: subprocess.Popen[bytes]

    def status(self, field: str) -> int:
        """A ``VmRSS``/``VmHWM`` figure of the process, in bytes."""
        for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024
        raise KeyError(field)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def _wait(url: str, process: subprocess.Popen[bytes], probe: str) -> None:
    deadline = time.monotonic() + 120  # generous: the machine may be loaded
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"process exited with {process.returncode}")
        try:
            httpx.get(url + probe, timeout=1.0)
            return
        except httpx.TransportError:
            time.sleep(0.1)
    raise RuntimeError("process did not start")


def start_casehooks(data_dir: Path, secret: str, cpu: int | None = None, **settings: str) -> Process:
    port = free_port()
    env = {key: value for key, value in os.environ.items() if not key.startswith("CASEHOOKS_")}
    env.update(
        CASEHOOKS_DATA_DIR=str(data_dir),
        CASEHOOKS_WEBHOOK_SECRET=secret,
        CASEHOOKS_LOG_LEVEL="warning",
        **{f"CASEHOOKS_{key.upper()}": value for key, value in settings.items()},
    )
    process = subprocess.Popen(
        pinned([sys.executable, "-m", "casehooks", "serve", "--port", str(port)], cpu),
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    _wait(url, process, "/healthz")
    return Process("casehooks", f"{url}/webhooks/carevalidate", process)


def start_uvicorn(name: str, target: str, cpu: int | None = None, **env_extra: str) -> Process:
    port = free_port()
    env = {**os.environ, "PYTHONPATH": str(ROOT), **env_extra}
    command = [
        sys.executable,
        "-m",
        "uvicorn",
        target,
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--log-level",
        "warning",
        "--no-access-log",
    ]
    process = subprocess.Popen(
        pinned(command, cpu),
        env=env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    _wait(url, process, "/")
    return Process(name, f"{url}/webhooks/carevalidate", process)
