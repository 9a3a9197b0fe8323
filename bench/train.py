"""Training benchmark: how long ``c360 model train`` takes on N demo people's records.

    .venv/bin/python bench/train.py --people 570000 [--seed 42]

Generates N demo people (cached), ingests every records file into an empty benchmark
database without resolution (training reads records, not people), then runs
:func:`graph.services.training.train_model` as ``c360 model train`` does and prints records,
candidate pairs, ingest and training seconds (wall, reading the records included), records/s
trained and the peak memory of this process and of the local Neo4j server. Target (issue 12):
minutes for 1,000,000 records (570,000 demo people give about 1,000,000).
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
from graph.services.training import train_model


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args()
    directory = demo_data(args.people, args.seed)
    settings = bench_settings()
    driver = fresh_database(settings)
    register_demo_sources(driver, settings)
    manifest = json.loads((directory / "manifest.json").read_text())
    started = time.monotonic()
    for entry in manifest["files"]:
        if entry["file_type"] == "records":
            ingest_file(
                driver,
                settings,
                directory / entry["path"],
                entry["source"],
                "records",
                errors_path=directory / "train-bench.errors.csv",
            )
    ingest_seconds = time.monotonic() - started

    def progress(stage: str, done: int, total: int) -> None:
        print(f"  {stage}: {done:,}/{total:,}", flush=True)

    report = train_model(driver, settings, activate=False, progress=progress)
    driver.close()
    print(f"people: {args.people}  records: {report.records:,}  ingest {ingest_seconds:.0f} s")
    print(
        f"training: {report.seconds:.1f} s for {report.records:,} records "
        f"({report.records / report.seconds:,.0f} records/s), "
        f"{report.candidate_pairs:,} candidate pairs"
    )
    print_peak_memory(settings)


if __name__ == "__main__":
    main()
