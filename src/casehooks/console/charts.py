"""Small charts as inline SVG, drawn on the server: no script, no network, readable on a phone."""

from __future__ import annotations

from collections.abc import Sequence
from html import escape


def bar_chart(points: Sequence[tuple[str, int]], *, width: int = 600, height: int = 140, label: str = "") -> str:
    """Vertical bars, one per point (label, value), scaled to the largest value; returns SVG markup."""
    top = max((value for _, value in points), default=0) or 1
    step = width / max(1, len(points))
    bars = []
    for index, (name, value) in enumerate(points):
        bar_height = round((height - 20) * value / top, 1)
        x = round(index * step, 1)
        bars.append(
            f'<rect x="{x}" y="{height - 16 - bar_height}" width="{max(1.0, round(step - 1, 1))}" '
            f'height="{bar_height}"><title>{escape(name)}: {value}</title></rect>'
        )
    first = escape(points[0][0]) if points else ""
    last = escape(points[-1][0]) if points else ""
    return (
        f'<svg class="chart" viewBox="0 0 {width} {height}" role="img" aria-label="{escape(label)}" '
        f'preserveAspectRatio="none">'
        f'<text x="0" y="10" class="axis">max {top}</text>'
        f"{''.join(bars)}"
        f'<text x="0" y="{height - 2}" class="axis">{first}</text>'
        f'<text x="{width}" y="{height - 2}" class="axis" text-anchor="end">{last}</text>'
        "</svg>"
    )


def horizontal_bars(counts: dict[str, int], *, width: int = 600, row: int = 22) -> str:
    """One labelled horizontal bar per key (e.g. refusals by reason); returns SVG markup."""
    if not counts:
        return '<p class="muted">none</p>'
    top = max(counts.values()) or 1
    height = row * len(counts)
    rows = []
    for index, (name, value) in enumerate(counts.items()):
        y = index * row
        bar = round((width - 220) * value / top, 1)
        rows.append(
            f'<text x="0" y="{y + 15}" class="label">{escape(name)}</text>'
            f'<rect x="170" y="{y + 3}" width="{bar}" height="{row - 6}"><title>{escape(name)}: {value}</title></rect>'
            f'<text x="{175 + bar}" y="{y + 15}" class="label">{value}</text>'
        )
    return (
        f'<svg class="chart" viewBox="0 0 {width} {height}" role="img" aria-label="refusals by reason">'
        f"{''.join(rows)}</svg>"
    )
