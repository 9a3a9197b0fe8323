"""Resolution benchmark: batch throughput, quality, and real-time latency into N records.

    .venv/bin/python bench/resolve.py --people 100000 [--seed 42] [--sample 1000]

1. Generates N demo people (cached), ingests every records file into an empty database with
   resolution deferred, holding back ``--sample`` records, then resolves everything in batch.
   Prints records/s for ingest plus resolution together and for resolution alone, and the
   pairwise precision / recall / F1 against the generator's truth.
2. Ingests the held-back records one at a time, each resolved on arrival in the same
   transaction (the API's ``ingestRecord`` path, :meth:`Resolver.ingest_record`), and prints
   p50/p99 latency (ms) of the resolution step and of ingest plus resolution (the whole call).

Before the real-time records the resolver is warmed up (:meth:`Resolver.warm_up`, as the API
does at start): the figures are those of a running service, not of Neo4j planning its
statements for the first time (0.5-1.5 s, once per server).

3. Measures the floor in the same run (``bench/floor.py``'s record graph through 2
   transactional writers, as many records) and prints both batch rates as ratios to it.

Targets (issue 12): resolution alone >= 2,088 records/s on 100,000 people; real-time
resolution p50 <= 5 ms, p99 <= 25 ms into that store.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time

from _common import (
    bench_settings,
    demo_data,
    fresh_database,
    print_peak_memory,
    register_demo_sources,
)
from floor import transactional_floor

from graph.ingest import ingest_rows
from graph.ingest.reader import iter_rows
from graph.resolution.evaluate import evaluate, format_evaluation, read_truth
from graph.services.resolver import Resolver

_CLUSTERS = """
MATCH (r:SourceRecord) WHERE r.placeholder IS NULL
OPTIONAL MATCH (p:Person)-[:HAS_RECORD]->(r)
RETURN r.key AS key, coalesce(p.id, r.key) AS cluster
"""


def _percentile(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[int(q) - 1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument(
        "--sample", type=int, default=1000, help="records held back and then resolved one at a time"
    )
    args = parser.parse_args()
    directory = demo_data(args.people, args.seed)
    settings = bench_settings()
    driver = fresh_database(settings)
    registered = register_demo_sources(driver, settings)
    manifest = json.loads((directory / "manifest.json").read_text())
    record_files = [f for f in manifest["files"] if f["file_type"] == "records"]
    held: list[tuple[str, dict]] = []
    per_file = max(1, args.sample // len(record_files))

    started = time.monotonic()
    ingested = 0
    for entry in record_files:
        rows = list(iter_rows(directory / entry["path"]))
        held += [(entry["source"], row) for _, row in rows[-per_file:]]
        summary = ingest_rows(
            driver, settings, registered[entry["source"]], "records", rows[:-per_file]
        )
        ingested += summary.rows
    ingest_seconds = time.monotonic() - started
    resolver = Resolver(driver, settings, actor="bench")
    report = resolver.resolve_all(show_progress=False)
    total_seconds = time.monotonic() - started

    truth = read_truth(directory / manifest["truth"])
    predicted = {}
    with driver.session(database=settings.neo4j_database) as session:
        for row in session.run(_CLUSTERS):
            predicted[row["key"]] = row["cluster"]

    resolve_ms: list[float] = []
    total_ms: list[float] = []
    timed = Resolver(driver, settings, actor="bench")
    original = timed.resolve_in

    def resolve_timed(tx, keys, **kw):
        t0 = time.perf_counter()
        result = original(tx, keys, **kw)
        resolve_ms.append((time.perf_counter() - t0) * 1000)
        return result

    timed.resolve_in = resolve_timed  # type: ignore[method-assign]
    timed.warm_up()
    held_keys = set()
    for source_id, row in held:
        t0 = time.perf_counter()
        outcome, _ = timed.ingest_record(source_id, row)
        total_ms.append((time.perf_counter() - t0) * 1000)
        held_keys.add(outcome.key)
    driver.close()
    # the batch's quality: the held-back records were not in it, every other truth record was
    # meant to be, so one missing from the database counts against recall
    quality = evaluate(predicted, {k: v for k, v in truth.items() if k not in held_keys})

    print(f"people: {args.people}  records in batch: {ingested}  held back: {len(held)}")
    print(
        f"batch: ingest {ingest_seconds:.1f} s + resolution {report.seconds:.1f} s "
        f"= {ingested / total_seconds:,.0f} records/s (ingest + resolution); "
        f"resolution alone {ingested / report.seconds:,.0f} records/s"
    )
    print(
        "  phases: "
        + ", ".join(f"{k} {v:.1f} s" for k, v in report.phases.items())
        + f"; {report.candidate_pairs} candidate pairs, {report.people} people"
    )
    print(format_evaluation(quality))
    print(f"real time, {len(total_ms)} records into {ingested} (one at a time):")
    print(
        f"  resolution        p50 {_percentile(resolve_ms, 50):6.1f} ms  "
        f"p99 {_percentile(resolve_ms, 99):6.1f} ms"
    )
    print(
        f"  ingest+resolution p50 {_percentile(total_ms, 50):6.1f} ms  "
        f"p99 {_percentile(total_ms, 99):6.1f} ms"
    )
    # the floor, on the same server in the same run (it empties the database: last)
    floor = transactional_floor(settings, ingested, writers=2)
    print(
        f"floor (record graph, 2 transactional writers, {ingested} records): {floor:,.0f}/s; "
        f"ingest + resolution {ingested / total_seconds / floor:.0%} of it, "
        f"resolution alone {ingested / report.seconds / floor:.0%}"
    )
    print_peak_memory(settings)


if __name__ == "__main__":
    main()
