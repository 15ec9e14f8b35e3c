"""The bench's regression gate: it trips on a halved ratio, not on noise, and ignores what it cannot judge."""

from __future__ import annotations

from bench.report import Row, merged_table, regressions


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


def test_a_scenario_run_alone_replaces_its_rows_and_keeps_every_other_scenarios() -> None:
    kept = "\n".join(
        [
            "Runs:",
            "- ingest: 20260101T000000Z, cpu, 2 cores, Python 3.11",
            "- sender: 20260101T000000Z, cpu, 2 cores, Python 3.11",
            "",
            "| scenario | metric | casehooks | baseline | baseline value | ratio | target |",
            "|---|---|---:|---|---:|---:|---|",
            "| ingest | events/s | 1.0 | bare ASGI | 100.0 | 0.01 | >= 0.25 |",
            "| sender | deliveries/s | 2.0 | httpx loop | 4.0 | 0.50 | >= 0.9 |",
        ]
    )
    merged = merged_table(kept, [row(30.0)], "20260202T000000Z, cpu, 2 cores, Python 3.11").splitlines()
    assert "- sender: 20260101T000000Z, cpu, 2 cores, Python 3.11" in merged
    assert "- ingest: 20260202T000000Z, cpu, 2 cores, Python 3.11" in merged
    assert [line.split("|")[1].strip() for line in merged if line.startswith("| ") and "---" not in line] == [
        "scenario",
        "sender",
        "ingest",
    ]
    assert "| ingest | events/s | 30.0 | bare ASGI | 100.0 | 0.30 | >= 0.25 |" in merged
