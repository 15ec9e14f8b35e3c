"""Reprocessing a held body whose event was stored meanwhile: a duplicate, never a second event, audited."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select

from casehooks.crypto import Keyring
from casehooks.events import parse_event
from casehooks.receiver.reprocess import reprocess
from casehooks.settings import Settings
from casehooks.signing import Authenticator, sign
from casehooks.store import Store
from casehooks.store.accounts import list_audit
from casehooks.store.quarantine import DUPLICATE_DETAIL, Refusal, totals
from casehooks.store.tables import EventRow, JobRow, QuarantineRow
from tests.receiver.events import body_of, comment_event

pytestmark = pytest.mark.integration

SECRET = "whsec-real"


@pytest.fixture
def store(tmp_path: Path, database_url: str) -> Iterator[Store]:
    opened = Store.open(
        Settings(data_dir=tmp_path / "data", database_url=database_url, master_key=Keyring.generate_entry())
    )
    yield opened
    opened.close()


def signed_body() -> tuple[bytes, dict[str, str]]:
    body = body_of(comment_event())
    return body, {"content-type": "application/json", "x-cv-signature": sign(body, SECRET)}


def counts(store: Store) -> tuple[int, int]:
    with store.engine.connect() as connection:
        events = connection.execute(select(func.count()).select_from(EventRow)).scalar()
        jobs = connection.execute(select(func.count()).select_from(JobRow)).scalar()
    return int(events or 0), int(jobs or 0)


def quarantine_row(store: Store, record_id: str) -> tuple[str, str | None, bytes | None, str]:
    with store.engine.connect() as connection:
        row = connection.execute(
            select(QuarantineRow.status, QuarantineRow.event_id, QuarantineRow.body_sealed, QuarantineRow.detail).where(
                QuarantineRow.id == record_id
            )
        ).one()
    return row.status, row.event_id, row.body_sealed, row.detail


@pytest.mark.parametrize("refused_as", ["store_unavailable", "auth_mismatch"])
def test_a_held_body_whose_event_was_stored_is_a_duplicate(store: Store, refused_as: str) -> None:
    body, headers = signed_body()
    prepared = store.prepare(parse_event(body), body)
    # The refusal knew its event (a commit that timed out) or did not (refused before parsing, stored by a retry).
    event_id = prepared.event_id if refused_as == "store_unavailable" else None
    record_id = store.hold(Refusal(refused_as, "refused", 503, event_id), body, len(body), headers)
    assert record_id is not None
    assert store.commit(prepared) is True  # the commit landed late, or the platform's retry was stored
    before = counts(store)

    result = reprocess(store, Authenticator(secrets=(SECRET,)), record_id, operator="cli:night-operator")

    assert (result.outcome, result.event_id) == ("duplicate", prepared.event_id)
    assert counts(store) == before == (1, 1)
    status, recorded_event, body_sealed, detail = quarantine_row(store, record_id)
    assert (status, recorded_event, body_sealed, detail) == ("reprocessed", prepared.event_id, None, DUPLICATE_DETAIL)
    with store.engine.connect() as connection:
        assert totals(connection).body_bytes == 0
        entries = list_audit(connection)
    assert [(e["username"], e["action"], e["object_id"]) for e in entries] == [
        ("cli:night-operator", "reprocess_duplicate", record_id)
    ]


def test_a_held_body_whose_event_was_not_stored_is_accepted_once(store: Store) -> None:
    body, headers = signed_body()
    prepared = store.prepare(parse_event(body), body)
    record_id = store.hold(Refusal("store_unavailable", "refused", 503, prepared.event_id), body, len(body), headers)
    assert record_id is not None
    result = reprocess(store, Authenticator(secrets=(SECRET,)), record_id)
    assert (result.outcome, result.event_id) == ("accepted", prepared.event_id)
    again = reprocess(store, Authenticator(secrets=(SECRET,)), record_id)
    assert again.outcome == "duplicate"
    assert counts(store) == (1, 1)
