"""kill -9 of a worker in the middle of a handler: its job runs again on another worker within two leases."""

from __future__ import annotations

import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from casehooks.events import parse_object, stringify
from casehooks.settings import Settings
from casehooks.store import Store
from tests.processes import casehooks_env, wait_for
from tests.receiver.events import comment_event

pytestmark = pytest.mark.acceptance

LEASE = 4.0

# The first run of each event announces itself and then hangs (it is the one killed); a later run finishes.
HOOKS = textwrap.dedent(
    """
    import os
    import time

    from casehooks import Receiver

    app = Receiver.from_env()


    def _write(line):
        fd = os.open(os.environ["HOOKS_OUT"], os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            os.write(fd, (line + "\\n").encode())
        finally:
            os.close(fd)


    @app.on("ADD_CASE_COMMENT")
    def hang_first(event) -> None:
        marker = os.path.join(os.path.dirname(os.environ["HOOKS_OUT"]), "first-" + event.activity.id)
        try:
            os.close(os.open(marker, os.O_CREAT | os.O_EXCL | os.O_WRONLY))
        except FileExistsError:
            _write(f"done {event.activity.id} {time.time()} {os.getpid()}")
            return
        _write(f"start {event.activity.id} {time.time()} {os.getpid()}")
        time.sleep(600)
    """
)


def test_a_killed_workers_job_runs_again_within_two_leases(tmp_path: Path, deployment: dict[str, str]) -> None:
    (tmp_path / "crashhooks.py").write_text(HOOKS)
    out = tmp_path / "runs.log"
    env = {
        **casehooks_env(tmp_path / "data"),
        **deployment,
        "HOOKS_OUT": str(out),
        "CASEHOOKS_JOB_LEASE_SECONDS": str(LEASE),
    }
    settings = Settings(
        data_dir=tmp_path / "data",
        database_url=env.get("CASEHOOKS_DATABASE_URL"),
        blob_url=env.get("CASEHOOKS_BLOB_URL"),
        master_key=env.get("CASEHOOKS_MASTER_KEY"),
    )
    store = Store.open(settings)
    wire = comment_event()
    store.commit(store.prepare(parse_object(wire), stringify(wire)))
    store.close()
    event_id = str(wire["payload"]["activity"]["id"])

    def lines(kind: str) -> list[list[str]]:
        text = out.read_text() if out.exists() else ""
        return [line.split() for line in text.splitlines() if line.startswith(kind + " ")]

    command = [sys.executable, "-m", "casehooks", "worker", "--app", "crashhooks:app"]
    first = subprocess.Popen(command, env=env, cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    second: subprocess.Popen[bytes] | None = None
    try:
        wait_for(lambda: bool(lines("start")), timeout=180)
        assert int(lines("start")[0][3]) == first.pid
        # The survivor is up and idle before the kill, so the time measured is recovery, not start-up.
        second = subprocess.Popen(command, env=env, cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(2 * LEASE)  # the hanging handler outlives two leases: the heartbeat keeps its job held
        assert not lines("done")
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=60)
        killed_at = time.time()
        wait_for(lambda: bool(lines("done")), timeout=180)
        done = lines("done")[0]
        assert done[1] == event_id
        assert int(done[3]) == second.pid
        assert float(done[2]) - killed_at < 2 * LEASE + 10  # two leases, and slack for a loaded machine
    finally:
        for process in (first, second):
            if process is not None and process.poll() is None:
                process.send_signal(signal.SIGTERM)
                try:
                    process.wait(timeout=60)
                except subprocess.TimeoutExpired:
                    process.kill()
