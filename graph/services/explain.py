"""Explanations: why two records are (or are not) one person, and why a person holds each
of its records. Read-only."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import LiteralString

import neo4j

from graph.db import translate_errors
from graph.errors import NotFound
from graph.resolution.features import features_of
from graph.resolution.fs_score import CompiledModel, PairScore
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

    @property
    def same_person(self) -> bool:
        return self.person_a is not None and self.person_a == self.person_b

    def summary(self) -> str:
        if self.steward:
            kind = "must-link" if self.steward["type"] == "MUST_LINK" else "cannot-link"
            reason = f": {self.steward['reason']}" if self.steward.get("reason") else ""
            decision = (
                f"a steward's {kind} by {self.steward.get('actor')} at "
                f"{self.steward.get('at')}{reason}"
            )
        elif self.verdict.conflict:
            decision = f"conflict: {self.verdict.conflict}"
        elif self.verdict.evidence:
            ev = self.verdict.evidence
            decision = f"rule {ev.rule} matches with score {ev.score:g}"
        elif self.model is not None and self.link is not None:
            verdict = (
                "links"
                if self.model.weight >= self.link
                else "a possible match"
                if self.review is not None and self.model.weight >= self.review
                else "no match"
            )
            decision = (
                f"no rule matches; match weight {self.model.weight:+.2f} bits (link >= "
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
    return PairExplanation(
        a,
        b,
        found[a]["person"],
        found[b]["person"],
        compare(fa, fb, rules, explain=True),
        steward,
        model.score(fa, fb) if model else None,
        model.model.link if model else None,
        model.model.review if model else None,
        model.model.version if model else None,
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
