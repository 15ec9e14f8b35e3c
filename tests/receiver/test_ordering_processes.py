"""Handlers in case order across worker processes: 2,000 events over 50 cases, stored in shuffled order, run by
three ``casehooks worker`` processes; every case in timestamp order, one event at a time, and a poisoned case
holding back only itself."""

from __future__ import annotations

import json
import random
import textwrap
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select

from casehooks.events import parse_object, stringify
from casehooks.settings import Settings
from casehooks.store import Store
from casehooks.store.engine import writer
from casehooks.store.ingest import commit_event
from casehooks.store.notify import notify_jobs
from casehooks.store.tables import WorkerRow
from tests.processes import casehooks_env, run_cli, wait_for
from tests.receiver.test_ordering import case_event
from tests.receiver.test_topology import Workers

pytestmark = [pytest.mark.acceptance, pytest.mark.integration]

CASES, PER_CASE = 50, 40
POISONED, POISON_MINUTE = "case-07", 10

# Each run appends "begin|end case minute late pid" in one O_APPEND write, so lines of several processes never
# interleave, and the file's order is the order the runs began and ended in.
HOOKS = textwrap.dedent(
    """
    import os
    from datetime import UTC, datetime

    from casehooks import Receiver

    app = Receiver.from_env()


    def _write(line):
        fd = os.open(os.environ["HOOKS_OUT"], os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            os.write(fd, (line + "\\n").encode())
        finally:
            os.close(fd)


    @app.on("ADD_CASE_COMMENT", ordered=True)
    def push_to_ehr(event, delivery):
        minute = int((event.activity.timestamp - datetime(2026, 1, 1, tzinfo=UTC)).total_seconds() // 60)
        case = event.case.id
        _write(f"begin {case} {minute} {int(delivery.late)} {os.getpid()}")
        if case == os.environ["POISONED"] and minute == int(os.environ["POISON_MINUTE"]):
            raise RuntimeError("the EHR refused it")
        _write(f"end {case} {minute} {int(delivery.late)} {os.getpid()}")
    """
)


@pytest.fixture
def workers(tmp_path: Path, deployment: dict[str, str]) -> Iterator[Workers]:
    (tmp_path / "myhooks.py").write_text(HOOKS)
    env = {
        **casehooks_env(tmp_path / "data"),
        **deployment,
        "HOOKS_OUT": str(tmp_path / "runs.log"),
        "POISONED": POISONED,
        "POISON_MINUTE": str(POISON_MINUTE),
        "CASEHOOKS_HANDLER_MAX_ATTEMPTS": "2",
        "CASEHOOKS_HANDLER_RETRY_BASE_SECONDS": "0.2",
    }
    started = Workers(env, tmp_path)
    yield started
    started.stop()


def open_store(env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> Store:
    for key, value in env.items():
        if key.startswith("CASEHOOKS_"):
            monkeypatch.setenv(key, value)
    return Store.open(Settings())


def live_workers(store: Store) -> int:
    with store.engine.connect() as connection:
        return int(connection.execute(select(func.count()).select_from(WorkerRow)).scalar_one())


def store_shuffled(store: Store) -> None:
    """Store every event, in a shuffled order, in one transaction: the workers see the whole backlog at once."""
    events = [(f"case-{case:02d}", minute) for case in range(CASES) for minute in range(PER_CASE)]
    random.Random(2026).shuffle(events)
    prepared = []
    for case, minute in events:
        wire = case_event(case, minute)
        prepared.append(store.prepare(parse_object(wire), stringify(wire)))
    with writer(store.engine).begin() as connection:
        for one in prepared:
            assert commit_event(connection, one, store.clock())
        notify_jobs(connection)


def observations(out: Path) -> list[list[str]]:
    return [line.split() for line in out.read_text().splitlines()] if out.exists() else []


def test_three_workers_run_fifty_cases_each_in_timestamp_order_and_a_poisoned_case_blocks_only_itself(
    tmp_path: Path, workers: Workers, monkeypatch: pytest.MonkeyPatch
) -> None:

    store = open_store(workers.env, monkeypatch)
    try:
        for _ in range(3):
            workers.start("--app", "myhooks:app", "--concurrency", "8")
        # Every worker is up before the backlog lands, so that all three share it.
        wait_for(lambda: live_workers(store) == 3, timeout=180)
        store_shuffled(store)
    finally:
        store.close()
    out = tmp_path / "runs.log"
    # Every other case in full, the poisoned case up to its poison, and the poisoned run's two attempts.
    expected_ends = (CASES - 1) * PER_CASE + POISON_MINUTE
    wait_for(lambda: sum(row[0] == "end" for row in observations(out)) >= expected_ends, timeout=600)

    def poisoned_state() -> dict[str, int]:
        listed = json.loads(run_cli(workers.env, "jobs", "list", "--case", POISONED, "--json").stdout)
        counts: dict[str, int] = defaultdict(int)
        for job in listed:
            counts[job["status"]] += 1
        return counts

    wait_for(lambda: poisoned_state().get("dead") == 1, timeout=120)
    rows = observations(out)
    ended: dict[str, list[int]] = defaultdict(list)
    open_run: dict[str, str | None] = defaultdict(lambda: None)
    for kind, case, minute, late, _pid in rows:
        assert late == "0", "nothing is late when every event was stored before the workers started"
        if kind == "begin":
            # A run left open is only the poisoned one, which raised: its retry may begin.
            assert open_run[case] in (None, str(POISON_MINUTE)), f"two runs of {case} at once"
            assert open_run[case] is None or (case, minute) == (POISONED, str(POISON_MINUTE))
            open_run[case] = minute
        else:
            assert open_run[case] == minute
            open_run[case] = None
            ended[case].append(int(minute))
    for case in range(CASES):
        name = f"case-{case:02d}"
        wanted = list(range(POISON_MINUTE if name == POISONED else PER_CASE))
        assert ended[name] == wanted, name
    # The work was shared: every worker process ran some of it.
    assert len({row[4] for row in rows}) == 3
    # The poisoned case: one dead job, every later one waiting behind it, shown as blocked by it.
    listed = json.loads(run_cli(workers.env, "jobs", "list", "--case", POISONED, "--json").stdout)
    dead = [job for job in listed if job["status"] == "dead"]
    waiting = [job for job in listed if job["status"] == "queued"]
    assert len(dead) == 1 and len(waiting) == PER_CASE - POISON_MINUTE - 1
    assert {job["blocked_by"] for job in waiting} == {dead[0]["id"]}
    # The operator skips it: the case runs to its end, in order.
    run_cli({**workers.env, "CASEHOOKS_AUDIT_AS": "operator"}, "jobs", "skip", str(dead[0]["id"]))
    audit = json.loads(run_cli(workers.env, "audit", "list", "--json").stdout)["items"]
    assert [(row["username"], row["action"], row["object_id"]) for row in audit if row["action"] == "job_skip"] == [
        ("operator", "job_skip", str(dead[0]["id"]))
    ]
    wait_for(lambda: len(ended_of(out, POISONED)) >= PER_CASE - 1, timeout=120)
    assert ended_of(out, POISONED) == [minute for minute in range(PER_CASE) if minute != POISON_MINUTE]


def ended_of(out: Path, case: str) -> list[int]:
    return [int(row[2]) for row in observations(out) if row[0] == "end" and row[1] == case]
