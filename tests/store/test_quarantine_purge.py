"""Held bodies of events that got stored after all are deleted: at their commit, at a retry's, or by a sweep."""

from __future__ import annotations

from concurrent.futures import Future
from pathlib import Path

import pytest
from sqlalchemy import func, select

from casehooks.crypto import Keyring
from casehooks.events import parse_event
from casehooks.settings import Settings
from casehooks.store import Store
from casehooks.store.engine import writer
from casehooks.store.ingest import Prepared
from casehooks.store.quarantine import Refusal, purge_all_stored, recount, totals
from casehooks.store.tables import EventRow, QuarantineRow
from tests.processes import casehooks_env, run_cli
from tests.receiver.events import body_of, comment_event

pytestmark = pytest.mark.integration

HEADERS = {"content-type": "application/json", "x-cv-signature": "ab" * 32}


def prepared_event(store: Store) -> tuple[bytes, Prepared]:
    body = body_of(comment_event())
    return body, store.prepare(parse_event(body), body)


def hold_timed_out(store: Store, body: bytes, event_id: str) -> str | None:
    """Record the refusal of a request whose commit did not land in time."""
    refusal = Refusal("store_unavailable", "the event could not be stored now; retry later", 503, event_id)
    return store.hold(refusal, body, len(body), HEADERS)


def held_rows(store: Store) -> list[tuple[str, str | None, bytes | None]]:
    with store.engine.connect() as connection:
        rows = connection.execute(select(QuarantineRow.id, QuarantineRow.event_id, QuarantineRow.body_sealed)).all()
    return [(row.id, row.event_id, row.body_sealed) for row in rows]


def commit_through_writer(store: Store, prepared: Prepared) -> bool:
    future: Future[bool] = store.start_writer().submit(prepared)
    return future.result(timeout=120)


def test_a_late_commit_deletes_the_held_body_of_its_event(store: Store) -> None:
    body, prepared = prepared_event(store)
    record_id = hold_timed_out(store, body, prepared.event_id)
    assert record_id is not None
    with store.engine.connect() as connection:
        assert totals(connection).body_bytes == len(body)
    assert commit_through_writer(store, prepared) is True
    assert held_rows(store) == []
    with store.engine.connect() as connection:
        assert (totals(connection).row_count, totals(connection).body_bytes) == (0, 0)
        assert recount(connection) == totals(connection)


def test_a_retry_that_is_a_duplicate_deletes_the_held_body(store: Store) -> None:
    body, prepared = prepared_event(store)
    assert store.commit(prepared) is True  # the commit that landed late, outside the writer
    with store.engine.begin() as connection:
        connection.execute(
            QuarantineRow.__table__.insert().values(
                id="f" * 32,
                received_at=prepared.received_at,
                reason="store_unavailable",
                detail="held before its event was stored",
                status_code=503,
                size=len(body),
                headers={},
                body_kept_size=len(body),
                status="held",
                event_id=prepared.event_id,
            )
        )
        recount(connection)
    assert commit_through_writer(store, store.prepare(parse_event(body), body)) is False
    assert held_rows(store) == []


def test_a_refusal_recorded_after_its_event_was_stored_keeps_nothing(store: Store) -> None:
    body, prepared = prepared_event(store)
    assert store.commit(prepared) is True
    assert hold_timed_out(store, body, prepared.event_id) is None
    assert held_rows(store) == []


def test_the_purge_leaves_other_held_bodies_alone(store: Store) -> None:
    other_body, other = prepared_event(store)
    kept = hold_timed_out(store, other_body, other.event_id)
    forged = store.hold(Refusal("auth_mismatch", "authentication failed: mismatch", 401), other_body, 10, HEADERS)
    _, prepared = prepared_event(store)
    assert commit_through_writer(store, prepared) is True
    assert sorted(row[0] for row in held_rows(store)) == sorted([kept, forged])
    assert all(row[2] is not None for row in held_rows(store))


def test_the_sweep_deletes_every_held_body_whose_event_is_stored_and_recounts(store: Store) -> None:
    stored_ids = []
    for _ in range(3):
        body, prepared = prepared_event(store)
        hold_timed_out(store, body, prepared.event_id)
        assert store.commit(prepared) is True  # Store.commit does not purge: the sweep's work
        stored_ids.append(prepared.event_id)
    waiting_body, waiting = prepared_event(store)
    waiting_id = hold_timed_out(store, waiting_body, waiting.event_id)
    with writer(store.engine).begin() as connection:
        assert purge_all_stored(connection) == 3
        assert purge_all_stored(connection) == 0
    assert [row[0] for row in held_rows(store)] == [waiting_id]
    with store.engine.connect() as connection:
        assert (totals(connection).row_count, totals(connection).body_bytes) == (1, len(waiting_body))
        assert connection.execute(select(func.count()).select_from(EventRow)).scalar() == 3


@pytest.mark.acceptance
def test_the_purge_command_deletes_held_bodies_of_stored_events(tmp_path: Path) -> None:
    key = Keyring.generate_entry()
    store = Store.open(Settings(data_dir=tmp_path / "data", master_key=key))
    try:
        body, prepared = prepared_event(store)
        hold_timed_out(store, body, prepared.event_id)
        assert store.commit(prepared) is True
        assert len(held_rows(store)) == 1
    finally:
        store.close()
    result = run_cli(casehooks_env(tmp_path / "data", master_key=key), "quarantine", "purge")
    assert result.stdout.startswith("1 held request(s)")
    store = Store.open(Settings(data_dir=tmp_path / "data", master_key=key), upgrade=False, create=False)
    try:
        assert held_rows(store) == []
    finally:
        store.close()
