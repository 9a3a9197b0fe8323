"""Fellegi-Sunter scoring speed: pairs per second on Febrl 4's candidate pairs. No Neo4j.

    .venv/bin/python bench/fs_pairs.py

Prints pairs/s for ``CompiledModel.weight`` (the batch hot path), ``score_pair`` (levels and
weights for an explanation) and ``CompiledModel.vector`` (training), and the p50 / p99 of
scoring one record against its candidates (real-time resolution's pure part), in ms.
"""

from __future__ import annotations

import statistics
import time
from collections import defaultdict

from quality_offline import MAX_BLOCK, load_set

from graph.resolution.blocking import pairs_sharing_keys, probabilistic_keys
from graph.resolution.fs_score import compile_model, score_pair, term_frequencies
from graph.resolution.model import load_model


def main() -> None:
    features = load_set(4)
    keys = {k: probabilistic_keys(f) for k, f in features.items()}
    pairs = sorted(pairs_sharing_keys(keys, MAX_BLOCK))
    model = load_model()
    tf = term_frequencies(features.values(), [c.field for c in model.comparisons])
    compiled = compile_model(model, tf)
    for name, fn in (
        ("weight", compiled.weight),
        ("score_pair", compiled.score),
        ("vector", compiled.vector),
    ):
        started = time.perf_counter()
        for a, b in pairs:
            fn(features[a], features[b])
        seconds = time.perf_counter() - started
        print(f"{name:10} {len(pairs):7} pairs {len(pairs) / seconds:10,.0f} pairs/s")
    started = time.perf_counter()
    for a, b in pairs[:20_000]:
        score_pair(features[a], features[b], model, tf)
    print(
        f"score_pair(model) {min(20_000, len(pairs)) / (time.perf_counter() - started):10,.0f}"
        " pairs/s (compiled form cached)"
    )
    candidates: dict[str, list[str]] = defaultdict(list)
    for a, b in pairs:
        candidates[a].append(b)
        candidates[b].append(a)
    times = []
    for key, others in list(candidates.items())[:2000]:
        started = time.perf_counter()
        for other in others:
            compiled.weight(features[key], features[other])
        times.append((time.perf_counter() - started) * 1000)
    times.sort()
    print(
        f"one record vs its candidates: p50 {statistics.median(times):.3f} ms, "
        f"p99 {times[int(len(times) * 0.99)]:.3f} ms"
    )


if __name__ == "__main__":
    main()
