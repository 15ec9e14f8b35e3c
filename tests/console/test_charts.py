from __future__ import annotations

import re

from casehooks.console.charts import bar_chart, horizontal_bars, series_chart


def test_bar_chart_scales_to_the_largest_value_and_escapes_labels() -> None:
    svg = bar_chart([("<a>", 1), ("b", 4)], height=120)
    assert "&lt;a&gt;" in svg and "<a>" not in svg
    assert 'height="120.0"' in svg  # the largest bar fills the plot


def test_no_refusals_say_so_without_a_chart() -> None:
    assert "none" in horizontal_bars({})
    assert horizontal_bars({"auth_mismatch": 3}).count("<rect") == 1


def test_charts_put_no_text_inside_the_drawing_so_it_keeps_its_size_on_a_phone() -> None:
    series = {"accepted": [("10:00", 3), ("10:01", 0)], "refused": [("10:00", 1), ("10:01", 2)]}
    for markup in (series_chart(series, label="requests"), horizontal_bars({"schema": 2, "auth_mismatch": 5})):
        for drawing in re.findall(r"<svg.*?</svg>", markup, flags=re.S):
            assert "<text" not in drawing
    assert "accepted <strong>3</strong>" in series_chart(series)
    assert 'aria-label="requests: accepted 3, refused 3"' in series_chart(series, label="requests")


def test_series_are_drawn_side_by_side_and_empty_points_draw_nothing() -> None:
    markup = series_chart({"a": [("x", 2), ("y", 0)], "b": [("x", 1), ("y", 1)]}, width=100, height=10)
    assert markup.count('<rect class="s0" x') == 1 and markup.count('<rect class="s1" x') == 2
    assert 'class="s1" x="24.5"' in markup  # the second series sits beside the first within its point
