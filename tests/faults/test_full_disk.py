"""A full disk under the embedded deployment (SQLite and a local folder on a small tmpfs): events are answered
503 at once, never 2xx without their file, ``/readyz`` names the disk; handler jobs caught running are neither
stranded nor run twice once space returns; the platform's retries then bring in every event."""

from __future__ import annotations

import errno
import os
import sqlite3
import time
from pathlib import Path

import httpx
import pytest

from tests.faults.stream import (
    RECOVERY_CEILING,
    SECRET,
    Stream,
    assert_no_phi,
    assert_nothing_lost,
    receiving,
    record_figure,
)
from tests.processes import readiness, ready, wait_for
from tests.receiver.events import attachment_event, signed
from tests.services import capped_folder

pytestmark = pytest.mark.acceptance

DISK = 48 * 1024 * 1024
EVENTS = 120
LEASE = 3.0


def fill(folder: Path) -> Path:
    """Write a file until the file system has no byte left; returns it."""
    filler = folder / "filler"
    descriptor = os.open(filler, os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        for size in (1024 * 1024, 4096, 1):
            block = b"\0" * size
            while True:
                try:
                    os.write(descriptor, block)
                except OSError as exc:
                    if exc.errno != errno.ENOSPC:
                        raise
                    break
    finally:
        os.close(descriptor)
    return filler


def empty_wal(database: Path) -> bool:
    """Checkpoint the SQLite log and cut it to nothing, so that the next write has to grow it."""
    with sqlite3.connect(database, timeout=60) as connection:
        busy, _, _ = connection.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
    connection.close()
    return bool(busy == 0)


def test_a_full_disk_answers_503_and_runs_no_handler_twice(tmp_path: Path) -> None:
    gate = tmp_path / "gate"
    first, second = Stream.make(EVENTS // 2), Stream.make(EVENTS // 2 + 1)
    with (
        capped_folder(tmp_path / "data", DISK) as data,
        receiving(
            tmp_path,
            {},
            extra_env={"HOOKS_GATE": str(gate)},
            ready_min_free_bytes=str(4 * 1024 * 1024),
            job_lease_seconds=str(LEASE),
        ) as receiver,
    ):
        url = receiver.server.url
        first.send(url, threads=4)
        first.join()
        assert first.acknowledged == first.ids
        # Else SQLite reuses its log's space and small writes go on succeeding on a full disk.
        wait_for(lambda: empty_wal(data / "casehooks.db"), timeout=RECOVERY_CEILING)
        filler = fill(data)

        with httpx.Client(timeout=RECOVERY_CEILING) as client:
            with_file = attachment_event(os.urandom(64 * 1024))
            body, headers = signed(with_file, SECRET)
            started = time.monotonic()
            answer = client.post(f"{url}/webhooks/carevalidate", content=body, headers=headers)
            answered_in = time.monotonic() - started
        assert answer.status_code == 503
        wait_for(lambda: readiness(url).get("disk") == "failed", timeout=RECOVERY_CEILING)

        # Handlers caught mid-run finish while nothing can be written, and outlive their leases that way.
        second.send(url, threads=4)
        gate.touch()
        wait_for(lambda: len(receiver.runs()) >= 4, timeout=RECOVERY_CEILING)
        time.sleep(3 * LEASE)
        assert readiness(url).get("disk") == "failed"
        assert "store_write_retried" in receiver.server.output()  # the worker's writes did meet the full disk

        freed = time.monotonic()
        filler.unlink()
        wait_for(lambda: ready(url), timeout=RECOVERY_CEILING)
        ready_in = time.monotonic() - freed
        second.join()

        stream = Stream(first.events + second.events, {**first.files, **second.files})
        stream.acknowledged = first.acknowledged | second.acknowledged
        assert_nothing_lost(receiver, stream)
        duplicates = {event: count for event, count in receiver.runs().items() if count > 1}
        assert duplicates == {}
        assert_no_phi(receiver.server.output(), stream)
    record_figure("full disk (sqlite): 503 answered in s", round(answered_in, 2))
    record_figure("full disk (sqlite): ready after space returns s", round(ready_in, 2))
    record_figure("full disk (sqlite): duplicate handler runs", len(duplicates))
    record_figure("full disk (sqlite): lost", len(stream.ids - stream.acknowledged))
