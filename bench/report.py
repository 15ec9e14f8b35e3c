"""Medians, ratios and the markdown table of a benchmark run."""

from __future__ import annotations

import json
import platform
import statistics
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
PERFORMANCE = ROOT / "docs" / "performance.md"
PUBLISHED = ROOT / "bench" / "published.json"
START, END = "<!-- bench:start -->", "<!-- bench:end -->"


@dataclass
class Row:
    """One comparison: casehooks against a baseline on one metric (medians over alternating rounds)."""

    scenario: str
    metric: str
    ours: float
    baseline_name: str
    baseline: float
    target: str
    higher_is_better: bool = True

    @property
    def ratio(self) -> float:
        return self.ours / self.baseline if self.baseline else float("nan")

    @property
    def key(self) -> str:
        return f"{self.scenario} | {self.metric} | {self.baseline_name}"


def median(values: list[float]) -> float:
    return float(statistics.median(values)) if values else float("nan")


def machine() -> dict[str, Any]:
    cpu = "unknown"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    import os

    return {"cpu": cpu, "cores": os.cpu_count(), "python": platform.python_version(), "system": platform.platform()}


def table(rows: list[Row]) -> str:
    lines = [
        "| scenario | metric | casehooks | baseline | baseline value | ratio | target |",
        "|---|---|---:|---|---:|---:|---|",
    ]
    for row in rows:
        lines.append(
            f"| {row.scenario} | {row.metric} | {row.ours:,.1f} | {row.baseline_name} | {row.baseline:,.1f} "
            f"| {row.ratio:.2f} | {row.target} |"
        )
    return "\n".join(lines)


def write(rows: list[Row], extra: dict[str, Any], *, publish_table: bool = True) -> Path:
    """Write the JSON result and the markdown table, and (unless told not to) put the table into
    docs/performance.md."""
    RESULTS.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    info = machine()
    result = {
        "when": stamp,
        "machine": info,
        "rows": [{**asdict(row), "ratio": row.ratio} for row in rows],
        **extra,
    }
    path = RESULTS / f"{stamp}.json"
    path.write_text(json.dumps(result, indent=2))
    markdown = table(rows)
    (RESULTS / f"{stamp}.md").write_text(markdown + "\n")
    if publish_table and PERFORMANCE.exists():
        text = PERFORMANCE.read_text()
        if START in text and END in text:
            before, _, rest = text.partition(START)
            kept, _, after = rest.partition(END)
            run = f"{stamp}, {info['cpu']}, {info['cores']} cores, Python {info['python']}"
            section = merged_table(kept, rows, run)
            PERFORMANCE.write_text(before + START + "\n" + section + "\n" + END + after)
    return path


def merged_table(kept: str, rows: list[Row], run: str) -> str:
    """The published table with this run's scenarios replaced and every other scenario's rows kept, each
    scenario naming the run it comes from."""
    ran = {row.scenario for row in rows}
    lines = table(rows).splitlines()
    old = [line for line in kept.splitlines() if line.startswith("| ") and not line.startswith(("| scenario", "|---"))]
    others = [line for line in old if line.split("|")[1].strip() not in ran]
    runs = [line for line in kept.splitlines() if line.startswith("- ") and line[2:].split(":")[0] not in ran]
    runs += [f"- {scenario}: {run}" for scenario in sorted(ran)]
    return "Runs:\n" + "\n".join(sorted(runs)) + "\n\n" + "\n".join([*lines[:2], *others, *lines[2:]])


def publish(rows: list[Row]) -> None:
    """Record the ratios of a full run as the published ones the ``--quick`` gate compares against."""
    published = json.loads(PUBLISHED.read_text()) if PUBLISHED.exists() else {}
    published.update({row.key: round(row.ratio, 3) for row in rows if row.higher_is_better and row.ratio > 0})
    PUBLISHED.write_text(json.dumps(dict(sorted(published.items())), indent=2) + "\n")


def regressions(rows: list[Row], published: dict[str, float]) -> list[str]:
    """Rows whose ratio fell under half of its published value: a margin wide enough that noise on a shared
    machine does not trip it, narrow enough that losing a design-level win does."""
    return [
        f"{row.key}: ratio {row.ratio:.2f}, published {published[row.key]:.2f}"
        for row in rows
        if row.higher_is_better and row.key in published and not row.ratio >= published[row.key] / 2
    ]
