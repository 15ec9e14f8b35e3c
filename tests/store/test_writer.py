"""The group commit: one event the driver cannot bind fails alone, for good; the others of its batch commit."""

from __future__ import annotations

import dataclasses

import pytest
from sqlalchemy import select

from casehooks.errors import Unstorable
from casehooks.events import parse_object, stringify
from casehooks.store import Store
from casehooks.store.tables import EventRow
from tests.receiver.events import comment_event

pytestmark = pytest.mark.integration


def test_an_event_the_driver_cannot_bind_is_unstorable_and_its_batch_commits(store: Store) -> None:
    good, bad = comment_event(), comment_event()
    prepared_good = store.prepare(parse_object(good), stringify(good))
    prepared_bad = store.prepare(parse_object(bad), stringify(bad))
    # A lone surrogate in a plain column: neither driver can encode it.
    prepared_bad = dataclasses.replace(prepared_bad, event_type="ADD_CASE_COMMENT\ud800")
    writer = store.start_writer()
    futures = [writer.submit(prepared_bad), writer.submit(prepared_good)]
    with pytest.raises(Unstorable) as raised:
        futures[0].result(timeout=120)
    assert futures[1].result(timeout=120) is True
    assert "\ud800" not in str(raised.value) and "UnicodeEncodeError" in str(raised.value)
    with store.engine.connect() as connection:
        stored = set(connection.execute(select(EventRow.id)).scalars())
    assert stored == {prepared_good.event_id}
