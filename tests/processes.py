"""Start casehooks commands as real processes, on free loopback ports, with their output kept for inspection."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for(condition: Callable[[], bool], timeout: float = 60.0, interval: float = 0.2) -> None:
    """Poll ``condition`` until it holds; fail the test after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(interval)
    raise AssertionError("condition not met in time")


def casehooks_env(data_dir: Path, **settings: str) -> dict[str, str]:
    """A clean environment for a casehooks process: only our settings, plus what Python needs."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("CASEHOOKS_")}
    env["CASEHOOKS_DATA_DIR"] = str(data_dir)
    env["CASEHOOKS_LOG_LEVEL"] = "debug"
    for key, value in settings.items():
        env[f"CASEHOOKS_{key.upper()}"] = value
    return env


def run_cli(
    env: dict[str, str], *args: str, cwd: Path | None = None, check: bool = True, stdin_text: str = ""
) -> subprocess.CompletedProcess[str]:
    """Run ``casehooks ARGS`` to completion; its standard input is ``stdin_text``, never the terminal's."""
    result = subprocess.run(
        [sys.executable, "-m", "casehooks", *args],
        env={**env, "COLUMNS": "200"},
        cwd=cwd,
        input=stdin_text,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    if check and result.returncode != 0:
        raise AssertionError(f"casehooks {' '.join(args)} failed ({result.returncode}):\n{result.stderr}")
    return result


@dataclass
class Server:
    """A started ``casehooks serve``; its stdout and stderr go to ``log``."""

    url: str
    env: dict[str, str]
    log: Path
    args: list[str]
    cwd: Path
    process: subprocess.Popen[bytes] | None = None
    _log_file: Any = None

    @property
    def webhook(self) -> str:
        return f"{self.url}/webhooks/carevalidate"

    def start(self, timeout: float = 180.0) -> Server:
        self._log_file = self.log.open("ab")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "casehooks", "serve", *self.args],
            env=self.env,
            cwd=self.cwd,
            stdout=self._log_file,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                self.stop()
                raise AssertionError(f"casehooks serve exited early:\n{self.log.read_text()}")
            try:
                if httpx.get(f"{self.url}/healthz", timeout=1.0).status_code == 200:
                    return self
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        self.stop(kill=True)
        raise AssertionError(f"casehooks serve did not start:\n{self.log.read_text()}")

    def stop(self, *, kill: bool = False) -> None:
        if self._log_file is not None:
            self._log_file.close()
            self._log_file = None
        if self.process is None:
            return
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL if kill else signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None

    def output(self) -> str:
        return self.log.read_text(errors="replace")


def start_server(
    tmp_path: Path,
    *,
    app: str | None = None,
    extra_env: dict[str, str] | None = None,
    extra_args: tuple[str, ...] = (),
    **settings: Any,
) -> Server:
    tmp_path.mkdir(parents=True, exist_ok=True)
    port = free_port()
    env = casehooks_env(tmp_path / "data", **{key: str(value) for key, value in settings.items()})
    env.update(extra_env or {})
    args = ["--port", str(port), *extra_args]
    if app:
        args += ["--app", app]
    server = Server(f"http://127.0.0.1:{port}", env, tmp_path / "server.log", args, tmp_path)
    return server.start()


def stored_blobs(env: dict[str, str]) -> list[bytes]:
    """Every blob a server with this environment has stored, as the blob store holds it (encrypted)."""
    from casehooks.blobs import BlobStore
    from casehooks.settings import Settings

    url = env.get("CASEHOOKS_BLOB_URL") or Settings(data_dir=Path(env["CASEHOOKS_DATA_DIR"])).resolved_blob_url
    blobs = BlobStore.from_url(url)
    return [b"".join(blobs.get(key)) for key in blobs.list()]


def ready(url: str) -> bool:
    """Whether a receiver at ``url`` answers ``/readyz`` with 200 now."""
    try:
        return httpx.get(f"{url}/readyz", timeout=5.0).status_code == 200
    except httpx.TransportError:
        return False


def readiness(url: str) -> dict[str, str]:
    """The named checks of a receiver's ``/readyz`` ({} when it does not answer)."""
    try:
        checks: dict[str, str] = httpx.get(f"{url}/readyz", timeout=5.0).json()["checks"]
    except (httpx.TransportError, ValueError, KeyError):
        return {}
    return checks


def hold_sqlite_write_lock(database: Path) -> subprocess.Popen[str]:
    """Another process that takes SQLite's write lock and keeps it until its stdin closes."""
    script = textwrap.dedent(
        f"""
        import sqlite3, sys
        connection = sqlite3.connect({str(database)!r}, isolation_level=None)
        connection.execute("BEGIN IMMEDIATE")
        print("locked", flush=True)
        sys.stdin.read()
        connection.execute("ROLLBACK")
        """
    )
    process = subprocess.Popen([sys.executable, "-c", script], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    assert process.stdout is not None and process.stdout.readline().strip() == "locked"
    return process
