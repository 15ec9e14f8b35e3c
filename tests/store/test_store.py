"""The store's face to the receiver: a database out of reach while an event is prepared is ``StoreUnavailable``
(503, the platform retries), never an error that reads as a fault of the event (422, never retried)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from casehooks.crypto import Keyring
from casehooks.errors import StoreUnavailable
from casehooks.events import parse_object, stringify
from casehooks.settings import Settings
from casehooks.store import Store
from casehooks.store.location import loose_paths
from tests.receiver.events import attachment_event
from tests.services import PostgresCluster

pytestmark = pytest.mark.integration


def test_preparing_an_event_without_its_database_is_store_unavailable(
    tmp_path: Path, postgres: PostgresCluster
) -> None:
    url = postgres.create_database()
    store = Store.open(Settings(data_dir=tmp_path / "data", database_url=url, master_key=Keyring.generate_entry()))
    try:
        postgres.drop_database(url)  # every connection of the store is cut, and the database is gone
        wire = attachment_event(b"%PDF unreachable")
        with pytest.raises(StoreUnavailable):
            store.prepare(parse_object(wire), stringify(wire))
    finally:
        store.close()


def test_an_embedded_store_opened_under_a_permissive_umask_leaves_nothing_loose(tmp_path: Path) -> None:
    # The command line runs with umask 077; an app that embeds the receiver may not. Opened twice, as a restart
    # does: the second opening would warn about every loose path the first one made.
    data = tmp_path / "data"
    before = os.umask(0o022)
    try:
        for _ in range(2):
            store = Store.open(Settings(data_dir=data, master_key=Keyring.generate_entry()))
            store.close()
    finally:
        os.umask(before)
    assert {path.name for path in data.iterdir()} >= {"casehooks.db", "blobs"}
    assert loose_paths(data) == []
