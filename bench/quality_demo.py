"""Offline quality of Fellegi-Sunter resolution on the demo data set. No Neo4j.

Generates ``c360 demo generate --people N --seed S`` into a temporary directory, parses every
records file as ingest does (:func:`graph.ingest.pipeline.parse_row`), builds features with
identifiers (email key, phone, loyalty id) as evidence, blocks on
:func:`~graph.resolution.blocking.probabilistic_keys` plus the identifiers, and prints
pairwise precision / recall / F1 against ``truth.csv`` for the default and the trained model.

    .venv/bin/python bench/quality_demo.py [--people 2000] [--seed 7]
"""

from __future__ import annotations

import argparse
import csv
import tempfile
import time
from pathlib import Path

from quality_offline import resolve

from graph.demo.generate import DEMO_SOURCES, generate
from graph.ingest.pipeline import parse_row
from graph.ingest.reader import iter_rows
from graph.models import Source, record_key
from graph.resolution.blocking import probabilistic_keys
from graph.resolution.evaluate import evaluate
from graph.resolution.features import Features, record_features
from graph.resolution.model import load_model
from graph.resolution.training import train


def load_demo(
    out: Path, people: int, seed: int
) -> tuple[dict[str, Features], dict[str, list[str]], dict[str, str]]:
    manifest = generate(out, people, seed)
    sources = {s.id: Source(s.id, s.kind, s.name, s.priority) for s in DEMO_SOURCES}
    features: dict[str, Features] = {}
    keys: dict[str, list[str]] = {}
    for file in manifest.files:
        if file.file_type != "records":
            continue
        source = sources[file.source]
        for _, row in iter_rows(out / file.path):
            if not isinstance(row, dict):
                continue
            parsed = parse_row(source, "records", row)
            ids = {i["type"]: i["value"] for i in parsed["identifiers"]}
            props = dict(parsed["props"], key=parsed["key"])
            f = record_features(
                parsed["key"],
                source.id,
                props,
                ids.get("EMAIL"),
                ids.get("PHONE"),
                ids.get("LOYALTY_ID"),
            )
            features[f.key] = f
            keys[f.key] = probabilistic_keys(f) + [f"{t}:{v}" for t, v in sorted(ids.items())]
    with (out / manifest.truth).open(encoding="utf-8") as handle:
        truth = {
            record_key(r["source"], r["sourceId"]): r["personId"] for r in csv.DictReader(handle)
        }
    return features, keys, truth


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--people", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        features, keys, truth = load_demo(Path(tmp), args.people, args.seed)
    default = load_model()
    started = time.perf_counter()
    trained = train(features, keys, default, seed=0).model
    train_seconds = time.perf_counter() - started
    for name, model in (("default", default), ("trained", trained)):
        started = time.perf_counter()
        clusters, pairs = resolve(features, keys, model)
        seconds = time.perf_counter() - started
        predicted = {k: n for n, members in enumerate(clusters) for k in members}
        r = evaluate(predicted, truth)
        print(
            f"demo {args.people}/{args.seed} {name:8} records {len(features)} pairs {pairs} "
            f"precision {r.precision:.4f} recall {r.recall:.4f} F1 {r.f1:.4f} "
            f"train {train_seconds if name == 'trained' else 0:.1f}s resolve {seconds:.2f}s"
        )


if __name__ == "__main__":
    main()
