"""Fellegi-Sunter scoring: the level of every comparison of a record pair and its match weight.

Pure; no Neo4j. A :class:`~graph.resolution.model.Model` is compiled once
(:func:`compile_model`) into per-comparison level functions and precomputed log2 weights, so a
pair costs one attribute fetch per record, a few string tests and, only when values differ,
the fuzzy scorers of :mod:`graph.resolution.comparisons`.

Term-frequency adjustment (Splink, topic guide *Term frequency adjustments*): for an ``exact``
level with ``tf = true``, u is the frequency of the shared value among the records
(``max(frequency, tf_min_u)``) instead of the level's average u, so a shared "smith" weighs
less than a shared "zabrocki". Frequencies come from a :class:`TermFrequencies` table.
"""

from __future__ import annotations

import json
import math
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from operator import attrgetter
from typing import Any

from graph.resolution.comparisons import SCORERS
from graph.resolution.features import Features
from graph.resolution.model import Comparison, Level, Model

__all__ = [
    "CompiledModel",
    "PairScore",
    "MIN_TF_VALUES",
    "TermFrequencies",
    "compile_model",
    "match_probability",
    "score_pair",
    "term_frequencies",
    "tf_from_json",
    "tf_to_json",
]


#: Term frequencies counted on fewer values than this are not used (the level's u is).
MIN_TF_VALUES = 100


@dataclass(frozen=True, slots=True)
class TermFrequencies:
    """Value counts per field: ``counts[field][value]`` records of ``totals[field]`` non-empty."""

    counts: dict[str, dict[str, int]] = field(default_factory=dict)
    totals: dict[str, int] = field(default_factory=dict)

    def frequency(self, field_name: str, value: str) -> float | None:
        """The share of records holding ``value`` (0-1); None when the field is not counted or
        was counted on fewer than :data:`MIN_TF_VALUES` values (then the level's own u
        holds: a share of a handful of values says nothing, and a field the training data
        never held, such as a national id, must not weigh every later value as if each were
        everyone's). A value not in the table counts once (tables may keep only values seen
        twice or more)."""
        counts = self.counts.get(field_name)
        total = self.totals.get(field_name, 0)
        if counts is None or total < MIN_TF_VALUES:
            return None
        return counts.get(value, 1) / total


def term_frequencies(records: Iterable[Features], fields: Iterable[str]) -> TermFrequencies:
    """Count the non-empty values of ``fields`` over ``records``."""
    names = list(fields)
    counters: dict[str, Counter[str]] = {f: Counter() for f in names}
    for r in records:
        for f in names:
            value = getattr(r, f)
            if value:
                counters[f][value] += 1
    return TermFrequencies(
        {f: dict(c) for f, c in counters.items()}, {f: sum(c.values()) for f, c in counters.items()}
    )


@dataclass(frozen=True, slots=True)
class PairScore:
    """A scored pair: per comparison (in model order) its level name and weight (bits), the
    total match weight (prior included), the match probability, and whether the model's swap
    fields were compared exchanged."""

    comparisons: tuple[str, ...]
    levels: tuple[str, ...]
    weights: tuple[float, ...]
    weight: float
    probability: float
    swapped: bool = False


def match_probability(weight: float) -> float:
    """2^w / (1 + 2^w), computed without overflow."""
    if weight >= 0:
        return 1.0 / (1.0 + 2.0**-weight)
    odds = 2.0**weight
    return odds / (1.0 + odds)


def _one_edit(a: str, b: str) -> bool:
    """One substitution, insertion, deletion or adjacent transposition apart (a != b)."""
    la, lb = len(a), len(b)
    if la == lb:
        diff = [i for i in range(la) if a[i] != b[i]]
        return len(diff) == 1 or (
            len(diff) == 2
            and diff[1] == diff[0] + 1
            and a[diff[0]] == b[diff[1]]
            and a[diff[1]] == b[diff[0]]
        )
    if abs(la - lb) != 1:
        return False
    short, long = (a, b) if la < lb else (b, a)
    i = next((i for i in range(len(short)) if short[i] != long[i]), len(short))
    return short[i:] == long[i + 1 :]


def _test(level: Level) -> Callable[[Any, Any], bool]:
    kind = level.kind
    if kind == "exact":
        return lambda a, b: a == b
    if kind == "fuzzy":
        scorer, threshold = SCORERS[level.scorer], level.threshold
        return lambda a, b: scorer(a, b) >= threshold
    if kind == "one_edit":
        return lambda a, b: a == b or _one_edit(str(a), str(b))
    if kind == "date_swap":
        return lambda a, b: a[:4] == b[:4] and a[5:7] == b[8:10] and a[8:10] == b[5:7]
    if kind == "year_month":
        return lambda a, b: a[:7] == b[:7]
    if kind == "initial":
        return lambda a, b: (len(a) == 1 or len(b) == 1) and a[0] == b[0]
    return lambda a, b: True  # else


def _steps(c: Comparison, indices: Sequence[int]) -> list[tuple[int, Any, float, Any]]:
    """(index, scorer, threshold, test) of the levels ``indices`` but their last (else)."""
    return [
        (n, SCORERS[lv.scorer] if lv.kind == "fuzzy" else None, lv.threshold, _test(lv))
        for n in indices[:-1]
        for lv in (c.levels[n],)
    ]


def _walk(steps: Sequence[tuple[int, Any, float, Any]], last: int, a: Any, b: Any) -> int:
    # fuzzy levels keep their scorer, so consecutive bands of one scorer (jaro_winkler 92,
    # then 80) cost one call
    scored_by, scored = None, 0.0
    for n, scorer, threshold, test in steps:
        if scorer is None:
            if test(a, b):
                return n
            continue
        if scorer is not scored_by:
            scored_by, scored = scorer, scorer(a, b)
        if scored >= threshold:
            return n
    return last


def _level_function(c: Comparison) -> Callable[[Any, Any], int]:
    """(value a, value b) -> level index; 0 when either is empty."""
    steps = _steps(c, range(1, len(c.levels)))
    last = len(c.levels) - 1
    exact_first = len(c.levels) > 2 and c.levels[1].kind == "exact"

    def level(a: Any, b: Any) -> int:
        if not a or not b:
            return 0
        if a == b and exact_first:  # equal values: the exact level, no scorer called
            return 1
        return _walk(steps, last, a, b)

    return level


def _conditional_function(c: Comparison) -> Callable[[Any, Any, bool], int]:
    """(value a, value b, whether the ``when`` field agrees) -> level index; 0 when either
    value is empty."""
    inside, outside = c.groups()
    steps_in, steps_out = _steps(c, inside), _steps(c, outside)
    last_in, last_out = inside[-1], outside[-1]
    exact_in = c.levels[inside[0]].kind == "exact"
    exact_out = c.levels[outside[0]].kind == "exact"

    def level(a: Any, b: Any, agree: bool) -> int:
        if not a or not b:
            return 0
        if agree:
            if a == b and exact_in:
                return inside[0]
            return _walk(steps_in, last_in, a, b)
        if a == b and exact_out:
            return outside[0]
        return _walk(steps_out, last_out, a, b)

    return level


def _never(a: Any, b: Any) -> int:
    return 0


class CompiledModel:
    """A model ready to score: level functions, log2 weights per level, tf weights.

    ``weights[c][level]`` is the weight in bits of level ``level`` of comparison ``c``.
    """

    def __init__(self, model: Model, tf: TermFrequencies | None = None):
        self.model = model
        self.tf = tf
        self.names = tuple(c.name for c in model.comparisons)
        self.fields = tuple(c.field for c in model.comparisons)
        self.level_names = tuple(c.level_names() for c in model.comparisons)
        self.weights = tuple(tuple(lv.weight for lv in c.levels) for c in model.comparisons)
        self.prior_weight = model.prior_weight
        # conditional comparisons (see graph.resolution.model) are scored apart, after the
        # others: their slot in ``_functions`` answers the null level, weight 0
        self._functions = tuple(_never if c.when else _level_function(c) for c in model.comparisons)
        self._conditional = tuple(
            (n, c.when, _conditional_function(c)) for n, c in enumerate(model.comparisons) if c.when
        )
        self._values = (
            attrgetter(*self.fields)
            if len(self.fields) > 1
            else (lambda r: (getattr(r, self.fields[0]),))
        )
        # comparison indices whose field is the first / second swap field
        self._swap = (
            (
                tuple(n for n, f in enumerate(self.fields) if f == model.swap[0]),
                tuple(n for n, f in enumerate(self.fields) if f == model.swap[1]),
            )
            if model.swap
            else None
        )
        self._tf_level: dict[int, tuple[int, float, float, dict[str, float]]] = {}
        for n, c in enumerate(model.comparisons):
            for k, lv in enumerate(c.levels):
                if lv.tf and tf is not None and c.field in tf.counts:
                    self._tf_level[n] = (k, math.log2(lv.m), max(lv.tf_min_u, 1e-12), {})

    def _aligned(self, a: Features, b: Features) -> tuple[Sequence[Any], Sequence[Any], bool]:
        va, vb = self._values(a), self._values(b)
        if self._swap is None:
            return va, vb, False
        gi, fi = self._swap
        g, f = gi[0], fi[0]
        ga, fa, gb, fb = va[g], va[f], vb[g], vb[f]
        if (ga and ga == gb) or (fa and fa == fb):
            return va, vb, False
        crossed = (
            (ga and ga == fb)
            or (fa and fa == gb)
            or (ga and fa and gb and fb and _crossed_fits_better(ga, fa, gb, fb))
        )
        if not crossed:
            return va, vb, False
        exchanged = list(vb)
        for i in gi:
            exchanged[i] = fb
        for i in fi:
            exchanged[i] = gb
        return va, exchanged, True

    def vector(self, a: Features, b: Features) -> tuple[int, ...]:
        """The pair's level index per comparison (the comparison vector)."""
        va, vb, _ = self._aligned(a, b)
        vector = tuple(fn(x, y) for fn, x, y in zip(self._functions, va, vb, strict=True))
        if not self._conditional:
            return vector
        levels = list(vector)
        for n, when, fn in self._conditional:
            levels[n] = fn(va[n], vb[n], _agree(a, b, when))
        return tuple(levels)

    def _tf_weight(self, n: int, value: str) -> float:
        """The weight of comparison ``n``'s term-frequency level for a shared ``value``: its
        own weight when the table has no frequency for it."""
        k, log_m, min_u, memo = self._tf_level[n]
        w = memo.get(value)
        if w is None:
            assert self.tf is not None
            freq = self.tf.frequency(self.fields[n], value)
            w = self.weights[n][k] if freq is None else log_m - math.log2(max(freq, min_u))
            memo[value] = w
        return w

    def weight(self, a: Features, b: Features) -> float:
        """The pair's total match weight in bits (prior included)."""
        va, vb, _ = self._aligned(a, b)
        total = self.prior_weight
        tf_level = self._tf_level
        for n, (fn, x, y) in enumerate(zip(self._functions, va, vb, strict=True)):
            k = fn(x, y)
            if k and n in tf_level and k == tf_level[n][0]:
                total += self._tf_weight(n, x)
            else:
                total += self.weights[n][k]
        for n, when, cfn in self._conditional:
            k = cfn(va[n], vb[n], _agree(a, b, when))
            if k and n in tf_level and k == tf_level[n][0]:
                total += self._tf_weight(n, va[n])
            else:
                total += self.weights[n][k]
        return total

    def score(self, a: Features, b: Features) -> PairScore:
        """Every comparison's level and weight, the total and the match probability."""
        va, vb, swapped = self._aligned(a, b)
        levels, weights = [], []
        conditional = {n: (when, cfn) for n, when, cfn in self._conditional}
        for n, (fn, x, y) in enumerate(zip(self._functions, va, vb, strict=True)):
            if n in conditional:
                when, cfn = conditional[n]
                k = cfn(x, y, _agree(a, b, when))
            else:
                k = fn(x, y)
            levels.append(self.level_names[n][k])
            tf_level = self._tf_level.get(n)
            w = self._tf_weight(n, x) if tf_level and k and k == tf_level[0] else None
            weights.append(self.weights[n][k] if w is None else w)
        total = self.prior_weight + sum(weights)
        return PairScore(
            self.names, tuple(levels), tuple(weights), total, match_probability(total), swapped
        )


def _agree(a: Features, b: Features, field_name: str) -> bool:
    """Both records hold the same non-empty value of ``field_name``."""
    value = getattr(a, field_name)
    return bool(value) and value == getattr(b, field_name)


def _crossed_fits_better(ga: str, fa: str, gb: str, fb: str) -> bool:
    jw = SCORERS["jaro_winkler"]
    return jw(ga, fb) + jw(fa, gb) > jw(ga, gb) + jw(fa, fb) + 10.0


def compile_model(model: Model, tf: TermFrequencies | None = None) -> CompiledModel:
    """Compile ``model`` (with term frequencies ``tf``, if any) for fast scoring."""
    return CompiledModel(model, tf)


_CACHE: dict[tuple[int, int], CompiledModel] = {}


def score_pair(
    a: Features, b: Features, model: Model | CompiledModel, tf: TermFrequencies | None = None
) -> PairScore:
    """Score one pair. A :class:`Model` is compiled on first use and the compiled form kept
    (per model and tf object), so repeated calls cost only the scoring."""
    if isinstance(model, CompiledModel):
        return model.score(a, b)
    key = (id(model), id(tf))
    compiled = _CACHE.get(key)
    if compiled is None or compiled.model is not model or compiled.tf is not tf:
        if len(_CACHE) > 32:
            _CACHE.clear()
        compiled = _CACHE[key] = CompiledModel(model, tf)
    return compiled.score(a, b)


def tf_to_json(tf: TermFrequencies, *, min_count: int = 2) -> str:
    """Term frequencies as JSON ``{counts: {field: {value: n}}, totals: {field: n}}``, keeping
    only values seen at least ``min_count`` times (the others count once, see
    :meth:`TermFrequencies.frequency`), so the table stays small on a large store."""
    counts = {
        f: {v: n for v, n in sorted(values.items()) if n >= min_count}
        for f, values in sorted(tf.counts.items())
    }
    return json.dumps({"counts": counts, "totals": dict(sorted(tf.totals.items()))})


def tf_from_json(text: str) -> TermFrequencies:
    """The inverse of :func:`tf_to_json`; raises ``ValueError`` on malformed JSON."""
    data = json.loads(text)
    return TermFrequencies(
        {f: {str(v): int(n) for v, n in values.items()} for f, values in data["counts"].items()},
        {f: int(n) for f, n in data["totals"].items()},
    )
