"""``python -m bench [scenario ...] [--quick]``: run scenarios, write bench/results/*.json|md, update docs."""

from __future__ import annotations

import argparse
import sys
import time

from bench import attachments, growth, ingest, listing, refusals, scale, sender
from bench.report import Row, table, write


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench")
    parser.add_argument(
        "scenarios", nargs="*", default=["ingest", "attachments", "sender", "growth", "scale", "refusals", "listing"]
    )
    parser.add_argument("--quick", action="store_true", help="smaller runs, for trying the harness")
    args = parser.parse_args()
    rows: list[Row] = []
    timings: dict[str, float] = {}
    for name in args.scenarios:
        started = time.perf_counter()
        if name == "ingest":
            rows += ingest.run(count=1000 if args.quick else 5000, rounds=1 if args.quick else 3)
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
        elif name == "listing":
            rows += listing.run(stored=20_000 if args.quick else 1_000_000, rounds=1 if args.quick else 5)
        elif name == "growth":
            rows += growth.run(stored=20_000 if args.quick else 1_000_000)
        else:
            sys.exit(f"unknown scenario {name}")
        timings[name] = time.perf_counter() - started
        print(f"{name}: done in {timings[name]:.0f} s", file=sys.stderr)
    path = write(rows, {"scenario_seconds": timings, "quick": args.quick})
    print(table(rows))
    print(f"\nwritten to {path}", file=sys.stderr)


main()
