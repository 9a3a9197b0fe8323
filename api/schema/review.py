"""The review queue in GraphQL: ``possibleMatches`` (strongest first) and a steward's
``acceptPossibleMatch`` (must-link) / ``rejectPossibleMatch`` (cannot-link)."""

from __future__ import annotations

import anyio
import strawberry
from strawberry.types import Info

from api.errors import graph_errors
from api.permissions import IsAdmin
from api.schema.pagination import Connection, Edge, keyset_connection
from api.schema.types import Person
from graph.errors import FieldError, ValidationError
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


@strawberry.type
class ReviewQuery:
    @strawberry.field(
        permission_classes=[IsAdmin],
        description="The review queue: possible matches, strongest first.",
    )
    @graph_errors
    async def possible_matches(
        self, info: Info, first: int | None = 20, after: str | None = None
    ) -> Connection[PossibleMatch]:
        ctx = info.context
        if first is not None and first < 0:
            raise ValidationError(FieldError("first", "must not be negative"))
        size = min(
            ctx.settings.max_page_size if first is None else first, ctx.settings.max_page_size
        )
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
    ids = sorted({r.person_id for r in result.records if r.person_id})
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
