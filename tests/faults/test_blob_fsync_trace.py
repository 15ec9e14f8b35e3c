"""Seen from the kernel: a local blob is fsync'd, file and every folder up to the store's root, before the
SQLite commit that references it is synced (the unit test observes the same through the store's fsync seam)."""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from tests.processes import casehooks_env, free_port, wait_for
from tests.receiver.events import attachment_event, signed

pytestmark = pytest.mark.acceptance

SECRET = "trace-secret"
SYSCALLS = "openat,fsync,fdatasync"
LINE = re.compile(r"^(?P<at>\d+\.\d+) (?P<call>\w+)\((?P<args>.*)\)\s+= (?P<result>-?\d+)")


def syscalls(prefix: Path) -> list[tuple[float, int, str, str, int]]:
    """Every completed traced call of every thread, in time order: (time, thread, call, arguments, result)."""
    calls = []
    for path in prefix.parent.glob(prefix.name + ".*"):
        thread = int(path.suffix[1:])
        for line in path.read_text(errors="replace").splitlines():
            found = LINE.match(line)
            if found:
                calls.append((float(found["at"]), thread, found["call"], found["args"], int(found["result"])))
    return sorted(calls)


def test_a_local_blob_and_its_folders_are_synced_before_the_commit(tmp_path: Path) -> None:
    strace = shutil.which("strace")
    if strace is None:
        pytest.skip("strace is not installed: the fsync seam's unit test (tests/test_blobs.py) stands alone")
    data = tmp_path / "data"
    port = free_port()
    trace = tmp_path / "trace"
    process = subprocess.Popen(
        [
            strace,
            "-ff",
            "-qq",
            "-ttt",
            "-e",
            f"trace={SYSCALLS}",
            "-o",
            str(trace),
            sys.executable,
            "-m",
            "casehooks",
            "serve",
            "--port",
            str(port),
        ],
        env=casehooks_env(data, webhook_secret=SECRET, inline_file_bytes="0"),  # the file to the blob store
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"

    def up() -> bool:
        try:
            return httpx.get(f"{url}/healthz", timeout=2).status_code == 200
        except httpx.TransportError:
            return False

    try:
        wait_for(up, timeout=180)
        body, headers = signed(attachment_event(b"%PDF traced " * 64), SECRET)
        assert httpx.post(f"{url}/webhooks/carevalidate", content=body, headers=headers, timeout=120).status_code == 200
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=120)

    blobs = str((data / "blobs").resolve())
    calls = syscalls(trace)
    opened: dict[int, str] = {}
    synced: list[tuple[float, str]] = []
    wal_syncs: list[float] = []
    for at, _thread, call, args, result in calls:
        if call == "openat" and result >= 0:
            opened[result] = args.split('"')[1]
        elif call in ("fsync", "fdatasync"):
            path = opened.get(int(args.split(",")[0]), "")
            if path.endswith("casehooks.db-wal"):
                wal_syncs.append(at)
            elif path.startswith(blobs):
                synced.append((at, path))
    files = [path for _, path in synced if Path(path).is_file()]
    assert len(files) == 1 and "#" not in files[0]  # the file under its final name, not the staging one
    blob = Path(files[0])
    folders = [str(folder) for folder in (blob.parent, *blob.parent.parents) if str(folder).startswith(blobs)]
    synced_paths = [path for _, path in synced]
    assert synced_paths == [str(blob), *folders]  # the file, then each folder up to the root, in that order
    last_blob_sync = synced[-1][0]
    first_sync = synced[0][0]
    commits = [at for at in wal_syncs if at > first_sync]
    assert commits, "no SQLite commit was synced after the file"
    assert last_blob_sync < commits[0]
