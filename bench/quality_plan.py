"""Resolution quality through the product's pure path, without Neo4j: Febrl 1-4 and the demo.

What ``bench/quality.py`` measures through Neo4j, in a fraction of the time: every row is
parsed as ingest parses it (:func:`graph.ingest.pipeline.parse_row`, the source's mapping,
invalid values dropped), turned into the :class:`~graph.resolution.plan.RecordData` batch
resolution reads (identifiers carried by more than ``max_identifier_records`` records left
out), and resolved by :func:`graph.resolution.plan.make_plan` with the rules and the
untrained default model (no term frequencies, as resolution has none before training), then
with a model trained as ``c360 model train`` trains it (term frequencies stored as JSON and
read back). ``--rules`` and ``--model`` try other files. With ``--dump DIR`` the false
positive and false negative pairs of each run are written to ``DIR/<set>-<model>.txt``
with their comparison levels and weights.

    .venv/bin/python bench/quality_plan.py [--sets febrl1,febrl2,febrl3,febrl4,demo]
        [--people 2000] [--seed 7] [--dump DIR]
"""

from __future__ import annotations

import argparse
import itertools
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Mapping
from itertools import combinations
from pathlib import Path
from typing import Any

from graph.demo.generate import DEMO_SOURCES, generate
from graph.ingest.pipeline import parse_row
from graph.ingest.reader import iter_rows
from graph.models import CANONICAL_FIELDS, Source, SourceKind
from graph.resolution.blocking import probabilistic_keys
from graph.resolution.evaluate import evaluate, read_truth
from graph.resolution.features import Features
from graph.resolution.fs_score import (
    CompiledModel,
    compile_model,
    term_frequencies,
    tf_from_json,
    tf_to_json,
)
from graph.resolution.model import Model, load_model
from graph.resolution.plan import RecordData, candidate_pairs, make_plan
from graph.resolution.rules import RuleSet, load_rules
from graph.resolution.training import train

# the record properties batch resolution reads (graph.store.components.RECORD_FIELDS)
_NOT_PROPS = ("sourceId", "birthDate", "deviceIds", "cookieIds", "updatedAt")
_PROPS = (*(f for f in CANONICAL_FIELDS if f not in _NOT_PROPS), "attributes")


def _record_data(parsed: Mapping[str, Any], source: Source) -> tuple[dict[str, Any], list]:
    props = {k: parsed["props"].get(k) for k in _PROPS}
    birth = parsed["props"].get("birthDate")
    props["birthDate"] = birth.isoformat() if birth else None
    ids = [(i["type"], i["value"]) for i in parsed["identifiers"]]
    return props, ids


def _records(rows: list[tuple[Source, Mapping[str, Any]]], max_identifier: int) -> list[RecordData]:
    parsed = []
    for source, row in rows:
        p = parse_row(source, "records", row)
        parsed.append((p["key"], source, *_record_data(p, source)))
    holders = Counter(i for *_, ids in parsed for i in set(ids))
    return [
        RecordData(
            key,
            source.id,
            source.priority,
            f"{n:09d}",
            None,
            props,
            tuple(i for i in ids if holders[i] <= max_identifier),
        )
        for n, (key, source, props, ids) in enumerate(parsed)
    ]


def load_febrl(n: int) -> tuple[list[tuple[Source, Mapping[str, Any]]], dict[str, str]]:
    import sys

    sys.path.insert(0, str(Path(__file__).parent))
    from quality import _febrl  # the rows bench/quality.py ingests

    rows, truth = _febrl(n)
    source = Source("febrl", SourceKind.STORE, f"Febrl {n}", 10)
    return [(source, r) for r in rows], truth


def load_demo(people: int, seed: int) -> tuple[list[tuple[Source, Mapping[str, Any]]], dict]:
    sources = {s.id: Source(s.id, s.kind, s.name, s.priority) for s in DEMO_SOURCES}
    rows: list[tuple[Source, Mapping[str, Any]]] = []
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp)
        manifest = generate(out, people, seed)
        for file in manifest.files:
            if file.file_type != "records":
                continue
            for _, row in iter_rows(out / file.path):
                if isinstance(row, dict):
                    rows.append((sources[file.source], row))
        truth = {k: str(v) for k, v in read_truth(out / manifest.truth).items()}
    return rows, truth


def trained_model(features: Mapping[str, Features], base: Model) -> CompiledModel:
    """The model ``c360 model train`` would store, compiled with its stored tf table."""
    keys = {k: probabilistic_keys(f) for k, f in features.items()}
    model = train(features, keys, base, seed=0).model
    tf_fields = [c.field for c in model.comparisons if any(lv.tf for lv in c.levels)]
    tf_json = tf_to_json(term_frequencies(features.values(), tf_fields))
    return compile_model(model, tf_from_json(tf_json))


def _dump(
    path: Path,
    clusters: Mapping[str, int],
    truth: Mapping[str, str],
    features: Mapping[str, Features],
    pairs: set[tuple[str, str]],
    model: CompiledModel,
) -> None:
    by_cluster: dict[int, list[str]] = defaultdict(list)
    by_entity: dict[str, list[str]] = defaultdict(list)
    for k, c in clusters.items():
        by_cluster[c].append(k)
    for k, e in truth.items():
        by_entity[e].append(k)
    fp = [
        (a, b)
        for ks in by_cluster.values()
        for a, b in combinations(sorted(ks), 2)
        if truth.get(a) != truth.get(b)
    ]
    fn = [
        (a, b)
        for ks in by_entity.values()
        for a, b in combinations(sorted(ks), 2)
        if clusters.get(a) != clusters.get(b)
    ]
    with path.open("w", encoding="utf-8") as out:
        for label, listed in (("FP", fp), ("FN", fn)):
            out.write(f"## {label} {len(listed)}\n")
            for a, b in listed:
                s = model.score(features[a], features[b])
                levels = " ".join(
                    f"{n}={lv}:{w:+.1f}"
                    for n, lv, w in zip(s.comparisons, s.levels, s.weights, strict=True)
                    if lv != "null"
                )
                cand = "cand" if (a, b) in pairs else "nocand"
                out.write(f"{label} {a} {b} w={s.weight:.1f} {cand} {levels}\n")
                for k in (a, b):
                    f = features[k]
                    out.write(
                        f"    {k}: {f.givenName}|{f.familyName}|{f.birthDate}|{f.address}|"
                        f"{f.postcode}|{f.city}|{f.email}|{f.phone}|{f.nationalId}\n"
                    )


def _ids() -> Callable[[], str]:
    counter = itertools.count()
    return lambda: f"p{next(counter)}"


def run(
    name: str,
    records: list[RecordData],
    truth: Mapping[str, str],
    rules: RuleSet,
    base: Model,
    dump: Path | None,
) -> None:
    features = {r.key: r.features() for r in records}
    pairs = candidate_pairs(records, features, rules.limits.max_block_records)
    started = time.perf_counter()
    trained = trained_model(features, base)
    train_s = time.perf_counter() - started
    for label, model in (("default", compile_model(base)), ("trained", trained)):
        started = time.perf_counter()
        plan = make_plan(
            records,
            rules,
            new_id=_ids(),
            pairs=pairs,
            features=features,
            model=model,
        )
        seconds = time.perf_counter() - started
        clusters = {k: n for n, a in enumerate(plan.assignments) for k in a.keys}
        e = evaluate(clusters, truth)
        print(
            f"{name:<10} {label:<8} {len(records):>7} {e.precision:>9.4f} {e.recall:>7.4f} "
            f"{e.f1:>7.4f} {train_s if label == 'trained' else 0.0:>7.1f} {seconds:>9.1f}",
            flush=True,
        )
        if dump is not None:
            _dump(dump / f"{name}-{label}.txt", clusters, truth, features, pairs, model)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sets", default="febrl1,febrl2,febrl3,febrl4,demo")
    parser.add_argument("--people", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=7, help="demo seed")
    parser.add_argument("--dump", type=Path, default=None)
    parser.add_argument("--rules", type=Path, default=None, help="a rule file to try")
    parser.add_argument("--model", type=Path, default=None, help="a model file to try")
    args = parser.parse_args()
    if args.dump is not None:
        args.dump.mkdir(parents=True, exist_ok=True)
    rules = load_rules(args.rules)
    base = load_model(args.model)
    print(
        f"{'set':<10} {'model':<8} {'records':>7} {'precision':>9} {'recall':>7} {'F1':>7} "
        f"{'train s':>7} {'resolve s':>9}"
    )
    for name in args.sets.split(","):
        if name == "demo":
            rows, truth = load_demo(args.people, args.seed)
            label = f"demo{args.seed}"
        else:
            rows, truth = load_febrl(int(name.removeprefix("febrl")))
            label = name
        records = _records(rows, rules.limits.max_identifier_records)
        run(label, records, truth, rules, base, args.dump)


if __name__ == "__main__":
    main()
