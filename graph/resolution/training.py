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
4. u once more from the same random pairs, each weighed by its probability of being a
   non-match under the model of steps 1-3 (Winkler 1988 estimates u over the non-matches;
   Splink's random-sampling u ignores the few matches among random pairs, which on a small
   data set are not few: one pair in n/k, for k records per person).

Conditional levels (``when``, see :mod:`graph.resolution.model`) describe a comparison given
that another field agrees: a city given the postcode. Random pairs almost never agree on a
postcode, so their u is estimated where pairs do: in the pass blocking on that field, whose
pairs all agree on it. There the conditional comparisons are left out of the posterior (their
agreement follows from the blocked field) and, from the posteriors of the other comparisons,
both their m (posterior-weighted) and their u (weighted by 1 - posterior: the non-matches)
are estimated, as in Winkler's EM, which estimates u as well as m.

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
from dataclasses import dataclass, field
from typing import TypeVar

from graph.resolution.blocking import pairs_sharing_keys
from graph.resolution.features import Features
from graph.resolution.fs_score import CompiledModel, compile_model
from graph.resolution.model import Comparison, Model, TrainingPass

__all__ = [
    "EMResult",
    "Progress",
    "Training",
    "capped_at_exact",
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
    u: dict[str, list[float]] = field(default_factory=dict)
    #: per comparison in ``m``, which levels this pass estimated (others kept their m)
    estimated: dict[str, list[bool]] = field(default_factory=dict)


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


def _smoothed(
    c: Comparison,
    counts: Sequence[float],
    pseudo_count: float,
    current: Sequence[float],
    groups: Sequence[Sequence[int]] | None = None,
    prior: Sequence[float] | None = None,
) -> tuple[list[float], list[bool]] | None:
    """Level probabilities from counts, each group of levels (see
    :meth:`~graph.resolution.model.Comparison.groups`; default: all of them) normalised on its
    own; a group never seen keeps ``current``. Index 0 (null) is 1.0. Returns the values and
    which were estimated, or None when no group was seen.

    Each group gets ``pseudo_count`` pseudo-observations per level, spread evenly or, with
    ``prior`` (probabilities per level), in proportion to it: the mean of a Dirichlet prior,
    so a level seen in few pairs stays near what the model believed instead of near the
    group's average."""
    values, estimated = [1.0, *current[1:]], [False] * len(counts)
    for group in c.groups() if groups is None else groups:
        seen = sum(counts[n] for n in group)
        if seen <= 0:
            continue
        mass = pseudo_count * len(group)
        belief = sum(prior[n] for n in group) if prior is not None else 0.0
        for n in group:
            share = prior[n] / belief if prior is not None and belief > 0 else 1 / len(group)
            values[n] = (counts[n] + mass * share) / (seen + mass)
            estimated[n] = True
    return (values, estimated) if any(estimated) else None


def _unconditional(c: Comparison) -> list[list[int]]:
    """The groups of ``c`` random sampling can estimate: all but the conditional one."""
    groups = c.groups()
    return groups[1:] if c.when else groups


def estimate_u(
    features: Sequence[Features],
    model: Model,
    *,
    sample_pairs: int = 200_000,
    seed: int = 0,
    pseudo_count: float = 0.5,
    progress: Progress | None = None,
    non_matches: Model | None = None,
) -> Model:
    """``model`` with u re-estimated from ``sample_pairs`` random pairs of distinct records
    (seeded by ``seed``); comparisons never compared (always null) keep their u, and so do
    conditional levels (random pairs seldom meet their condition; see :func:`train`).

    With ``non_matches`` (a trained model), each random pair counts by its probability of
    being a non-match under that model, 1 - P(match | pattern), as Winkler's EM weighs u:
    on a small store the true matches among random pairs (one in n/k for k records per
    person) would otherwise make a shared identifier look common among strangers and cap
    the weight of its exact level."""
    patterns = _random_patterns(features, model, sample_pairs, seed, progress)
    return _u_from(patterns, model, pseudo_count, non_matches)


def _random_patterns(
    features: Sequence[Features],
    model: Model,
    sample_pairs: int,
    seed: int,
    progress: Progress | None,
) -> Counter[Pattern]:
    """The comparison vectors of ``sample_pairs`` random pairs of distinct records (they
    depend on the model's levels, not on its m and u)."""
    n = len(features)
    if n < 2:
        return Counter()
    rng = random.Random(seed)

    def pairs() -> Iterable[tuple[int, int]]:
        for _ in range(sample_pairs):
            i, j = rng.randrange(n), rng.randrange(n - 1)
            yield i, j + (j >= i)

    return comparison_patterns(
        pairs(),
        dict(enumerate(features)),
        compile_model(model),
        progress=progress,
        stage="u",
        total=sample_pairs,
    )


def _u_from(
    patterns: Mapping[Pattern, int],
    model: Model,
    pseudo_count: float,
    non_matches: Model | None,
) -> Model:
    """``model`` with u from the random pairs' ``patterns`` (see :func:`estimate_u`)."""
    weights = dict.fromkeys(patterns, 1.0)
    if non_matches is not None and patterns:
        keys = list(patterns)
        everything = range(len(non_matches.comparisons))
        m = {c.name: [lv.m for lv in c.levels] for c in non_matches.comparisons}
        posteriors = _posteriors(keys, non_matches, m, everything, non_matches.prior)
        weights = {k: 1.0 - p for k, p in zip(keys, posteriors, strict=True)}
    u: dict[str, list[float]] = {}
    for c_index, c in enumerate(model.comparisons):
        counts = [0.0] * len(c.levels)
        for pattern, count in patterns.items():
            counts[pattern[c_index]] += count * weights[pattern]
        current = [lv.u for lv in c.levels]
        if (smoothed := _smoothed(c, counts, pseudo_count, current, _unconditional(c))) is not None:
            u[c.name] = smoothed[0]
    return model.with_parameters(u=u)


def _posteriors(
    patterns: Sequence[Pattern],
    model: Model,
    m: Mapping[str, Sequence[float]],
    active: Sequence[int],
    prior: float,
    u: Mapping[str, Sequence[float]] | None = None,
) -> list[float]:
    """P(match | pattern) for each pattern, over the ``active`` comparisons (u: the model's,
    or ``u``'s for the comparisons it names)."""
    log_odds = math.log2(prior / (1.0 - prior))
    u = u or {}
    log_ratio = {
        i: [0.0]
        + [
            math.log2(mi / ui)
            for mi, ui in zip(
                m[c.name][1:], u.get(c.name) or [lv.u for lv in c.levels[1:]], strict=True
            )
        ]
        for i in active
        for c in (model.comparisons[i],)
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
    conditional: Collection[str] = (),
    prior: float | None = None,
    max_iterations: int = 100,
    tolerance: float = 1e-5,
    pseudo_count: float = 0.5,
) -> EMResult:
    """Estimate m and λ over counted comparison vectors, u fixed (the model's).

    ``prior`` (λ, the share of matches among these pairs) starts at the share of patterns
    whose evidence favours a match under the model, unless given. Stops when no m or λ moves
    more than ``tolerance``, or after ``max_iterations``. The ``conditional`` comparisons
    (those whose conditional levels these pairs meet) take no part in the posterior; their
    conditional levels' m and u are estimated from the final posteriors (``EMResult.u``).
    """
    keys = list(patterns)
    counts = [patterns[k] for k in keys]
    active = [i for i, c in enumerate(model.comparisons) if c.name not in deactivate]
    free_u = {
        c.name: [lv.u for lv in c.levels[1:]]
        for c in model.comparisons
        if c.name in conditional and c.when and c.name not in deactivate
    }
    m = {c.name: [lv.m for lv in c.levels] for c in model.comparisons}
    if prior is None:
        p0 = _posteriors(keys, model, m, active, 0.5)
        prior = sum(n for p, n in zip(p0, counts, strict=True) if p > 0.5) / sum(counts)
    prior = min(max(prior, 1e-6), 1 - 1e-6)
    converged, iteration = False, 0
    estimated = {
        model.comparisons[i].name: [False] * len(model.comparisons[i].levels) for i in active
    }
    for iteration in range(1, max_iterations + 1):  # noqa: B007  (reported below)
        posteriors = _posteriors(keys, model, m, active, prior, free_u)
        matches = sum(p * n for p, n in zip(posteriors, counts, strict=True))
        change = abs(matches / sum(counts) - prior)
        prior = min(max(matches / sum(counts), 1e-6), 1 - 1e-6)
        for i in active:
            c = model.comparisons[i]
            weighted = [0.0] * len(c.levels)
            for pattern, p, n in zip(keys, posteriors, counts, strict=True):
                weighted[pattern[i]] += p * n
            if (new := _smoothed(c, weighted, pseudo_count, m[c.name])) is not None:
                values, estimated[c.name] = new
                change = max(
                    change, max(abs(a - b) for a, b in zip(values, m[c.name], strict=True))
                )
                m[c.name] = values
            if c.name in free_u:
                others = [0.0] * len(c.levels)
                for pattern, p, n in zip(keys, posteriors, counts, strict=True):
                    others[pattern[i]] += (1.0 - p) * n
                current = [1.0, *free_u[c.name]]
                if (
                    new_u := _smoothed(c, others, pseudo_count, current, c.groups()[:1])
                ) is not None:
                    change = max(
                        change, max(abs(a - b) for a, b in zip(new_u[0], current, strict=True))
                    )
                    free_u[c.name] = new_u[0][1:]
        if change < tolerance:
            converged = True
            break
    found_m = {model.comparisons[i].name: m[model.comparisons[i].name] for i in active}
    found_u = {name: [1.0, *values] for name, values in free_u.items()}
    return EMResult(found_m, prior, iteration, converged, found_u, estimated)


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
    over a sample of all candidate pairs; then u again, from the same random pairs weighed by
    their probability of being non-matches. Returns the model and each pass's result.
    """
    rng = random.Random(seed)
    records = sorted(features)
    random_pairs = _random_patterns(
        [features[k] for k in records], model, u_sample_pairs, seed, progress
    )
    model = _u_from(random_pairs, model, 0.5, None)
    keys = {k: list(v) for k, v in keys.items()}
    results: dict[str, tuple[int, EMResult]] = {}
    sums: dict[str, list[float]] = {}
    passes: dict[str, list[int]] = {}
    # passes that estimate conditional u run first, so the others score with it
    ordered = sorted(model.training, key=lambda p: not _conditional_on(model, p))
    for training_pass in ordered:
        pairs = _sample(
            pairs_sharing_keys(keys, max_block, training_pass.block), max_pairs_per_pass, rng
        )
        if not pairs:
            continue  # nothing shares this pass's keys: its comparisons keep their m
        patterns = comparison_patterns(
            pairs,
            features,
            compile_model(model),
            progress=progress,
            stage=f"em {training_pass.block}",
            total=len(pairs),
        )
        result = expectation_maximisation(
            patterns,
            model,
            deactivate=training_pass.deactivate,
            conditional=_conditional_on(model, training_pass),
            max_iterations=max_iterations,
            tolerance=tolerance,
        )
        results[training_pass.block] = (len(pairs), result)
        if result.u:
            model = model.with_parameters(u=result.u)
        for name, values in result.m.items():
            total = sums.setdefault(name, [0.0] * len(values))
            seen = passes.setdefault(name, [0] * len(values))
            for n, (value, fresh) in enumerate(zip(values, result.estimated[name], strict=True)):
                if fresh:
                    total[n] += value
                    seen[n] += 1
    averaged = {}
    for c in model.comparisons:
        if c.name in sums:
            current = [lv.m for lv in c.levels]
            averaged[c.name] = [
                t / n if n else current[k]
                for k, (t, n) in enumerate(zip(sums[c.name], passes[c.name], strict=True))
            ]
    model = model.with_parameters(m=averaged)
    everything = pairs_sharing_keys(keys, max_block)
    sample = _sample(everything, max_pairs_per_pass, rng)
    patterns = comparison_patterns(
        sample, features, compile_model(model), progress=progress, stage="prior", total=len(sample)
    )
    prior = estimate_prior(patterns, model, candidate_pairs=len(everything), records=len(records))
    model = model.with_parameters(prior=prior)
    model = _u_from(random_pairs, model, 0.5, model)
    return Training(capped_at_exact(model), results)


def capped_at_exact(model: Model) -> Model:
    """``model`` with no level weighing more than the exact level of its group (the
    comparison's levels with the same condition; see :meth:`Comparison.groups`), by raising
    such a level's u to m / 2^(exact weight). Agreeing exactly is the strongest evidence a
    comparison gives, but a rare level's m/u ratio is estimated from few pairs: trained on
    500 demo people, a given name's ``initial`` level weighed +9.86 bits and ``exact`` +9.63,
    a family name's ``one_name_of_two`` +10.74 and ``exact`` +9.36. An exact level's term
    frequencies are left alone (a rare shared value may outweigh its level)."""
    u: dict[str, list[float]] = {}
    for c in model.comparisons:
        values = [lv.u for lv in c.levels]
        for group in c.groups():
            exact = next((n for n in group if c.levels[n].kind == "exact"), None)
            if exact is None:
                continue
            cap = c.levels[exact].weight
            for n in group:
                lv = c.levels[n]
                if n != exact and lv.kind != "else" and lv.u > 0 and lv.weight > cap:
                    values[n] = lv.m / 2.0**cap
        if values != [lv.u for lv in c.levels]:
            u[c.name] = values
    return model.with_parameters(u=u) if u else model


def _conditional_on(model: Model, training_pass: TrainingPass) -> list[str]:
    """The comparisons whose conditional levels every pair of ``training_pass`` meets: those
    conditional on the field of a comparison the pass blocks on (deactivates)."""
    blocked = {model.comparison(name).field for name in training_pass.deactivate}
    return [c.name for c in model.comparisons if c.when and c.when in blocked]


def _sample(pairs: set[tuple[str, str]], limit: int, rng: random.Random) -> list[tuple[str, str]]:
    ordered = sorted(pairs)
    return ordered if len(ordered) <= limit else rng.sample(ordered, limit)
