"""Mutated signed bodies through the real ASGI app: every one is accepted or refused 4xx and held, never 5xx.

A 5xx asks the platform to retry; a body that fails the same way forever would be retried forever. Bodies are
mutations of the seed examples (hostile values at random paths: lone surrogates, timestamps at the edge of the
calendar, deep nesting, overlong ids, huge numbers, wrong types), signed, posted concurrently so that commits
are shared as under real load. The real store (a SQLite file) records every refusal.

Generation is cheap (a seeded ``random.Random`` per stream of bodies, the streams chosen by hypothesis); the app
costs the rest, so the campaign is split over one process per core, each with a service and store of its own,
and calls the ASGI app directly (an HTTP client in between cost as much as the app's own parsing).
"""

from __future__ import annotations

import asyncio
import copy
import json
import multiprocessing
import os
import random
import shutil
import tempfile
import uuid
from collections import Counter
from collections.abc import Iterable, Iterator, MutableMapping
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from sqlalchemy import select
from starlette.types import ASGIApp

from casehooks.crypto import Keyring
from casehooks.events import stringify
from casehooks.logs import configure_logging
from casehooks.receiver.service import Service, build_service
from casehooks.settings import Settings
from casehooks.signing import sign
from casehooks.store.tables import QuarantineRow
from tests.conftest import seed
from tests.receiver.events import attachment_event, comment_event

pytestmark = pytest.mark.integration

SECRET = "whsec-fuzz"
# 5,000 bodies by default here; scripts/test (CI) runs the full campaign, CASEHOOKS_FUZZ_BODIES=100000: about
# 4.5 ms of CPU a body shared over one process per core, about 4 min on 2 free cores.
TOTAL = int(os.environ.get("CASEHOOKS_FUZZ_BODIES", "5000"))
PER_EXAMPLE = 500
CONCURRENCY = 32
SHARDS = max(2, min(4, os.cpu_count() or 1))
WEBHOOK = "/webhooks/carevalidate"
ANSWER_CEILING_SECONDS = 120.0
SEEDS = [seed("add_case_comment"), seed("add_case_attachment")]
TYPES = ["ADD_CASE_COMMENT", "ADD_CASE_ATTACHMENT", "ORDER_TRACKING_ADDED", "CREATE_CASE", "NEW_THING", ""]


def _deep(rng: random.Random) -> Any:
    value: Any = {"leaf": rng.choice(["x", 1, None])}
    for _ in range(rng.randint(100, 300)):
        value = {"k": value} if rng.random() < 0.8 else [value]
    return value


def _hostile(rng: random.Random) -> Any:
    makers = [
        lambda: "cut mid-emoji \ud83d",
        lambda: "\udc00" + "x" * rng.randint(0, 3),
        lambda: "a" * rng.randint(60, 400),
        lambda: rng.choice(["0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-01:00", "0000-00-00", "2025-02-30"]),
        lambda: "2025-09-03T21:44:52.232Z",
        lambda: rng.choice([2**70, -(2**63), 1e308, -0.0, 0.5]),
        lambda: rng.choice([True, False, None, [], {}, ""]),
        lambda: _deep(rng),
        lambda: str(uuid.uuid4()),
        lambda: "".join(chr(rng.randint(0, 0x2FFFF)) for _ in range(rng.randint(1, 12))),
        lambda: {"unknown": "\ud800", "nested": [{"x": 1}]},
        lambda: "data:;base64," + "QUJD" * rng.randint(0, 3),
    ]
    return rng.choice(makers)()


def _containers(value: Any, out: list[Any]) -> list[Any]:
    if isinstance(value, dict | list):
        out.append(value)
        for item in value.values() if isinstance(value, dict) else value:
            _containers(item, out)
    return out


def mutate(rng: random.Random) -> dict[str, Any]:
    event = copy.deepcopy(rng.choice(SEEDS))
    payload = event["payload"]
    if isinstance(payload.get("activity"), dict):
        payload["activity"]["id"] = str(uuid.uuid4())
    for _ in range(rng.randint(1, 3)):
        target = rng.choice(_containers(event, []))
        if isinstance(target, dict):
            key = rng.choice([*target, "extra"]) if target else "extra"
            if rng.random() < 0.15:
                target.pop(key, None)
            else:
                target[key] = _hostile(rng)
        elif target:
            target[rng.randrange(len(target))] = _hostile(rng)
    if rng.random() < 0.05:
        event["event"] = rng.choice(TYPES)
    return event


@pytest.fixture
def service(tmp_path: Path) -> Iterator[Service]:
    built = build_service(_settings(tmp_path / "data"), run_worker=False)
    yield built
    built.store.close()


def _settings(data_dir: Path) -> Settings:
    return Settings(
        data_dir=data_dir,
        master_key=Keyring.generate_entry(),
        webhook_secret=SECRET,
        console=False,
        quarantine_max_rows=TOTAL + 1,
        # What is checked is how bodies are classified, not timeouts: on a loaded machine concurrent refusals
        # queued on SQLite's one writer must not reach the database timeout and answer 503.
        database_timeout_seconds=120,
    )


async def _post(app: ASGIApp, event: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    """One signed POST through the app's ASGI interface, as a server hands it over (no HTTP client between)."""
    body = stringify(event)
    headers = [
        (b"host", b"receiver"),
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
        (b"x-cv-signature", sign(body, SECRET).encode()),
    ]
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": WEBHOOK,
        "raw_path": WEBHOOK.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": headers,
        "client": ("127.0.0.1", 40000),
        "server": ("receiver", 80),
    }
    pending = [{"type": "http.request", "body": body, "more_body": False}]
    answered = asyncio.Event()
    status = 0
    answer = bytearray()

    async def receive() -> dict[str, Any]:
        if pending:
            return pending.pop()
        await answered.wait()  # as a server does: the client is there until the answer is complete
        return {"type": "http.disconnect"}

    async def send(message: MutableMapping[str, Any]) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]
        elif message["type"] == "http.response.body":
            answer.extend(message.get("body", b""))
            if not message.get("more_body", False):
                answered.set()

    try:
        # A body that makes the app hang is a finding, not a stuck test run.
        await asyncio.wait_for(app(scope, receive, send), timeout=ANSWER_CEILING_SECONDS)
    except TimeoutError:
        return 599, {"hung": True, "event": event.get("event") if isinstance(event, dict) else None}
    return status, json.loads(answer)


async def _drive(service: Service, events: Iterable[dict[str, Any]]) -> list[tuple[int, dict[str, Any]]]:
    gate = asyncio.Semaphore(CONCURRENCY)

    async def one(event: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        async with gate:
            return await _post(service.app, event)

    return await asyncio.gather(*(one(event) for event in events))


@dataclass
class Shard:
    """What one process's share of the campaign found: counts, and the first few answers that break a rule."""

    statuses: Counter[int]
    server_errors: list[dict[str, Any]]
    unrecorded: list[dict[str, Any]]


def _campaign(streams: list[int], data_dir: str) -> Shard:
    """Drive the bodies of ``streams`` through a service of its own (run in a process of its own)."""
    configure_logging("error", json=True)  # a hundred thousand refusals are not worth a line each here
    service = build_service(_settings(Path(data_dir)), run_worker=False)
    try:
        answers = asyncio.run(_drive_streams(service, streams))
        with service.store.engine.connect() as connection:
            reasons = dict(connection.execute(select(QuarantineRow.id, QuarantineRow.reason)).all())
    finally:
        service.store.close()
    refused = [answer for status, answer in answers if status >= 300]
    return Shard(
        Counter(status for status, _ in answers),
        [answer for status, answer in answers if status >= 500][:3],
        [answer for answer in refused if not (answer.get("quarantine_id") and reasons.get(answer["quarantine_id"]))][
            :3
        ],
    )


async def _drive_streams(service: Service, streams: list[int]) -> list[tuple[int, dict[str, Any]]]:
    # One event loop for the whole share, as in a server: the app's loop-bound parts are made once.
    answers: list[tuple[int, dict[str, Any]]] = []
    for stream in streams:
        rng = random.Random(stream)
        answers += await _drive(service, [mutate(rng) for _ in range(PER_EXAMPLE)])
    return answers


def _scratch(tmp_path: Path) -> Path:
    """Where the campaign's stores live: memory-backed when the machine has it (the bodies, not the disk, are
    under test here; durability has tests of its own)."""
    shm = Path("/dev/shm")
    if shm.is_dir() and os.access(shm, os.W_OK):
        return Path(tempfile.mkdtemp(prefix="casehooks-fuzz-", dir=shm))
    return Path(tempfile.mkdtemp(prefix="casehooks-fuzz-", dir=tmp_path))


@pytest.mark.timeout(max(300, TOTAL // 30))  # a ceiling against a hang, far above the time a run takes
def test_no_signed_body_is_answered_5xx_and_every_refusal_is_held(tmp_path: Path) -> None:
    streams: list[int] = []

    # Hypothesis chooses the random streams (no example database: the run is the same in CI and here); each
    # stream makes a batch of bodies, so hypothesis's per-example cost is paid once per PER_EXAMPLE bodies.
    @settings(
        max_examples=max(1, TOTAL // PER_EXAMPLE),
        database=None,
        deadline=None,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(st.randoms(use_true_random=False))
    def choose(rng: random.Random) -> None:
        streams.append(rng.getrandbits(64))

    choose()
    scratch = _scratch(tmp_path)
    # One process per core, each with its own service and SQLite store: the app is bound by one core's CPU.
    shards = max(1, min(SHARDS, len(streams)))
    try:
        with ProcessPoolExecutor(shards, mp_context=multiprocessing.get_context("spawn")) as pool:
            found = list(
                pool.map(
                    _campaign,
                    [streams[index::shards] for index in range(shards)],
                    [str(scratch / f"shard-{index}") for index in range(shards)],
                )
            )
    finally:
        shutil.rmtree(scratch, ignore_errors=True)

    statuses = sum((shard.statuses for shard in found), Counter[int]())
    assert sum(statuses.values()) == len(streams) * PER_EXAMPLE
    assert statuses[200] > 0 and sum(statuses.values()) - statuses[200] > 0  # both paths were driven
    failed = [answer for shard in found for answer in shard.server_errors]
    assert not failed, failed[:3]
    unrecorded = [answer for shard in found for answer in shard.unrecorded]
    assert not unrecorded, unrecorded[:3]


def _one(service: Service, event: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    return asyncio.run(_drive(service, [event]))[0]


def test_a_lone_surrogate_in_a_signed_body_is_accepted(service: Service) -> None:
    event = comment_event(text="cut mid-emoji \ud83d")
    status, answer = _one(service, event)
    assert (status, answer["status"]) == (200, "accepted")


def test_a_timestamp_out_of_range_is_refused_4xx_and_held(service: Service) -> None:
    event = comment_event(updated_at="0001-01-01T00:00:00+01:00")
    status, answer = _one(service, event)
    assert (status, answer["reason"]) == (400, "schema")
    assert answer["quarantine_id"]


def test_an_unknown_object_nested_deep_beside_a_file_is_never_5xx(service: Service) -> None:
    event = attachment_event(b"%PDF-1.7 scan")
    nested: Any = {"leaf": 1}
    for _ in range(260):
        nested = {"k": nested}
    event["payload"]["attachment"]["extra"] = nested
    status, answer = _one(service, event)
    assert status < 500 and (status == 200 or answer["quarantine_id"])


def test_an_id_longer_than_its_column_is_refused_4xx_not_retried(service: Service) -> None:
    event = comment_event()
    event["payload"]["activity"]["id"] = "x" * 200
    status, answer = _one(service, event)
    assert (status, answer["reason"]) == (400, "schema")
