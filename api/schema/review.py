"""The review queue in GraphQL: ``possibleMatches`` (strongest first) and a steward's
``acceptPossibleMatch`` (must-link) / ``rejectPossibleMatch`` (cannot-link)."""

from __future__ import annotations

import anyio
import strawberry
from strawberry.types import Info

from api.errors import graph_errors
from api.permissions import IsAdmin
from api.schema.pagination import Connection, Edge, keyset_connection, page_size
from api.schema.types import Person
from graph.errors import FieldError, ValidationError
from graph.services import explain
from graph.services.resolver import Resolver
from graph.store import review

__all__ = ["ReviewMutation", "ReviewQuery"]


@strawberry.type(description="One comparison of a possible match: its level and weight.")
class ComparisonWeight:
    comparison: str
    level: str
    weight: float = strawberry.field(description="log2(m/u) of the level, in bits.")


@strawberry.type(
    description="Two records the match model found between its review and link thresholds, "
    "in different people: a steward accepts (must-link) or rejects (cannot-link) it."
)
class PossibleMatch:
    key: str = strawberry.field(description="recordKeyA|recordKeyB, the pair's id.")
    record_key_a: str
    record_key_b: str
    person_a: str | None
    person_b: str | None
    weight: float = strawberry.field(description="The match weight, in bits.")
    model_version: str | None
    updated_at: str | None
    comparisons: list[ComparisonWeight]

    @classmethod
    def of(cls, m: review.PossibleMatch) -> PossibleMatch:
        return cls(
            key=m.key,
            record_key_a=m.a,
            record_key_b=m.b,
            person_a=m.person_a,
            person_b=m.person_b,
            weight=m.weight,
            model_version=m.model_version,
            updated_at=m.updated_at,
            comparisons=[
                ComparisonWeight(comparison=name, level=c["level"], weight=c["weight"])
                for name, c in m.comparisons.items()
            ],
        )


@strawberry.type(
    description="One rule tried on a pair: each field's score (null: a value is "
    "missing) and whether every comparison passed."
)
class RuleOutcome:
    rule: str
    passed: bool
    scores: list[RuleScore]


@strawberry.type(
    description="Why two records are or are not one person: every rule, the match "
    "model's level and weight per comparison, the total, the thresholds and the model version."
)
class PairExplanation:
    record_key_a: str
    record_key_b: str
    person_a: str | None
    person_b: str | None
    same_person: bool
    summary: str = strawberry.field(description="The decision in one sentence.")
    matched_rule: str | None = strawberry.field(description="The first rule that matches.")
    conflict: str | None = strawberry.field(description="A conflict that vetoes rules.")
    rules: list[RuleOutcome]
    comparisons: list[ComparisonWeight]
    penalty: float = strawberry.field(
        description="Bits the rule file's soft conflicts add (zero or negative)."
    )
    match_weight: float | None = strawberry.field(
        description="The model's weight plus the penalty, in bits: what resolution decides on."
    )
    link_threshold: float | None
    review_threshold: float | None
    model_version: str | None

    @classmethod
    def of(cls, pair: explain.PairExplanation) -> PairExplanation:
        data = pair.as_dict()
        model = data["model"] or {}
        return cls(
            record_key_a=pair.a,
            record_key_b=pair.b,
            person_a=pair.person_a,
            person_b=pair.person_b,
            same_person=pair.same_person,
            summary=data["summary"],
            matched_rule=data["matchedRule"],
            conflict=data["conflict"],
            rules=[
                RuleOutcome(
                    rule=o["rule"],
                    passed=o["passed"],
                    scores=[RuleScore(field=f, score=v) for f, v in o["scores"].items()],
                )
                for o in data["rules"]
            ],
            comparisons=[ComparisonWeight(**c) for c in model.get("comparisons", [])],
            penalty=pair.penalty,
            match_weight=model.get("matchWeight"),
            link_threshold=pair.link,
            review_threshold=pair.review,
            model_version=pair.model_version,
        )


@strawberry.type(description="A field's score, 0-100; null when either record lacks it.")
class RuleScore:
    field: str
    score: float | None


@strawberry.type
class ReviewQuery:
    @strawberry.field(
        permission_classes=[IsAdmin],
        description="Why two source records are or are not one person (NOT_FOUND for an "
        "unknown record key).",
    )
    @graph_errors
    async def explain_pair(
        self, info: Info, record_key_a: str, record_key_b: str
    ) -> PairExplanation:
        a, b = record_key_a.strip(), record_key_b.strip()
        for name, key in (("recordKeyA", a), ("recordKeyB", b)):
            if ":" not in key:
                raise ValidationError(FieldError(name, "must be source:id, e.g. shop:C1"))
        if a == b:
            raise ValidationError(FieldError("recordKeyB", "give two different record keys"))
        ctx = info.context
        resolver = Resolver(ctx.driver, ctx.settings)
        pair = await anyio.to_thread.run_sync(lambda: resolver.explain_pair(a, b))
        return PairExplanation.of(pair)

    @strawberry.field(
        permission_classes=[IsAdmin],
        description="The review queue: possible matches, strongest first.",
    )
    @graph_errors
    async def possible_matches(
        self, info: Info, first: int | None = 20, after: str | None = None
    ) -> Connection[PossibleMatch]:
        ctx = info.context
        size = page_size(first, ctx.settings.max_page_size)
        page = await anyio.to_thread.run_sync(
            lambda: review.possible_matches(ctx.driver, ctx.settings, first=size, after=after)
        )
        edges = [
            Edge(cursor=review.encode_cursor(m), node=PossibleMatch.of(m)) for m in page.matches
        ]
        return keyset_connection(edges, total=page.total, has_next=page.has_next, after=after)


@strawberry.input(description="A steward's answer to a possible match.")
class PossibleMatchDecideInput:
    key: str = strawberry.field(description="The possible match's key (a|b).")
    reason: str = ""


@strawberry.type(description="The decision was stored; people lists everyone it changed.")
class PossibleMatchDecided:
    key: str
    people: list[Person]


async def _decide(
    info: Info, input: PossibleMatchDecideInput, accept: bool
) -> PossibleMatchDecided:
    if "|" not in input.key:
        raise ValidationError(FieldError("key", "must be recordKeyA|recordKeyB"))
    ctx = info.context
    resolver = Resolver(ctx.driver, ctx.settings, actor=ctx.principal.actor)
    result = await anyio.to_thread.run_sync(
        lambda: resolver.decide_possible_match(
            input.key.strip(), accept=accept, reason=input.reason
        )
    )
    # the pair's people and any other the decision changed (a cannot-link may split one)
    ids = sorted({r.person_id for r in result.records if r.person_id} | set(result.people))
    found = await info.context.loaders.people.load_many(ids)
    return PossibleMatchDecided(
        key=input.key, people=[p for p in (Person.of(v) for v in found) if p is not None]
    )


@strawberry.type
class ReviewMutation:
    @strawberry.mutation(
        permission_classes=[IsAdmin],
        description="Accept a possible match: its two records become one person "
        "(a must-link; NOT_FOUND for a key not in the queue).",
    )
    @graph_errors
    async def accept_possible_match(
        self, info: Info, input: PossibleMatchDecideInput
    ) -> PossibleMatchDecided:
        return await _decide(info, input, True)

    @strawberry.mutation(
        permission_classes=[IsAdmin],
        description="Reject a possible match: its two records stay apart, also after "
        "re-resolution (a cannot-link; NOT_FOUND for a key not in the queue).",
    )
    @graph_errors
    async def reject_possible_match(
        self, info: Info, input: PossibleMatchDecideInput
    ) -> PossibleMatchDecided:
        return await _decide(info, input, False)
