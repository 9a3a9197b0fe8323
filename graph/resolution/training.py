"""Training a Fellegi-Sunter model without labels: u by random sampling, m by EM. Pure.

Follows Splink's training (https://moj-analytical-services.github.io/splink/, topic guide
*Model training*; ``estimate_u_using_random_sampling`` and
``estimate_parameters_using_expectation_maximisation``), after Fellegi & Sunter (1969) and
Winkler's EM for record linkage (1988):

1. :func:`estimate_u`: u = how often each level occurs among random record pairs, which are
   almost all non-matches.
2. :func:`expectation_maximisation`, once per :class:`~graph.resolution.model.TrainingPass`:
   over the candidate pairs sharing a blocking key of the pass, EM estimates m and the share
   of matches λ with u fixed. The comparisons the pass blocks on are left out (every pair
   agrees on them, so their m cannot be learnt there); each m is averaged over the passes
   that estimate it.
3. :func:`estimate_prior`: the global λ, the expected number of matches among all candidate
   pairs (blocking is assumed to find almost every match) over all n(n-1)/2 record pairs.

Each candidate pair's comparison vector (level index per comparison) is computed once;
EM then iterates over the counts of distinct vectors (:func:`comparison_patterns`), so an
iteration costs O(#patterns), not O(#pairs). Probabilities are smoothed by ``pseudo_count``
(additive smoothing), so a level unseen in the sample keeps a small, finite weight.
"""

from __future__ import annotations

import math
import random
from collections import Counter
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TypeVar

from graph.resolution.blocking import pairs_sharing_keys
from graph.resolution.features import Features
from graph.resolution.fs_score import CompiledModel, compile_model
from graph.resolution.model import Model

__all__ = [
    "EMResult",
    "Progress",
    "Training",
    "comparison_patterns",
    "estimate_prior",
    "estimate_u",
    "expectation_maximisation",
    "train",
]

#: ``progress(stage, done, total)``: called while comparing pairs (the slow part).
Progress = Callable[[str, int, int], None]
Pattern = tuple[int, ...]
#: A record key: text in the graph, an index when sampling.
K = TypeVar("K", str, int)


@dataclass(frozen=True, slots=True)
class EMResult:
    """One EM pass: ``m[comparison]`` per level (index 0, the null level, is 1.0), the share
    of matches ``prior`` among the pass's pairs, iterations run, and whether the largest
    change of a parameter fell below the tolerance."""

    m: dict[str, list[float]]
    prior: float
    iterations: int
    converged: bool


@dataclass(frozen=True, slots=True)
class Training:
    """A trained model and per pass (block prefix) its pair count and EM result."""

    model: Model
    passes: dict[str, tuple[int, EMResult]]


def comparison_patterns(
    pairs: Iterable[tuple[K, K]],
    features: Mapping[K, Features],
    compiled: CompiledModel,
    *,
    progress: Progress | None = None,
    stage: str = "pairs",
    total: int = 0,
) -> Counter[Pattern]:
    """Counts of distinct comparison vectors over ``pairs`` (record keys into ``features``)."""
    counts: Counter[Pattern] = Counter()
    vector = compiled.vector
    for n, (a, b) in enumerate(pairs, 1):
        counts[vector(features[a], features[b])] += 1
        if progress is not None and n % 20_000 == 0:
            progress(stage, n, total)
    if progress is not None:
        progress(stage, total or sum(counts.values()), total or sum(counts.values()))
    return counts


def _smoothed(counts: Sequence[float], pseudo_count: float) -> list[float] | None:
    """Level probabilities from counts (index 0, null, excluded and set to 1.0)."""
    seen = sum(counts[1:])
    if seen <= 0:
        return None
    total = seen + pseudo_count * (len(counts) - 1)
    return [1.0] + [(c + pseudo_count) / total for c in counts[1:]]


def estimate_u(
    features: Sequence[Features],
    model: Model,
    *,
    sample_pairs: int = 200_000,
    seed: int = 0,
    pseudo_count: float = 0.5,
    progress: Progress | None = None,
) -> Model:
    """``model`` with u re-estimated from ``sample_pairs`` random pairs of distinct records
    (seeded by ``seed``); comparisons never compared (always null) keep their u."""
    n = len(features)
    if n < 2:
        return model
    rng = random.Random(seed)

    def pairs() -> Iterable[tuple[int, int]]:
        for _ in range(sample_pairs):
            i, j = rng.randrange(n), rng.randrange(n - 1)
            yield i, j + (j >= i)

    by_index = dict(enumerate(features))
    patterns = comparison_patterns(
        pairs(),
        by_index,
        compile_model(model),
        progress=progress,
        stage="u",
        total=sample_pairs,
    )
    u: dict[str, list[float]] = {}
    for c_index, c in enumerate(model.comparisons):
        counts = [0.0] * len(c.levels)
        for pattern, count in patterns.items():
            counts[pattern[c_index]] += count
        if (smoothed := _smoothed(counts, pseudo_count)) is not None:
            u[c.name] = smoothed
    return model.with_parameters(u=u)


def _posteriors(
    patterns: Sequence[Pattern],
    model: Model,
    m: Mapping[str, Sequence[float]],
    active: Sequence[int],
    prior: float,
) -> list[float]:
    """P(match | pattern) for each pattern, over the ``active`` comparisons."""
    log_odds = math.log2(prior / (1.0 - prior))
    log_ratio = {
        i: [0.0]
        + [
            math.log2(mi / lv.u)
            for mi, lv in zip(
                m[model.comparisons[i].name][1:], model.comparisons[i].levels[1:], strict=True
            )
        ]
        for i in active
    }
    out = []
    for pattern in patterns:
        w = log_odds + sum(log_ratio[i][pattern[i]] for i in active)
        out.append(1.0 / (1.0 + 2.0**-w) if w > -1000 else 0.0)
    return out


def expectation_maximisation(
    patterns: Mapping[Pattern, int],
    model: Model,
    *,
    deactivate: Collection[str] = (),
    prior: float | None = None,
    max_iterations: int = 100,
    tolerance: float = 1e-5,
    pseudo_count: float = 0.5,
) -> EMResult:
    """Estimate m and λ over counted comparison vectors, u fixed (the model's).

    ``prior`` (λ, the share of matches among these pairs) starts at the share of patterns
    whose evidence favours a match under the model, unless given. Stops when no m or λ moves
    more than ``tolerance``, or after ``max_iterations``.
    """
    keys = list(patterns)
    counts = [patterns[k] for k in keys]
    active = [i for i, c in enumerate(model.comparisons) if c.name not in deactivate]
    m = {c.name: [lv.m for lv in c.levels] for c in model.comparisons}
    if prior is None:
        p0 = _posteriors(keys, model, m, active, 0.5)
        prior = sum(n for p, n in zip(p0, counts, strict=True) if p > 0.5) / sum(counts)
    prior = min(max(prior, 1e-6), 1 - 1e-6)
    converged, iteration = False, 0
    for iteration in range(1, max_iterations + 1):  # noqa: B007  (reported below)
        posteriors = _posteriors(keys, model, m, active, prior)
        matches = sum(p * n for p, n in zip(posteriors, counts, strict=True))
        change = abs(matches / sum(counts) - prior)
        prior = min(max(matches / sum(counts), 1e-6), 1 - 1e-6)
        for i in active:
            c = model.comparisons[i]
            weighted = [0.0] * len(c.levels)
            for pattern, p, n in zip(keys, posteriors, counts, strict=True):
                weighted[pattern[i]] += p * n
            if (new := _smoothed(weighted, pseudo_count)) is not None:
                change = max(change, max(abs(a - b) for a, b in zip(new, m[c.name], strict=True)))
                m[c.name] = new
        if change < tolerance:
            converged = True
            break
    estimated = {model.comparisons[i].name: m[model.comparisons[i].name] for i in active}
    return EMResult(estimated, prior, iteration, converged)


def estimate_prior(
    patterns: Mapping[Pattern, int],
    model: Model,
    *,
    candidate_pairs: int,
    records: int,
    iterations: int = 50,
) -> float:
    """The global λ: expected matches among ``candidate_pairs`` (``patterns`` may count a
    sample of them) over all ``records * (records - 1) / 2`` pairs, by fixed-point iteration
    (each pair's match probability depends on λ)."""
    keys = list(patterns)
    counts = [patterns[k] for k in keys]
    sampled = sum(counts)
    all_pairs = records * (records - 1) / 2
    if not sampled or all_pairs <= 0:
        return model.prior
    everything = range(len(model.comparisons))
    m = {c.name: [lv.m for lv in c.levels] for c in model.comparisons}
    prior = model.prior
    for _ in range(iterations):
        posteriors = _posteriors(keys, model, m, everything, prior)
        expected = sum(p * n for p, n in zip(posteriors, counts, strict=True))
        new = min(max(expected * candidate_pairs / sampled / all_pairs, 1e-12), 0.5)
        if abs(math.log(new / prior)) < 1e-4:
            return new
        prior = new
    return prior


def train(
    features: Mapping[str, Features],
    keys: Mapping[str, Iterable[str]],
    model: Model,
    *,
    u_sample_pairs: int = 200_000,
    max_block: int = 200,
    max_pairs_per_pass: int = 500_000,
    seed: int = 0,
    max_iterations: int = 100,
    tolerance: float = 1e-5,
    progress: Progress | None = None,
) -> Training:
    """Train ``model`` on ``features`` (record key -> features) whose blocking keys are
    ``keys`` (record key -> keys, see :func:`~graph.resolution.blocking.probabilistic_keys`).

    u by :func:`estimate_u`; m by one EM pass per ``model.training`` pass over at most
    ``max_pairs_per_pass`` of its pairs (a seeded sample); then λ by :func:`estimate_prior`
    over a sample of all candidate pairs. Returns the model and each pass's result.
    """
    rng = random.Random(seed)
    records = sorted(features)
    model = estimate_u(
        [features[k] for k in records],
        model,
        sample_pairs=u_sample_pairs,
        seed=seed,
        progress=progress,
    )
    compiled = compile_model(model)
    keys = {k: list(v) for k, v in keys.items()}
    results: dict[str, tuple[int, EMResult]] = {}
    sums: dict[str, list[float]] = {}
    passes: dict[str, int] = {}
    for training_pass in model.training:
        pairs = _sample(
            pairs_sharing_keys(keys, max_block, training_pass.block), max_pairs_per_pass, rng
        )
        if not pairs:
            continue  # nothing shares this pass's keys: its comparisons keep their m
        patterns = comparison_patterns(
            pairs,
            features,
            compiled,
            progress=progress,
            stage=f"em {training_pass.block}",
            total=len(pairs),
        )
        result = expectation_maximisation(
            patterns,
            model,
            deactivate=training_pass.deactivate,
            max_iterations=max_iterations,
            tolerance=tolerance,
        )
        results[training_pass.block] = (len(pairs), result)
        for name, values in result.m.items():
            total = sums.setdefault(name, [0.0] * len(values))
            sums[name] = [t + v for t, v in zip(total, values, strict=True)]
            passes[name] = passes.get(name, 0) + 1
    model = model.with_parameters(
        m={name: [v / passes[name] for v in total] for name, total in sums.items()}
    )
    everything = pairs_sharing_keys(keys, max_block)
    sample = _sample(everything, max_pairs_per_pass, rng)
    patterns = comparison_patterns(
        sample, features, compile_model(model), progress=progress, stage="prior", total=len(sample)
    )
    prior = estimate_prior(patterns, model, candidate_pairs=len(everything), records=len(records))
    return Training(model.with_parameters(prior=prior), results)


def _sample(pairs: set[tuple[str, str]], limit: int, rng: random.Random) -> list[tuple[str, str]]:
    ordered = sorted(pairs)
    return ordered if len(ordered) <= limit else rng.sample(ordered, limit)
