"""Scoring: apply the rule set to one pair of records. Pure; no Neo4j.

Conflicts are checked first (negative evidence vetoes any rule), then rules in file order; the
first rule whose comparisons all pass is the match. The verdict keeps every rule's scores so a
decision can be explained.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from graph.resolution.comparisons import score
from graph.resolution.features import Features
from graph.resolution.rules import Rule, RuleSet

__all__ = ["Evidence", "RuleOutcome", "Verdict", "compare", "conflict_of", "match_evidence"]


@dataclass(frozen=True, slots=True)
class Evidence:
    """Why two records match: the rule, the mean of its comparison scores, each score."""

    rule: str
    score: float
    scores: dict[str, float]


@dataclass(frozen=True, slots=True)
class RuleOutcome:
    """One rule tried on a pair: per-field scores (None = missing) and whether it passed."""

    rule: str
    scores: dict[str, float | None]
    passed: bool


@dataclass(frozen=True, slots=True)
class Verdict:
    """The result of comparing two records: ``evidence`` when a rule matched, ``conflict``
    (a reason) when negative evidence vetoed, and every rule's outcome for explanations."""

    evidence: Evidence | None
    conflict: str | None = None
    outcomes: tuple[RuleOutcome, ...] = field(default_factory=tuple)

    @property
    def match(self) -> bool:
        return self.evidence is not None and self.conflict is None


def conflict_of(a: Features, b: Features, rules: RuleSet) -> str | None:
    """The reason of the first conflict between ``a`` and ``b`` (both values set, different);
    conflicts with ``when`` fields weigh only in the match model and are not tried here."""
    for conflict in rules.conflicts:
        if conflict.when:
            continue
        va, vb = a.get(conflict.field), b.get(conflict.field)
        if va and vb and va != vb:
            return conflict.reason
    return None


def _try(rule: Rule, a: Features, b: Features, explain: bool) -> RuleOutcome:
    scores: dict[str, float | None] = {}
    passed = True
    for c in rule.comparisons:
        value = score(c.scorer, a.get(c.field), b.get(c.field))
        scores[c.field] = value
        if value is None or value < c.threshold:
            passed = False
            if not explain:
                break  # later comparisons cannot rescue the rule
    return RuleOutcome(rule.name, scores, passed)


def match_evidence(a: Features, b: Features, rules: RuleSet) -> Evidence | None:
    """The evidence of ``compare(a, b, rules)`` when it is a match, else None: the same
    conflicts and rules, tried the same way, without recording every rule's outcome."""
    for conflict in rules.conflicts:
        va, vb = getattr(a, conflict.field), getattr(b, conflict.field)
        if va and vb and va != vb and not conflict.when:
            return None
    for rule in rules.rules:
        comparisons = rule.comparisons
        values: list[float] = [0.0] * len(comparisons)
        for n in rule.order:
            c = comparisons[n]
            va, vb = getattr(a, c.field), getattr(b, c.field)
            if c.scorer == "exact" and va != vb and c.threshold > 0:
                break  # what score() would say, without its calls: most pairs stop here
            value = score(c.scorer, va, vb)
            if value is None or value < c.threshold:
                break
            values[n] = value
        else:
            scores = {c.field: v for c, v in zip(comparisons, values, strict=True)}
            return Evidence(rule.name, round(sum(values) / len(values), 2), scores)
    return None


def compare(a: Features, b: Features, rules: RuleSet, *, explain: bool = False) -> Verdict:
    """Compare two records. With ``explain`` every rule is tried and reported; otherwise
    scoring stops at the first passing rule (the hot path of resolution)."""
    conflict = conflict_of(a, b, rules)
    if conflict is not None and not explain:
        return Verdict(None, conflict)
    outcomes: list[RuleOutcome] = []
    evidence: Evidence | None = None
    for rule in rules.rules:
        outcome = _try(rule, a, b, explain)
        outcomes.append(outcome)
        if outcome.passed and evidence is None:
            values = [v for v in outcome.scores.values() if v is not None]
            evidence = Evidence(
                rule.name,
                round(sum(values) / len(values), 2),
                {k: v for k, v in outcome.scores.items() if v is not None},
            )
            if not explain:
                break
    return Verdict(evidence, conflict, tuple(outcomes))
