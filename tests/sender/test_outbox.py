"""Integration: the outbox's claim, lease and completion on a real SQLite file."""

from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import Engine, insert, select

from casehooks.sender import outbox
from casehooks.sender.db import link_key, open_engine
from casehooks.sender.payloads import Patient, User
from casehooks.sender.platform import create_case
from casehooks.sender.tables import endpoints
from casehooks.sender.tables import outbox as rows

pytestmark = pytest.mark.integration

NOW = datetime(2025, 9, 3, 12, 0, tzinfo=UTC)
T = NOW.timestamp()
ACTOR = User("DgHxzGRtS5gFzdL7cReiPzJcA852", "Grace", "Clinician", "g@example.test")
PATIENT = Patient(
    "WzvygANWTEcfsLlDW1K22WWS7dY2", "Ada", "Example", "a@example.test", NOW, "FEMALE", "+1", "1 St", "", "C", "CA", "1"
)


@pytest.fixture
def engine(tmp_path: Path) -> Engine:
    return open_engine(f"sqlite:///{tmp_path / 'sandbox.db'}")


def _endpoint(engine: Engine, endpoint_id: str, event_types: list[str], enabled: bool = True) -> None:
    with engine.begin() as conn:
        conn.execute(
            insert(endpoints).values(
                id=endpoint_id,
                url="http://127.0.0.1:1/hook",
                document_format="BASE64",
                event_types=event_types,
                enabled=enabled,
                consecutive_failures=0,
                created_at=NOW,
            )
        )


def _case(engine: Engine) -> str:
    with engine.begin() as conn:
        _, activity_id = create_case(
            conn,
            NOW,
            organization_id="org",
            case_type="GLP",
            title="t",
            product_bundle="b",
            submitter=PATIENT,
            actor=ACTOR,
        )
    return activity_id


def test_a_change_enqueues_one_row_per_matching_endpoint_disabled_ones_too(engine: Engine) -> None:
    _endpoint(engine, "all", [])
    _endpoint(engine, "creates", ["CREATE_CASE"])
    _endpoint(engine, "comments", ["ADD_CASE_COMMENT"])
    _endpoint(engine, "off", [], enabled=False)
    _case(engine)
    with engine.connect() as conn:
        assert sorted(conn.execute(select(rows.c.endpoint_id)).scalars()) == ["all", "creates", "off"]


def test_a_claimed_row_is_not_claimed_again_until_its_lease_expires(engine: Engine) -> None:
    _endpoint(engine, "e", [])
    _case(engine)
    with engine.begin() as conn:
        (first,) = outbox.claim(conn, now=T, lease_seconds=30, owner="a", limit=10)
        assert first.attempt == 1
        assert outbox.claim(conn, now=T + 29, lease_seconds=30, owner="b", limit=10) == []
        (again,) = outbox.claim(conn, now=T + 31, lease_seconds=30, owner="b", limit=10)
        assert again.id == first.id
        assert again.attempt == 2
        # The first owner lost its lease: its late completion is refused.
        assert not outbox.mark_delivered(conn, first.id, "a", now=T + 32, status=200)
        assert outbox.mark_delivered(conn, first.id, "b", now=T + 32, status=200)
        assert outbox.claim(conn, now=T + 100, lease_seconds=30, owner="c", limit=10) == []


def test_retry_waits_for_its_due_time(engine: Engine) -> None:
    _endpoint(engine, "e", [])
    _case(engine)
    with engine.begin() as conn:
        (item,) = outbox.claim(conn, now=T, lease_seconds=30, owner="a", limit=10)
        assert outbox.mark_retry(conn, item.id, "a", due_at=T + 10, status=500, error=None)
        assert outbox.claim(conn, now=T + 9, lease_seconds=30, owner="a", limit=10) == []
        assert len(outbox.claim(conn, now=T + 10, lease_seconds=30, owner="a", limit=10)) == 1


def test_dead_rows_come_back_only_by_redelivery(engine: Engine) -> None:
    _endpoint(engine, "e", [])
    _case(engine)
    with engine.begin() as conn:
        (item,) = outbox.claim(conn, now=T, lease_seconds=30, owner="a", limit=10)
        assert outbox.mark_dead(conn, item.id, "a", status=400, error=None)
        assert outbox.claim(conn, now=T + 1000, lease_seconds=30, owner="a", limit=10) == []
        assert outbox.redeliver(conn, item.id, now=T + 1000)
        assert len(outbox.claim(conn, now=T + 1000, lease_seconds=30, owner="a", limit=10)) == 1


def test_rows_of_disabled_endpoints_are_not_claimed(engine: Engine) -> None:
    _endpoint(engine, "e", [])
    _case(engine)
    with engine.begin() as conn:
        conn.execute(endpoints.update().values(enabled=False))
        assert outbox.claim(conn, now=T, lease_seconds=30, owner="a", limit=10) == []


def test_link_key_is_made_once_and_kept(engine: Engine) -> None:
    key = link_key(engine)
    assert len(key) == 32
    assert link_key(engine) == key
