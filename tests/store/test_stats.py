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


def test_spans_end_with_the_bucket_holding_now_and_count_each_stamp_once() -> None:
    now = datetime(2025, 9, 4, 12, 47, 13, tzinfo=UTC)
    for span in stats.SPANS.values():
        start = span.start(now)
        buckets = span.counts([start, now, start - span.bucket], now)
        assert len(buckets) == span.buckets and buckets[0] == (start, 1) and buckets[-1][1] == 1
        assert buckets[-1][0] <= now < buckets[-1][0] + span.bucket


def test_percentiles_are_nearest_rank() -> None:
    assert stats.percentile([], 0.5) is None
    assert stats.percentile([1.0, 2.0, 3.0, 4.0], 0.5) == 2.0
    assert stats.percentile([float(n) for n in range(1, 101)], 0.95) == 95.0
