"""The bench's regression gate: it trips on a halved ratio, not on noise, and ignores what it cannot judge."""

from __future__ import annotations

from bench.report import Row, regressions


def row(ours: float, baseline: float = 100.0, higher_is_better: bool = True) -> Row:
    return Row("ingest", "events/s", ours, "bare ASGI", baseline, ">= 0.25", higher_is_better)


def test_a_ratio_under_half_its_published_value_is_a_regression() -> None:
    [line] = regressions([row(14.0)], {"ingest | events/s | bare ASGI": 0.3})
    assert line.startswith("ingest | events/s | bare ASGI: ratio 0.14")


def test_a_ratio_down_by_less_than_half_passes() -> None:
    assert regressions([row(16.0)], {"ingest | events/s | bare ASGI": 0.3}) == []


def test_a_dead_baseline_is_a_regression_not_a_pass() -> None:
    # A ratio of nan (the baseline answered nothing) must not slip through a ``<`` comparison.
    assert len(regressions([row(50.0, baseline=0.0)], {"ingest | events/s | bare ASGI": 0.3})) == 1


def test_rows_without_a_published_value_or_a_direction_are_not_judged() -> None:
    assert regressions([row(1.0)], {}) == []
    assert regressions([row(1.0, higher_is_better=False)], {"ingest | events/s | bare ASGI": 0.3}) == []
