"""A batch committed together writes what the same events committed one by one write, row for row."""

from __future__ import annotations

import json
import random
from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from casehooks.crypto import Keyring
from casehooks.events import parse_event, stringify
from casehooks.sender.fake import EVENT_TYPES, fake_event
from casehooks.settings import Settings
from casehooks.store import Store
from casehooks.store.engine import writer
from casehooks.store.group_commit import commit_batch
from casehooks.store.ingest import MERGED_MODELS, Prepared
from casehooks.store.tables import AttachmentRow, Base, BlobRow
from tests.receiver.events import attachment_event, body_of

NOW = datetime(2026, 3, 1, 12, tzinfo=UTC)
KEY = Keyring.generate_entry()
# Rows whose values come from each store's own keys or clock, not from the events.
SKIPPED = {"data_keys", "active_master_key", "blobs", "audit_log", "audit_chain", "handlers", "workers"}


def recurring(bodies: list[dict[str, Any]], pool: int, rng: random.Random) -> list[bytes]:
    """The events with their cases and people drawn from a few ids each, so deliveries merge into each other
    (with names, ranks and fields that disagree)."""
    cases: list[str] = []
    people: list[str] = []

    def collect(value: Any) -> None:
        if isinstance(value, dict):
            if "id" in value and (
                "shortId" in value or "caseStatus" in value or ("status" in value and "type" in value)
            ):
                cases.append(str(value["id"]))
            if "id" in value and ("firstName" in value or "email" in value):
                people.append(str(value["id"]))
            for item in value.values():
                collect(item)
        elif isinstance(value, list):
            for item in value:
                collect(item)

    for body in bodies:
        collect(body)
    case_pool = sorted(set(cases))[:pool]
    people_pool = sorted(set(people))[:pool]
    out = []
    for body in bodies:
        text = stringify(body).decode()
        for found in set(cases) - set(case_pool):
            text = text.replace(found, rng.choice(case_pool))
        for found in set(people) - set(people_pool):
            text = text.replace(found, rng.choice(people_pool))
        out.append(text.encode())
    return out


def events(seed: int, count: int) -> list[bytes]:
    rng = random.Random(seed)
    bodies = [
        fake_event(
            rng.choice(EVENT_TYPES),
            rng,
            attachment_bytes=rng.choice((0, 300)),
            now=NOW - timedelta(minutes=rng.randint(0, 900)),
        )
        for _ in range(count)
    ]
    return recurring(bodies, pool=3, rng=rng)


@pytest.fixture
def stores(tmp_path: Path, engine_name: str, request: pytest.FixtureRequest) -> Iterator[Callable[[str], Store]]:
    opened: list[Store] = []
    databases: list[str] = []

    def open_store(name: str) -> Store:
        url = None
        if engine_name != "sqlite":
            url = request.getfixturevalue("postgres").create_database()
            databases.append(url)
        settings = Settings(data_dir=tmp_path / name, database_url=url, master_key=KEY)
        opened.append(Store.open(settings, clock=lambda: NOW))
        return opened[-1]

    yield open_store
    for store in opened:
        store.close()
    for url in databases:
        request.getfixturevalue("postgres").drop_database(url)


def prepared(store: Store, bodies: list[bytes]) -> list[Prepared]:
    # Arrivals out of order, so a later delivery can carry an earlier receive time (people's ``seen_at``).
    arrivals = random.Random(len(bodies))
    return [
        replace(store.prepare(parse_event(body), body), received_at=NOW + timedelta(seconds=arrivals.randint(0, 999)))
        for body in bodies
    ]


def contents(store: Store) -> dict[str, list[dict[str, Any]]]:
    """Every table's rows in primary-key order, sealed columns opened where a row's key binds them."""
    dumped: dict[str, list[dict[str, Any]]] = {}
    with store.engine.connect() as connection:
        for table in Base.metadata.sorted_tables:
            if table.name in SKIPPED:
                continue
            rows = []
            counted = [column.name for column in table.primary_key.columns if column.autoincrement is True]
            for rank, row in enumerate(connection.execute(select(table).order_by(*table.primary_key.columns))):
                plain = dict(row._mapping)
                # A sequence's values: their order is the arrival order; PostgreSQL's gaps (a conflicting
                # insert still takes a number) depend on how many inserts were tried, not on what is stored.
                plain.update(dict.fromkeys(counted, rank))
                for name in list(plain):
                    if name.endswith("dek_id") and plain[name] is not None:
                        plain[name] = "<key>"
                    elif name.endswith("_sealed") and plain[name] is not None:
                        aad = f"{table.name}:{plain['id']}".encode()
                        merged = table.name in MERGED_MODELS
                        plain[name] = (
                            json.loads(store.vault.open(row.dek_id, plain[name], aad)) if merged else "<sealed>"
                        )
                rows.append(plain)
            dumped[table.name] = rows
    return dumped


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_a_batch_writes_what_one_by_one_writes(stores: Callable[[str], Store], seed: int) -> None:
    bodies = events(seed, 60)
    # Redeliveries: one inside its own batch, one of an event a batch before stored.
    bodies = [*bodies[:20], bodies[3], *bodies[20:40], bodies[25], bodies[30], *bodies[40:]]
    one_by_one, together = stores("one"), stores("batch")
    expected = [one_by_one.commit(item) for item in prepared(one_by_one, bodies)]
    got: list[bool] = []
    batch = prepared(together, bodies)
    for start, end in ((0, 1), (1, 8), (8, 30), (30, 45), (45, len(batch))):
        with writer(together.engine).begin() as connection:
            got += commit_batch(connection, batch[start:end], NOW)
    assert got == expected
    assert expected.count(False) == 3
    assert contents(together) == contents(one_by_one)


def test_the_fixture_makes_cases_and_people_recur() -> None:
    # Without recurring rows the comparison above would never merge a mention into a stored row.
    bodies = [json.loads(body) for body in events(1, 60)]
    case_ids = [body["payload"]["case"]["id"] for body in bodies if body.get("payload", {}).get("case")]
    assert len(set(case_ids)) <= 3 < len(case_ids)


def test_the_same_small_file_twice_in_one_batch_is_one_row_both_events_read(stores: Callable[[str], Store]) -> None:
    # A file kept in its row is not looked up before the commit: two events carrying it in one batch offer
    # two rows, and the commit keeps one.
    store = stores("batch")
    content = b"%PDF the same small scan"
    batch = prepared(store, [body_of(attachment_event(content)) for _ in range(2)])
    with writer(store.engine).begin() as connection:
        assert commit_batch(connection, batch, NOW) == [True, True]
    with store.engine.connect() as connection:
        assert connection.execute(select(func.count()).select_from(BlobRow)).scalar_one() == 1
        shas = connection.execute(select(AttachmentRow.blob_sha256)).scalars().all()
    assert len(shas) == 2 and len(set(shas)) == 1
    assert b"".join(store.files.open(shas[0])) == content
