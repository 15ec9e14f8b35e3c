"""Repeated kill -9 of ``casehooks worker`` processes while a stream's jobs run: every job still succeeds, every
handler runs for its event, and the killed workers' jobs come back within their leases."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.faults.stream import (
    RECOVERY_CEILING,
    Stream,
    assert_no_phi,
    assert_nothing_lost,
    receiving,
    record_figure,
)
from tests.processes import wait_for

pytestmark = [pytest.mark.acceptance, pytest.mark.integration]

EVENTS = 300
KILLS = 4
LEASE = 3.0


def test_kill_9_of_workers_in_a_stream_strands_no_job(
    tmp_path: Path, engine_name: str, deployment: dict[str, str]
) -> None:
    stream = Stream.make(EVENTS)
    with receiving(tmp_path, deployment, extra_env={"HOOKS_DELAY": "0.2"}, job_lease_seconds=str(LEASE)) as receiver:
        env = receiver.server.env
        command = [sys.executable, "-m", "casehooks", "worker", "--app", "faulthooks:app"]

        def start() -> subprocess.Popen[bytes]:
            with (tmp_path / "workers.log").open("ab") as log:
                return subprocess.Popen(command, env=env, cwd=tmp_path, stdout=log, stderr=subprocess.STDOUT)

        workers = [start(), start()]
        try:
            stream.send(receiver.server.url, threads=4)
            kills = 0
            for kill in range(KILLS):
                victim = workers[kill % 2]

                # Each kill lands on a worker that is running handlers, not one still starting.
                def working(pid: int = victim.pid) -> bool:
                    return receiver.pids().get(pid, 0) >= 2 or set(receiver.runs()) == stream.ids

                wait_for(working, timeout=RECOVERY_CEILING)
                if set(receiver.runs()) == stream.ids:
                    break
                victim.send_signal(signal.SIGKILL)
                victim.wait(timeout=60)
                workers[kill % 2] = start()
                kills += 1
            stream.join()
            finished = time.monotonic()
            assert_nothing_lost(receiver, stream)
            drained_in = time.monotonic() - finished
        finally:
            for process in workers:
                process.send_signal(signal.SIGTERM)
                try:
                    process.wait(timeout=60)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()
        assert_no_phi(receiver.server.output() + (tmp_path / "workers.log").read_text(errors="replace"), stream)
    assert kills >= KILLS // 2, "the stream's jobs were done before the kills"
    record_figure(f"worker kill -9 ({engine_name}): kills", kills)
    record_figure(f"worker kill -9 ({engine_name}): all jobs done after the stream s", round(drained_in, 2))
    record_figure(f"worker kill -9 ({engine_name}): lost", len(stream.ids - stream.acknowledged))
