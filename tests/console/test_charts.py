from __future__ import annotations

from casehooks.console.charts import bar_chart, horizontal_bars


def test_bar_chart_scales_to_the_largest_value_and_escapes_labels() -> None:
    svg = bar_chart([("<a>", 1), ("b", 4)], height=120)
    assert svg.startswith("<svg")
    assert "&lt;a&gt;: 1" in svg
    assert 'height="100.0"' in svg  # the largest bar fills the plot (height minus the axis labels)


def test_no_refusals_say_so_without_a_chart() -> None:
    assert "none" in horizontal_bars({})
    assert horizontal_bars({"auth_mismatch": 3}).count("<rect") == 1
