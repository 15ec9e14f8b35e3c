from __future__ import annotations

from datetime import UTC, datetime

import pytest

from casehooks.store import Store, stats

pytestmark = pytest.mark.integration


def test_an_empty_store_has_an_hour_of_empty_minutes(store: Store) -> None:
    now = datetime(2025, 9, 4, 12, 30, 15, tzinfo=UTC)
    with store.engine.connect() as connection:
        minutes = stats.events_per_minute(connection, now)
        assert len(minutes) == 60
        assert minutes[-1] == (datetime(2025, 9, 4, 12, 30, tzinfo=UTC), 0)
        assert stats.totals(connection) == {"events": 0, "cases": 0, "quarantine_held": 0}
        assert stats.refusals_by_reason(connection) == {}
