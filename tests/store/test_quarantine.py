"""The quarantine under a flood of refusals: constant work per refusal, running totals, bounded rows and headers."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

import orjson
import pytest
from sqlalchemy import Engine, event, func, insert, select

from casehooks.settings import Settings
from casehooks.store import Store, migrate
from casehooks.store.engine import dispose, make_engine, writer
from casehooks.store.quarantine import Refusal, Totals, open_held, recount, resolve, totals
from casehooks.store.tables import QuarantineRow
from tests.store.conftest import Clock

pytestmark = pytest.mark.integration

REFUSED = Refusal("auth_mismatch", "authentication failed: mismatch", 401)
SIGNATURE = {"x-cv-signature": "ab" * 32}


@contextmanager
def statements(engine: Engine) -> Iterator[list[str]]:
    """Every statement the engine sends while the block runs."""
    seen: list[str] = []

    def record(_: Any, __: Any, statement: str, *args: Any) -> None:
        seen.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", record)


def fill(store: Store, count: int, body_size: int = 100) -> None:
    """``count`` held rows with kept bodies, written in bulk (as a flood would have left them)."""
    rows = [
        {
            "id": uuid.uuid4().hex,
            "received_at": store.clock(),
            "reason": "auth_missing",
            "detail": "authentication failed: missing",
            "status_code": 401,
            "size": body_size,
            "sha256": None,
            "headers": {},
            "body_sealed": b"x" * body_size,
            "body_kept_size": body_size,
            "dek_id": None,
            "status": "held",
        }
        for _ in range(count)
    ]
    with writer(store.engine).begin() as connection:
        connection.execute(insert(QuarantineRow), rows)
        recount(connection)


def current(store: Store) -> tuple[int, int, int]:
    with store.engine.connect() as connection:
        now = totals(connection)
    return now.row_count, now.body_bytes, now.overflow


def test_a_refusal_issues_the_same_statements_whatever_the_quarantine_holds(store: Store) -> None:
    store.hold(REFUSED, b"{}", 2, SIGNATURE)  # the data key is made once, outside the comparison
    with statements(store.engine) as first:
        store.hold(REFUSED, b"{}", 2, SIGNATURE)
    fill(store, 2_000)
    with statements(store.engine) as later:
        store.hold(REFUSED, b"{}", 2, SIGNATURE)
    assert later == first
    # Nothing on the refusal path reads the held rows themselves: the only read is of the totals row.
    reads = [sql for sql in later if sql.lstrip().upper().startswith("SELECT")]
    assert all("quarantine_totals" in sql and " quarantine " not in f"{sql} " for sql in reads)


def test_running_totals_follow_holds_and_reprocessing(store: Store) -> None:
    kept = [store.hold(REFUSED, b"x" * size, size, SIGNATURE) for size in (10, 20, 30)]
    store.hold(Refusal("too_large", "body over the limit", 413), None, 10**9, {})
    assert current(store) == (4, 60, 0)
    with writer(store.engine).begin() as connection:
        assert kept[1] is not None
        resolve(connection, kept[1], "reprocessed", event_id="e1")
        resolve(connection, kept[1], "reprocessed", event_id="e1")  # twice: released once
    assert current(store) == (4, 40, 0)
    with writer(store.engine).begin() as connection:
        assert recount(connection) == totals(connection)


def test_bodies_past_the_cap_are_not_kept_but_the_refusal_is(settings: Settings, clock: Clock) -> None:
    store = Store.open(settings.model_copy(update={"quarantine_body_cap_bytes": 25}), clock=clock)
    try:
        first = store.hold(REFUSED, b"x" * 20, 20, SIGNATURE)
        second = store.hold(REFUSED, b"y" * 20, 20, SIGNATURE)
        assert first is not None and second is not None
        with store.engine.connect() as connection:
            assert open_held(connection, store.vault, first) is not None
            assert open_held(connection, store.vault, second) is None
            detail = connection.execute(select(QuarantineRow.detail).where(QuarantineRow.id == second)).scalar()
        assert detail is not None and "body not kept" in detail
        assert current(store) == (2, 20, 0)
    finally:
        store.close()


def test_past_the_row_cap_refusals_are_counted_not_recorded(settings: Settings, clock: Clock) -> None:
    store = Store.open(settings.model_copy(update={"quarantine_max_rows": 5}), clock=clock)
    try:
        ids = [store.hold(REFUSED, b"{}", 2, SIGNATURE) for _ in range(8)]
        assert all(ids[:5]) and ids[5:] == [None, None, None]
        with store.engine.connect() as connection:
            assert connection.execute(select(func.count()).select_from(QuarantineRow)).scalar() == 5
        assert current(store) == (5, 10, 3)
    finally:
        store.close()


def test_headers_of_a_hostile_request_are_bounded_in_the_row_and_the_sealed_record(store: Store) -> None:
    headers = {f"x-pad-{n}-{'n' * 300}": "v" * 5_000 for n in range(400)}
    headers = {**SIGNATURE, "authorization": "Bearer secret-token", **headers}
    record_id = store.hold(REFUSED, b"{}", 2, headers)
    assert record_id is not None
    with store.engine.connect() as connection:
        shown = connection.execute(select(QuarantineRow.headers).where(QuarantineRow.id == record_id)).scalar()
        held = open_held(connection, store.vault, record_id)
    assert shown is not None and held is not None
    assert len(orjson.dumps(shown)) < 16 * 1024 + 100 * 110
    assert len(shown) <= 101
    assert shown["authorization"] == "***"
    assert len(orjson.dumps(held.headers)) < 16 * 1024 + 100 * 110
    # What reprocessing needs survives: the signature, whole.
    assert held.headers["x-cv-signature"] == SIGNATURE["x-cv-signature"]


def test_the_migration_starts_the_totals_from_the_rows_already_held(database_url: str) -> None:
    engine = make_engine(database_url)
    try:
        migrate.upgrade(engine, "0002")
        with writer(engine).begin() as connection:
            connection.execute(
                insert(QuarantineRow),
                [held_row(n, status="held" if n < 3 else "reprocessed", kept=n * 10 if n < 3 else 0) for n in range(5)],
            )
        migrate.upgrade(engine)
        with engine.connect() as connection:
            assert totals(connection) == Totals(row_count=5, body_bytes=30, overflow=0)
    finally:
        dispose(engine)


def held_row(n: int, *, status: str, kept: int) -> dict[str, Any]:
    return {
        "id": f"row-{n}",
        "received_at": datetime(2025, 1, 1, tzinfo=UTC),
        "reason": "auth_missing",
        "detail": "authentication failed: missing",
        "status_code": 401,
        "size": kept,
        "sha256": None,
        "headers": {},
        "body_sealed": None,
        "body_kept_size": kept,
        "dek_id": None,
        "status": status,
    }
