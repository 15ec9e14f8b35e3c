from casehooks.sender.stats import Outcome, TriggerSummary, percentile


def test_percentile_uses_nearest_rank() -> None:
    values = [float(v) for v in range(1, 101)]
    assert percentile(values, 50) == 50
    assert percentile(values, 99) == 99
    assert percentile(values, 100) == 100
    assert percentile([], 50) is None


def test_summary_counts_statuses_and_errors() -> None:
    summary = TriggerSummary()
    summary.add(Outcome(200, None, 0.01, 10))
    summary.add(Outcome(500, None, 0.02, 10))
    summary.add(Outcome(None, "timeout", 1.0, 10))
    summary.elapsed = 2.0
    data = summary.to_dict()
    assert data["sent"] == 3
    assert data["succeeded"] == 1
    assert data["statuses"] == {"200": 1, "500": 1}
    assert data["errors"] == {"timeout": 1}
    assert data["throughput_per_second"] == 1.5
    assert data["body_bytes"] == 30
