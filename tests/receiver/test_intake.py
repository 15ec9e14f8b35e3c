"""Mutated signed bodies through the real ASGI app: every one is accepted or refused 4xx and held, never 5xx.

A 5xx asks the platform to retry; a body that fails the same way forever would be retried forever. Bodies are
mutations of the seed examples (hostile values at random paths: lone surrogates, timestamps at the edge of the
calendar, deep nesting, overlong ids, huge numbers, wrong types), signed, posted in batches so that commits are
shared as under real load. The real store (a SQLite file) records every refusal.
"""

from __future__ import annotations

import asyncio
import copy
import os
import random
import uuid
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from casehooks.crypto import Keyring
from casehooks.events import stringify
from casehooks.receiver.service import Service, build_service
from casehooks.settings import Settings
from casehooks.signing import sign
from casehooks.store.tables import QuarantineRow
from tests.conftest import seed
from tests.receiver.events import attachment_event, comment_event

pytestmark = pytest.mark.integration

SECRET = "whsec-fuzz"
# The suite drives 5,000 bodies (about 50 s); CASEHOOKS_FUZZ_BODIES=100000 runs the full campaign (about 17 min
# on 2 cores, every refusal being its own durable commit; run it with pytest's --timeout=0).
TOTAL = int(os.environ.get("CASEHOOKS_FUZZ_BODIES", "5000"))
PER_EXAMPLE = 500
CONCURRENCY = 32
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
    built = build_service(
        Settings(
            data_dir=tmp_path / "data",
            master_key=Keyring.generate_entry(),
            webhook_secret=SECRET,
            console=False,
            quarantine_max_rows=TOTAL + 1,
            # What is checked is how bodies are classified, not timeouts: on a loaded machine 32 concurrent
            # refusals queued on SQLite's one writer must not reach the database timeout and answer 503.
            database_timeout_seconds=120,
        ),
        run_worker=False,
    )
    yield built
    built.store.close()


async def _post(client: httpx.AsyncClient, event: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    body = stringify(event)
    headers = {"content-type": "application/json", "x-cv-signature": sign(body, SECRET)}
    response = await client.post("/webhooks/carevalidate", content=body, headers=headers)
    return response.status_code, response.json()


async def _drive(service: Service, events: list[dict[str, Any]]) -> list[tuple[int, dict[str, Any]]]:
    gate = asyncio.Semaphore(CONCURRENCY)
    transport = httpx.ASGITransport(app=service.app)
    async with httpx.AsyncClient(transport=transport, base_url="http://receiver", timeout=120) as client:

        async def one(event: dict[str, Any]) -> tuple[int, dict[str, Any]]:
            async with gate:
                return await _post(client, event)

        return await asyncio.gather(*(one(event) for event in events))


def test_no_signed_body_is_answered_5xx_and_every_refusal_is_held(service: Service) -> None:
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
    answers = asyncio.run(_drive_all(service, streams))

    statuses = Counter(status for status, _ in answers)
    assert statuses[200] > 0 and sum(statuses.values()) - statuses[200] > 0  # both paths were driven
    failed = [answer for status, answer in answers if status >= 500]
    assert not failed, failed[:3]
    refused = [answer.get("quarantine_id") for status, answer in answers if status >= 300]
    with service.store.engine.connect() as connection:
        reasons = dict(connection.execute(select(QuarantineRow.id, QuarantineRow.reason)).all())
    assert all(record_id and reasons.get(record_id) for record_id in refused)


async def _drive_all(service: Service, streams: list[int]) -> list[tuple[int, dict[str, Any]]]:
    answers: list[tuple[int, dict[str, Any]]] = []
    for stream in streams:
        rng = random.Random(stream)
        answers += await _drive(service, [mutate(rng) for _ in range(PER_EXAMPLE)])
    return answers


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
