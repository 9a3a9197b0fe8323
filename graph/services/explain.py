"""Explanations: why two records are (or are not) one person, and why a person holds each
of its records. Read-only."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, LiteralString

import neo4j

from graph.db import translate_errors
from graph.errors import NotFound
from graph.resolution.features import features_of
from graph.resolution.fs_score import CompiledModel, PairScore, match_probability
from graph.resolution.plan import conflict_penalty, hard_conflict
from graph.resolution.rules import RuleSet
from graph.resolution.scoring import Verdict, compare
from graph.settings import Settings
from graph.store.components import RECORD_FIELDS

__all__ = [
    "LinkExplanation",
    "PairExplanation",
    "PersonExplanation",
    "explain_pair",
    "explain_person",
]

_RECORDS: LiteralString = (
    """
UNWIND $keys AS key
MATCH (x:SourceRecord {key: key})
OPTIONAL MATCH (p:Person)-[:HAS_RECORD]->(x)
RETURN x.key AS key, x.source AS source, """
    + RECORD_FIELDS
    + """ AS props, p.id AS person,
       [(x)-[l:MUST_LINK|CANNOT_LINK]-(y:SourceRecord) WHERE y.key IN $keys
        | {type: type(l), actor: l.actor, at: toString(l.at), reason: l.reason}] AS steward
"""
)

_PERSON: LiteralString = """
MATCH (p:Person {id: $id})
RETURN p.id AS id, [(a:PersonAlias)-[:ALIAS_OF]->(p) | a.id] AS aliases,
       [(p)-[h:HAS_RECORD]->(r:SourceRecord)-[:FROM]->(s:Source) |
        {key: r.key, source: s.id, rule: h.rule, score: h.score, scores: h.scores,
         matched: h.matched, linkedAt: toString(h.linkedAt), actor: h.actor,
         explainedAt: toString(h.explainedAt)}] AS links
"""


@dataclass(frozen=True, slots=True)
class PairExplanation:
    """Why records ``a`` and ``b`` are or are not the same person.

    ``verdict`` has every rule's scores (``None`` where a value is missing), the matching rule
    and any conflict; ``steward`` the must-link / cannot-link between them, if any;
    ``model`` the match model's score (each comparison's level and weight in bits, the total)
    with its ``link`` and ``review`` thresholds and ``model_version``.
    """

    a: str
    b: str
    person_a: str | None
    person_b: str | None
    verdict: Verdict
    steward: dict | None
    model: PairScore | None = None
    link: float | None = None
    review: float | None = None
    model_version: str | None = None
    penalty: float = 0.0  # soft conflicts' bits, added to the model's weight (rules' penalty)
    hard_conflict: bool = False  # a hard conflict: the model may not link them either

    @property
    def match_weight(self) -> float | None:
        """The weight resolution decides on: the model's plus the conflict penalty (bits)."""
        return None if self.model is None else self.model.weight + self.penalty

    @property
    def same_person(self) -> bool:
        return self.person_a is not None and self.person_a == self.person_b

    def as_dict(self) -> dict[str, Any]:
        """The explanation as JSON-ready data (camelCase keys, weights in bits)."""
        return {
            "recordKeyA": self.a,
            "recordKeyB": self.b,
            "personA": self.person_a,
            "personB": self.person_b,
            "samePerson": self.same_person,
            "summary": self.summary(),
            "matchedRule": self.verdict.evidence.rule if self.verdict.evidence else None,
            "conflict": self.verdict.conflict,
            "steward": self.steward,
            "rules": [
                {"rule": o.rule, "passed": o.passed, "scores": dict(o.scores)}
                for o in self.verdict.outcomes
            ],
            "model": None
            if self.model is None
            else {
                "version": self.model_version,
                "comparisons": [
                    {"comparison": n, "level": lv, "weight": round(w, 2)}
                    for n, lv, w in zip(
                        self.model.comparisons, self.model.levels, self.model.weights, strict=True
                    )
                ],
                "penalty": self.penalty,
                "matchWeight": round(self.model.weight + self.penalty, 2),
                "probability": match_probability(self.model.weight + self.penalty),
                "linkThreshold": self.link,
                "reviewThreshold": self.review,
            },
        }

    def summary(self) -> str:
        if self.steward:
            kind = "must-link" if self.steward["type"] == "MUST_LINK" else "cannot-link"
            reason = f": {self.steward['reason']}" if self.steward.get("reason") else ""
            decision = (
                f"a steward's {kind} by {self.steward.get('actor')} at "
                f"{self.steward.get('at')}{reason}"
            )
        elif self.verdict.conflict and (self.hard_conflict or self.model is None):
            decision = f"conflict: {self.verdict.conflict}"
        elif self.verdict.evidence and not self.verdict.conflict:
            ev = self.verdict.evidence
            decision = f"rule {ev.rule} matches with score {ev.score:g}"
        elif self.model is not None and self.link is not None:
            weight = self.model.weight + self.penalty
            verdict = (
                "links"
                if weight >= self.link
                else "a possible match"
                if self.review is not None and weight >= self.review
                else "no match"
            )
            if verdict == "links" and not self.same_person:
                verdict += (
                    ", but clustering kept their people apart: the other records of the two "
                    "people do not support the join (the no-chaining guard)"
                )
            penalty = f" {self.penalty:+g} for conflicts = {weight:+.2f}" if self.penalty else ""
            rules = (
                f"conflict ({self.verdict.conflict}) vetoes the rules"
                if self.verdict.conflict
                else "no rule matches"
            )
            decision = (
                f"{rules}; match weight {self.model.weight:+.2f} bits{penalty} (link >= "
                f"{self.link:g}) by model {self.model_version}: {verdict}"
            )
        else:
            decision = "no rule matches"
        same = "the same person" if self.same_person else "different people"
        return f"{self.a} and {self.b} are {same}; directly: {decision}"


@dataclass(frozen=True, slots=True)
class LinkExplanation:
    """Why a person holds one record: rule, score, per-field scores, the record it matched."""

    key: str
    source: str
    rule: str
    score: float | None
    scores: dict[str, float]
    matched: str | None
    linked_at: str | None
    actor: str | None
    explained_at: str | None = None


@dataclass(frozen=True, slots=True)
class PersonExplanation:
    """A person's records with the evidence of each link, and its absorbed IDs."""

    person_id: str
    aliases: tuple[str, ...]
    links: tuple[LinkExplanation, ...]


def explain_pair(
    driver: neo4j.Driver,
    settings: Settings,
    rules: RuleSet,
    a: str,
    b: str,
    model: CompiledModel | None = None,
) -> PairExplanation:
    """Compare two records with every rule and, when given, the match ``model``; raises
    :class:`NotFound` for an unknown key."""
    with translate_errors(settings):
        rows, _, _ = driver.execute_query(
            _RECORDS,
            keys=[a, b],
            database_=settings.neo4j_database,
            routing_=neo4j.RoutingControl.READ,
        )
    found = {r["key"]: r for r in rows}
    for key in (a, b):
        if key not in found:
            raise NotFound(f"no source record {key!r}")
    fa, fb = (
        features_of({**found[k]["props"], "key": k, "source": found[k]["source"]}) for k in (a, b)
    )
    steward = found[a]["steward"][0] if found[a]["steward"] else None
    score = model.score(fa, fb) if model else None
    return PairExplanation(
        a,
        b,
        found[a]["person"],
        found[b]["person"],
        compare(fa, fb, rules, explain=True),
        steward,
        score,
        model.model.link if model else None,
        model.model.review if model else None,
        model.model.version if model else None,
        conflict_penalty(model, score, fa, fb, rules) if model and score else 0.0,
        hard_conflict(fa, fb, rules),
    )


def explain_person(driver: neo4j.Driver, settings: Settings, person_id: str) -> PersonExplanation:
    """Every link of a person with its evidence; raises :class:`NotFound`."""
    with translate_errors(settings):
        rows, _, _ = driver.execute_query(
            _PERSON,
            id=person_id,
            database_=settings.neo4j_database,
            routing_=neo4j.RoutingControl.READ,
        )
    if not rows:
        raise NotFound(f"no person with id {person_id!r}")
    row = rows[0]
    links = tuple(
        sorted(
            (
                LinkExplanation(
                    x["key"],
                    x["source"],
                    x["rule"],
                    x["score"],
                    json.loads(x["scores"] or "{}"),
                    x["matched"],
                    x["linkedAt"],
                    x["actor"],
                    x["explainedAt"],
                )
                for x in row["links"]
            ),
            key=lambda link: (link.linked_at or "", link.key),
        )
    )
    return PersonExplanation(row["id"], tuple(sorted(row["aliases"])), links)
