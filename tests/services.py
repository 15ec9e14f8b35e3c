"""Throwaway servers for the tests: a PostgreSQL cluster and an S3-compatible server, on free loopback ports.

Both are real servers started from what the machine has (Debian's ``postgresql`` package, moto's standalone
server from PyPI); ``scripts/test`` installs them on a fresh machine. Outside CI a missing server skips its
tests with a message; under ``CI=true`` it fails them, so a green CI always means both engines ran.
"""

from __future__ import annotations

import atexit
import contextlib
import glob
import os
import pwd
import shutil
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from tests.processes import free_port

S3_ENV = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_REGION": "us-east-1"}
BUCKET = "casehooks-test"


def unavailable(reason: str) -> None:
    """Skip, or under CI fail: a missing server must not turn into a quiet pass there."""
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"{reason} (CI=true: required)", pytrace=False)
    pytest.skip(reason)


def postgres_bin() -> Path | None:
    """The newest installed PostgreSQL server's ``bin`` folder (Debian keeps it off PATH)."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(Path(p).parent.parent.name))
    if found:
        return Path(found[-1]).parent
    on_path = shutil.which("initdb")
    return Path(on_path).parent if on_path else None


@dataclass
class PostgresCluster:
    """A cluster in a temporary folder, owned by an unprivileged user when the tests run as root."""

    bin: Path
    root: Path
    port: int
    user: str | None
    databases: list[str] = field(default_factory=list)

    @property
    def data(self) -> Path:
        return self.root / "data"

    def _run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        command = [str(self.bin / args[0]), *args[1:]]
        if self.user:
            command = ["runuser", "-u", self.user, "--", *command]
        result = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)
        if check and result.returncode != 0:
            raise RuntimeError(f"{args[0]} failed: {result.stdout}{result.stderr}")
        return result

    def init(self) -> None:
        self._run("initdb", "-D", str(self.data), "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync")

    def start(self) -> None:
        options = (
            # fsync off only spares the test machine's disk; commits still wait for the server as they do in production.
            f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.root} -c fsync=off "
            "-c full_page_writes=off -c max_connections=200"
        )
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.root / "server.log"), "-o", options, "-w", "start")

    def stop(self, mode: str = "fast") -> None:
        self._run("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "stop", check=False)

    def discard(self) -> None:
        """Stop the server at once and remove its files."""
        self.stop("immediate")
        shutil.rmtree(self.root, ignore_errors=True)

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    def create_database(self) -> str:
        """A fresh, empty database; its URL."""
        name = f"t_{uuid.uuid4().hex[:12]}"
        self._admin(f'CREATE DATABASE "{name}"')
        self.databases.append(name)
        return self.url(name)

    def drop_database(self, url: str) -> None:
        name = url.rsplit("/", 1)[1]
        self._admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def _admin(self, statement: str) -> None:
        import psycopg

        with psycopg.connect(self.url(), autocommit=True) as connection:
            connection.execute(statement.encode())


def start_postgres() -> PostgresCluster:
    bin_dir = postgres_bin()
    if bin_dir is None:
        unavailable("PostgreSQL server binaries not found (bash scripts/test installs Debian's postgresql)")
        raise AssertionError("unreachable")
    user = None
    if os.geteuid() == 0:
        user = "postgres"
        try:
            owner = pwd.getpwnam(user)
        except KeyError:
            unavailable("running as root needs a 'postgres' user to own the test cluster")
            raise
    root = Path(tempfile.mkdtemp(prefix="casehooks-pg-"))
    if user:
        os.chown(root, owner.pw_uid, owner.pw_gid)
    cluster = PostgresCluster(bin_dir, root, free_port(), user)
    cluster.init()
    cluster.start()
    # Should the test run be cut short, the server must not outlive it.
    atexit.register(cluster.discard)
    return cluster


@dataclass
class S3Server:
    """moto's standalone server with one bucket; ``env`` is what a client needs to reach it."""

    process: subprocess.Popen[bytes]
    endpoint: str
    log: Path

    @property
    def env(self) -> dict[str, str]:
        return {**S3_ENV, "AWS_ENDPOINT_URL": self.endpoint, "AWS_ALLOW_HTTP": "true"}

    def url(self, prefix: str | None = None) -> str:
        return f"s3://{BUCKET}/{prefix or uuid.uuid4().hex[:12]}"

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def start_s3(log_dir: Path) -> S3Server:
    executable = shutil.which("moto_server") or str(Path(sys.executable).parent / "moto_server")
    if not Path(executable).exists():
        unavailable("moto_server not found (pip install -e '.[test]' installs it)")
    port = free_port()
    log = log_dir / "moto.log"
    with log.open("wb") as output:
        process = subprocess.Popen(
            [executable, "-H", "127.0.0.1", "-p", str(port)], stdout=output, stderr=subprocess.STDOUT
        )
    endpoint = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"moto_server exited:\n{log.read_text()}")
        try:
            # An anonymous PUT of a bucket is enough for moto; real S3 would want a signed request.
            if httpx.put(f"{endpoint}/{BUCKET}", timeout=1.0).status_code in (200, 409):
                return S3Server(process, endpoint, log)
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    process.kill()
    raise RuntimeError(f"moto_server did not start:\n{log.read_text()}")


class TcpGate:
    """A TCP forwarder on a free loopback port in front of a real server, whose port can be closed and
    reopened: ``cut`` refuses new connections and resets the open ones, as a network cut does."""

    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        self.port = free_port()
        self._listener: socket.socket | None = None
        self._open: set[socket.socket] = set()
        self._lock = threading.Lock()
        self.restore()

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def restore(self) -> None:
        """Listen again on the same port."""
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(64)
        self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def cut(self) -> None:
        """Close the port and reset every open connection."""
        listener, self._listener = self._listener, None
        if listener is not None:
            with contextlib.suppress(OSError):
                listener.shutdown(socket.SHUT_RDWR)
            listener.close()
        with self._lock:
            connections, self._open = self._open, set()
        for connection in connections:
            with contextlib.suppress(OSError):
                connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            connection.close()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            try:
                upstream = socket.create_connection(("127.0.0.1", self.target_port), timeout=10)
            except OSError:
                client.close()
                continue
            upstream.settimeout(None)
            with self._lock:
                self._open.update((client, upstream))
            for source, sink in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(source, sink), daemon=True).start()

    def _pipe(self, source: socket.socket, sink: socket.socket) -> None:
        try:
            while chunk := source.recv(65536):
                sink.sendall(chunk)
        except OSError:
            pass
        finally:
            for end in (source, sink):
                with contextlib.suppress(OSError):
                    end.shutdown(socket.SHUT_RDWR)


@contextlib.contextmanager
def capped_folder(path: Path, size_bytes: int) -> Iterator[Path]:
    """A folder on its own tmpfs of ``size_bytes``: a disk that fills. Needs root (CI runs as root)."""
    if os.geteuid() != 0:
        unavailable("a size-capped folder needs root to mount a tmpfs")
    path.mkdir(parents=True, exist_ok=True)
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size_bytes},mode=0700", "tmpfs", str(path)],
        capture_output=True,
        text=True,
        check=False,
    )
    if mounted.returncode != 0:
        unavailable(f"cannot mount a tmpfs here: {mounted.stderr.strip()}")
    try:
        yield path
    finally:
        subprocess.run(["umount", "-l", str(path)], capture_output=True, check=False)


def remount(path: Path, *, writable: bool) -> None:
    """Make a folder mounted by ``capped_folder`` read-only or writable again (even root cannot write then)."""
    mode = "rw" if writable else "ro"
    subprocess.run(["mount", "-o", f"remount,{mode}", str(path)], capture_output=True, check=True)
