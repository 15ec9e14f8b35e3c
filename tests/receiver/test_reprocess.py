"""Reprocessing held requests on a real store: a forgery is never accepted for want of a secret."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from casehooks.crypto import Keyring
from casehooks.receiver.intake import check
from casehooks.receiver.reprocess import UNVERIFIABLE, reprocess
from casehooks.settings import Settings
from casehooks.signing import Authenticator, sign
from casehooks.store import Store
from casehooks.store.accounts import list_audit
from casehooks.store.quarantine import Refusal
from casehooks.store.reads import event_headers
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


def hold_forgery(store: Store) -> str:
    body = body_of(comment_event())
    headers = {"content-type": "application/json", "x-cv-signature": sign(body, "the-forgers-guess")}
    refusal = check(Authenticator(secrets=(SECRET,)), body, headers)
    assert isinstance(refusal, Refusal) and refusal.reason == "auth_mismatch"
    record_id = store.hold(refusal, body, len(body), headers)
    assert record_id is not None
    return record_id


def test_a_forgery_stays_held_where_no_secret_is_configured(store: Store) -> None:
    record_id = hold_forgery(store)
    result = reprocess(store, Authenticator(), record_id)
    assert (result.outcome, result.reason, result.event_id) == ("refused", UNVERIFIABLE, None)
    with store.engine.connect() as connection:
        from casehooks.store.reads import list_quarantine

        assert [row["id"] for row in list_quarantine(connection, status="held")] == [record_id]


def test_a_forgery_is_refused_again_under_the_configured_secret(store: Store) -> None:
    record_id = hold_forgery(store)
    result = reprocess(store, Authenticator(secrets=(SECRET,)), record_id)
    assert (result.outcome, result.reason) == ("refused", "auth_mismatch")


def test_trust_accepts_and_the_audit_log_names_who_vouched(store: Store) -> None:
    record_id = hold_forgery(store)
    result = reprocess(store, Authenticator(), record_id, trust=True, operator="cli:night-operator")
    assert result.outcome == "accepted"
    with store.engine.connect() as connection:
        entries = list_audit(connection)
    assert [(e["username"], e["action"], e["object_id"]) for e in entries] == [
        ("cli:night-operator", "reprocess_trusted", record_id)
    ]


def test_a_reprocessed_request_becomes_an_event_with_the_headers_it_was_held_with(store: Store) -> None:
    body = body_of(comment_event())
    headers = {"content-type": "application/json", "x-cv-signature": sign(body, SECRET), "x-shared-key": "s3cr3t"}
    held = Refusal("store_unavailable", "the event could not be stored now; retry later", 503)
    record_id = store.hold(held, body, len(body), headers, frozenset({"x-shared-key"}))
    assert record_id is not None
    result = reprocess(store, Authenticator(secrets=(SECRET,)), record_id)
    assert result.outcome == "accepted" and result.event_id is not None
    with store.engine.connect() as connection:
        kept = event_headers(connection, store.vault, result.event_id)
    assert kept is not None
    assert kept["x-cv-signature"] == headers["x-cv-signature"] and kept["content-type"] == "application/json"
    assert kept["x-shared-key"] == "[not stored]"
