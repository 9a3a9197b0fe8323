"""Ingest benchmark: generate N demo people, ingest them into an empty database, print rates.

    .venv/bin/python bench/ingest.py --people 10000 [--seed 42] [--batch-size 2000]

Prints source records/s for the records files alone (no resolution), rows/s for all files, the
peak memory of this process and of the local Neo4j server. Target (issue 3): >= 10,000
source records/s for records alone on a 2-core machine.
"""

from __future__ import annotations

import argparse
import json
import time

from _common import (
    bench_settings,
    demo_data,
    fresh_database,
    print_peak_memory,
    register_demo_sources,
)

from graph.ingest import ingest_file


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--batch-size", type=int, default=5000)
    args = parser.parse_args()
    directory = demo_data(args.people, args.seed)
    settings = bench_settings()
    driver = fresh_database(settings)
    register_demo_sources(driver, settings)
    manifest = json.loads((directory / "manifest.json").read_text())
    totals: dict[str, list[float]] = {}
    started = time.monotonic()
    for entry in manifest["files"]:
        summary = ingest_file(
            driver,
            settings,
            directory / entry["path"],
            entry["source"],
            entry["file_type"],
            batch_size=args.batch_size,
            show_progress=False,
        )
        rows, seconds = totals.setdefault(entry["file_type"], [0, 0.0])
        totals[entry["file_type"]] = [rows + summary.rows, seconds + summary.seconds]
    elapsed = time.monotonic() - started
    driver.close()
    print(f"people: {args.people}  seed: {args.seed}  batch size: {args.batch_size}")
    for file_type, (rows, seconds) in totals.items():
        rate = rows / seconds
        print(f"  {file_type:<12} {int(rows):>9} rows  {seconds:7.1f} s  {rate:>9,.0f} rows/s")
    records, record_seconds = totals["records"]
    all_rows = sum(r for r, _ in totals.values())
    print(f"source records/s (records alone): {records / record_seconds:,.0f}")
    print(f"all rows/s: {all_rows / elapsed:,.0f} ({int(all_rows)} rows in {elapsed:.1f} s)")
    print_peak_memory(settings, "ingest process")


if __name__ == "__main__":
    main()
