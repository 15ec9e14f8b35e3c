"""Small charts as inline SVG, drawn on the server: no script, no network, readable on a phone.

Only the bars are SVG; every word and number is HTML around them, so text keeps the page's font size however
narrow the screen (SVG text shrinks with its drawing). Sizes are SVG attributes: the page's policy allows no
inline style.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from html import escape


def bar_chart(points: Sequence[tuple[str, int]], *, width: int = 600, height: int = 140, label: str = "") -> str:
    """Vertical bars, one per point (label, value), scaled to the largest value; returns the markup."""
    return series_chart({label or "count": points}, width=width, height=height, label=label)


def series_chart(
    series: Mapping[str, Sequence[tuple[str, int]]], *, width: int = 600, height: int = 140, label: str = ""
) -> str:
    """Bars for several series over the same points (grouped side by side), with a legend, the largest value
    and the first and last point's names as HTML."""
    names = list(series)
    points = max((len(values) for values in series.values()), default=0)
    top = max((value for values in series.values() for _, value in values), default=0) or 1
    step = width / max(1, points)
    bar = max(0.5, round((step - 1) / max(1, len(names)), 2))
    bars = []
    for offset, name in enumerate(names):
        for index, (point, value) in enumerate(series[name]):
            if not value:
                continue
            bar_height = round(height * value / top, 1)
            x = round(index * step + offset * bar, 2)
            bars.append(
                f'<rect class="s{offset}" x="{x}" y="{round(height - bar_height, 1)}" width="{bar}" '
                f'height="{bar_height}"><title>{escape(point)} {escape(name)}: {value}</title></rect>'
            )
    totals = ", ".join(f"{escape(name)} {sum(value for _, value in series[name])}" for name in names)
    first = next((values[0][0] for values in series.values() if values), "")
    last = next((values[-1][0] for values in series.values() if values), "")
    legend = "".join(
        f'<li><svg class="key" viewBox="0 0 10 10" aria-hidden="true"><rect class="s{offset}" width="10" '
        f'height="10"/></svg>{escape(name)} <strong>{sum(value for _, value in series[name])}</strong></li>'
        for offset, name in enumerate(names)
    )
    return (
        f'<figure class="chart-box"><ul class="legend">{legend}</ul>'
        f'<p class="axis">max {top}</p>'
        f'<svg class="chart" viewBox="0 0 {width} {height}" role="img" '
        f'aria-label="{escape(label or "chart")}: {totals}" '
        f'preserveAspectRatio="none">{"".join(bars)}</svg>'
        f'<p class="axis ends"><span>{escape(first)}</span><span>{escape(last)}</span></p></figure>'
    )


def horizontal_bars(counts: Mapping[str, int], *, label: str = "refusals by reason") -> str:
    """One labelled horizontal bar per key (e.g. refusals by reason), as a table; returns the markup."""
    if not counts:
        return '<p class="muted">none</p>'
    top = max(counts.values()) or 1
    rows = "".join(
        f'<tr><th scope="row">{escape(name)}</th><td class="bar"><svg viewBox="0 0 100 10" '
        f'preserveAspectRatio="none" aria-hidden="true"><rect width="{round(100 * value / top, 1)}" height="10">'
        f"</rect></svg></td><td>{value}</td></tr>"
        for name, value in counts.items()
    )
    return f'<table class="hbars" aria-label="{escape(label)}"><tbody>{rows}</tbody></table>'


def bucket_label(stamp: datetime, *, with_day: bool) -> str:
    return stamp.strftime("%m-%d %H:%M" if with_day else "%H:%M")
