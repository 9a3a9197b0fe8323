"""Bulk first load benchmark: ``c360 load`` of N demo people into an empty database.

    .venv/bin/python bench/load.py --people 100000 [--seed 42] [--events] [--transactions]

Generates N demo people (cached), registers the four demo sources in an empty benchmark
database and bulk-loads every records file (``--events``: the other files too, ingested
after). Prints source records/s end to end (parse, resolve, write, restart, migrations), the
seconds of each phase, the peak memory, and, measured in the same run, the floor: the rate
of ``neo4j-admin import`` on the very CSV files of this load (its own wall time plus the
server restart it needs), with the ratio. With ``--transactions`` (or a ``NEO4J_URI``
server) the writer is batched transactions, and the floor is ``bench/floor.py``'s record
graph through 2 transactional writers instead.

Targets (issue 13): 1M demo source records (570,000 people) in <= 5 minutes, >= 60% of the
importer's own rate for the same graph.
"""

from __future__ import annotations

import argparse
import json

from _common import (
    bench_settings,
    demo_data,
    fresh_database,
    print_peak_memory,
    register_demo_sources,
)
from floor import transactional_floor

from graph.services.bulkload import bulk_load, manifest_files


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--events", action="store_true", help="load the event files too")
    parser.add_argument("--transactions", action="store_true", help="write with transactions")
    args = parser.parse_args()
    directory = demo_data(args.people, args.seed)
    settings = bench_settings()
    driver = fresh_database(settings)
    register_demo_sources(driver, settings)
    driver.close()
    files = [
        f
        for f in manifest_files(directory / "manifest.json")
        if args.events or f.file_type == "records"
    ]
    report = bulk_load(
        settings,
        files,
        use_import=False if args.transactions else None,
        show_progress=False,
    )
    records = report.records
    print(f"people: {args.people}  seed: {args.seed}  source records: {records}")
    print(
        f"bulk load ({report.writer}): {report.seconds:.1f} s = {report.rate:,.0f} records/s "
        f"end to end; {report.people} people, {report.candidate_pairs} candidate pairs"
    )
    print("  phases: " + ", ".join(f"{k} {v:.1f} s" for k, v in report.phases.items()))
    print_peak_memory(settings, "load process")
    if report.writer == "neo4j-admin import":
        floor_s = report.phases["import"] + report.phases["restart"]
        floor = records / floor_s
        print(
            f"floor (neo4j-admin import of this load's own CSV files + restart): "
            f"{floor_s:.1f} s = {floor:,.0f} records/s; ratio {report.rate / floor:.0%}"
        )
    else:
        floor = transactional_floor(settings, records, writers=2)
        print(
            f"floor (bench/floor.py record graph, 2 transactional writers, {records} records): "
            f"{floor:,.0f} records/s; ratio {report.rate / floor:.0%}"
        )
    print(json.dumps({"records": records, "rate": round(report.rate), "floor": round(floor)}))


if __name__ == "__main__":
    main()
