"""Ingest benchmark: generate N demo people, ingest them into an empty database, print rates.

    .venv/bin/python bench/ingest.py --people 10000 [--seed 42] [--batch-size 5000]

1. Every file as ``c360 ingest --defer-resolution`` stores it: rows/s per file type, and
   source records/s for the records files alone (no resolution).
2. The records files again into an empty database as ``c360 ingest`` does by default:
   stored by two writers and resolved per batch behind them (records/s, resolution included).
3. The floor, measured in the same run on the same server: ``bench/floor.py``'s record graph
   (the record, its source, 3 identifiers, 2 blocking keys) through 2 transactional writers,
   for as many records; both rates are printed as ratios to it.

Targets (issue 13): file ingest with resolution >= 70% of the floor, records alone >= 85%.
Peak memory of this process and of the local Neo4j server is printed last.
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
from floor import transactional_floor

from graph.ingest import ingest_file
from graph.services.resolver import Resolver, resolve_after_ingest


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

    driver = fresh_database(settings)
    register_demo_sources(driver, settings)
    hook = resolve_after_ingest(Resolver(driver, settings, actor="bench"))
    resolved = 0
    started = time.monotonic()
    for entry in manifest["files"]:
        if entry["file_type"] == "records":
            resolved += ingest_file(
                driver,
                settings,
                directory / entry["path"],
                entry["source"],
                "records",
                batch_size=args.batch_size,
                show_progress=False,
                after_batch=hook,
            ).rows
    with_resolution = resolved / (time.monotonic() - started)
    driver.close()

    records, record_seconds = totals["records"]
    alone = records / record_seconds
    floor = transactional_floor(settings, int(records), writers=2)
    print(f"people: {args.people}  seed: {args.seed}  batch size: {args.batch_size}")
    for file_type, (rows, seconds) in totals.items():
        rate = rows / seconds
        print(f"  {file_type:<12} {int(rows):>9} rows  {seconds:7.1f} s  {rate:>9,.0f} rows/s")
    all_rows = sum(r for r, _ in totals.values())
    print(f"all rows/s: {all_rows / elapsed:,.0f} ({int(all_rows)} rows in {elapsed:.1f} s)")
    print(f"floor (record graph, 2 transactional writers, {int(records)} records): {floor:,.0f}/s")
    print(f"source records/s, records alone: {alone:,.0f} = {alone / floor:.0%} of the floor")
    print(
        f"source records/s, resolved per batch (c360 ingest): {with_resolution:,.0f} "
        f"= {with_resolution / floor:.0%} of the floor"
    )
    print_peak_memory(settings, "ingest process")


if __name__ == "__main__":
    main()
