"""``python -m bench [scenario ...] [--quick]``: run scenarios, write bench/results/*.json|md, update docs.

``--quick`` is the regression gate of the test command: small runs of the ingest scenario (unless scenarios are
named), nothing published, and exit status 1 when a ratio falls under half of its value in bench/published.json.
"""

from __future__ import annotations

import argparse
import json
import sys
import time

from bench import attachments, generator, growth, ingest, listing, ordering, refusals, scale, sender
from bench.report import PUBLISHED, Row, publish, regressions, table, write

EVERY = ["ingest", "trigger", "attachments", "sender", "growth", "scale", "refusals", "ordering", "listing"]
QUICK = ["ingest"]


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench")
    parser.add_argument("scenarios", nargs="*", help=f"default: {' '.join(EVERY)} ({' '.join(QUICK)} with --quick)")
    parser.add_argument("--quick", action="store_true", help="small runs that fail on a halved ratio; publish nothing")
    args = parser.parse_args()
    if not args.scenarios:
        args.scenarios = QUICK if args.quick else EVERY
    rows: list[Row] = []
    timings: dict[str, float] = {}
    for name in args.scenarios:
        started = time.perf_counter()
        if name == "ingest":
            rows += ingest.run(count=1000 if args.quick else 5000, rounds=1 if args.quick else 3)
        elif name == "trigger":
            rows += generator.run(count=1000 if args.quick else 5000, rounds=1 if args.quick else 3)
        elif name == "attachments":
            rows += attachments.run(sizes_mib=(1, 10) if args.quick else (1, 10, 50), rounds=1 if args.quick else 3)
        elif name == "sender":
            rows += sender.run(count=500 if args.quick else 2000, rounds=1 if args.quick else 3)
        elif name == "scale":
            rows += scale.run(
                count=1000 if args.quick else 3000,
                backlog=2000 if args.quick else 20_000,
                rounds=1 if args.quick else 3,
            )
        elif name == "refusals":
            rows += refusals.run(
                held=20_000, count=500 if args.quick else 2000, genuine=100 if args.quick else 300,
                rounds=1 if args.quick else 3,
            )  # fmt: skip
        elif name == "ordering":
            rows += ordering.run(events=1000 if args.quick else 2000, rounds=1 if args.quick else 3)
        elif name == "listing":
            rows += listing.run(stored=20_000 if args.quick else 1_000_000, rounds=1 if args.quick else 5)
        elif name == "growth":
            rows += growth.run(stored=20_000 if args.quick else 1_000_000)
        else:
            sys.exit(f"unknown scenario {name}")
        timings[name] = time.perf_counter() - started
        print(f"{name}: done in {timings[name]:.0f} s", file=sys.stderr)
    path = write(rows, {"scenario_seconds": timings, "quick": args.quick}, publish_table=not args.quick)
    print(table(rows))
    print(f"\nwritten to {path}", file=sys.stderr)
    if not args.quick:
        publish(rows)
        return
    published = json.loads(PUBLISHED.read_text()) if PUBLISHED.exists() else {}
    fallen = regressions(rows, published)
    for line in fallen:
        print(f"regression: {line}", file=sys.stderr)
    if fallen:
        sys.exit(1)


main()
