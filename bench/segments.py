"""Segment count and audience export benchmark on N demo people.

    .venv/bin/python bench/segments.py --people 100000 [--seed 42] [--reuse] [--runs 3]

Bulk-loads N demo people with all their events (``c360 load``; ``--reuse`` keeps a benchmark
database that already holds them), then for two segments that combine a purchase condition,
a cart condition and consent prints the count time (best and median of ``--runs``) and the
export time in people/s (segment members read, suppressed and written as CSV, recorded as an
``(:Export)``). Times are relative to the demo's end date.

Targets (issue 14, reported, not asserted): a count over 1M people in < 2 s, export at
>= 20,000 people/s.
"""

from __future__ import annotations

import argparse
import io
import json
import statistics
import time
from datetime import UTC, datetime

from _common import bench_settings, demo_data, fresh_database, register_demo_sources

from graph import db
from graph.demo._clock import END
from graph.services import activation, segments
from graph.services.bulkload import bulk_load, manifest_files
from graph.services.segment_definition import validate_definition

AS_OF = datetime.fromtimestamp(END, UTC)
CONSENT = {"consent": {"channel": "EMAIL", "purpose": "MARKETING", "status": "GRANTED"}}
PURCHASE = {"purchase": {"category": "Footwear", "withinDays": 365}}
CART = {"abandonedCart": {"olderThanHours": 1, "withinDays": 90}}
DEFINITIONS = {
    "all-three": {"and": [PURCHASE, CART, CONSENT]},
    "buyers-or-carts": {"and": [CONSENT, {"or": [PURCHASE, CART]}]},
}


def _people(driver, settings) -> int:
    rows, _, _ = driver.execute_query(
        "MATCH (p:Person) RETURN count(p) AS n", database_=settings.neo4j_database
    )
    return int(rows[0]["n"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--reuse", action="store_true", help="keep a loaded benchmark database")
    args = parser.parse_args()
    settings = bench_settings()
    driver = db.connect(settings)
    loaded = _people(driver, settings)
    driver.close()
    if not args.reuse or loaded == 0:
        directory = demo_data(args.people, args.seed)
        driver = fresh_database(settings)
        register_demo_sources(driver, settings)
        driver.close()
        started = time.perf_counter()
        report = bulk_load(
            settings, manifest_files(directory / "manifest.json"), show_progress=False
        )
        print(
            f"bulk load with events: {time.perf_counter() - started:.0f} s, {report.people} people"
        )
    driver = db.connect(settings)
    people = _people(driver, settings)
    print(f"people in the database: {people:,}")
    results = {}
    for name, definition in DEFINITIONS.items():
        if _missing(driver, settings, name):
            segments.create_segment(
                driver, settings, name, definition, actor="bench", segment_id=name
            )
        compiled = segments.compile_segment(
            driver, settings, validate_definition(definition), as_of=AS_OF
        )
        times, count = [], 0
        for _ in range(args.runs):
            started = time.perf_counter()
            count = segments.count_members(driver, settings, compiled)
            times.append(time.perf_counter() - started)
        out = io.StringIO()
        started = time.perf_counter()
        view = activation.export_audience(
            driver, settings, name, "EMAIL", "MARKETING", out, actor="bench", as_of=AS_OF
        )
        export_s = time.perf_counter() - started
        rate = view.candidates / export_s if export_s else 0.0
        print(
            f"{name}: {count:,} members of {people:,}; count best {min(times):.2f} s, "
            f"median {statistics.median(times):.2f} s; export {export_s:.2f} s = "
            f"{rate:,.0f} people/s ({view.exported:,} exported, suppressed "
            + ", ".join(f"{r} {n}" for r, n in view.suppressed)
            + ")"
        )
        results[name] = {
            "members": count,
            "count_s": round(min(times), 3),
            "export_s": round(export_s, 3),
            "export_people_per_s": round(rate),
        }
    driver.close()
    print(json.dumps({"people": people, **results}))


def _missing(driver, settings, segment_id: str) -> bool:
    from graph.store import segments as store

    return store.get_segment(driver, settings, segment_id) is None


if __name__ == "__main__":
    main()
