"""Mutations that write: register sources, ingest records, merge people, split records."""

from __future__ import annotations

from typing import Annotated, Any, cast

import anyio
import strawberry
from strawberry.scalars import JSON
from strawberry.types import Info

from api.errors import graph_errors
from api.permissions import CanIngest, CanReadPeople, IsAdmin
from api.schema.identity import LinkExplanation, explain_link
from api.schema.types import Person, SourceKind, SourceRecord, SourceType
from graph.errors import Conflict
from graph.services.resolver import Resolver
from graph.store import people
from graph.store import sources as graph_sources
from graph.store.privacy import forget_person

__all__ = ["PrivacyMutation", "StewardshipMutation"]


@strawberry.input(description="A source system to register (or update).")
class SourceRegisterInput:
    id: str
    kind: SourceKind
    name: str
    priority: int = 0


@strawberry.input(description="One record in the source's native field names (or canonical).")
class RecordIngestInput:
    source: str
    record: JSON


@strawberry.type(
    description="A malformed value of an ingested record: the record was stored without it "
    "(kept as received in the record's invalidFields, not used to match)."
)
class FieldWarning:
    field: str = strawberry.field(description="The field as the caller named it.")
    reason: str


@strawberry.type(description="What ingesting a record did.")
class RecordIngestResult:
    record_key: str
    outcome: str = strawberry.field(description="created, updated, unchanged or stale.")
    warnings: list[FieldWarning] = strawberry.field(
        description="Malformed values kept as invalid; empty when every value was good. Only "
        "a record without a usable sourceId is rejected (BAD_USER_INPUT)."
    )
    decision: str = strawberry.field(
        description="created (a new person), linked, merged "
        "(it bridged people), moved or unchanged. A record sent again unchanged (a retry "
        "after an uncertain commit) gets the decision stored the first time, never a "
        "second person."
    )
    rule: str | None
    score: float | None
    absorbed_ids: list[str] = strawberry.field(description="360 IDs merged into the person.")
    person_id: str | None = strawberry.field(
        description="The 360 ID of the record's person (null while unresolved)."
    )
    resolved: strawberry.Private[Person | None]

    @strawberry.field(
        permission_classes=[CanReadPeople],
        description="The record's person "
        "(roles that read people; the ingest role gets personId only).",
    )
    def person(self) -> Person | None:
        return self.resolved

    @strawberry.field(
        permission_classes=[CanReadPeople],
        description="The stored record, with its invalidFields and qualityFlags "
        "(roles that read people).",
    )
    async def record(self, info: Info) -> SourceRecord | None:
        ctx = info.context
        found = await anyio.to_thread.run_sync(
            people.records_by_keys, ctx.driver, ctx.settings, [self.record_key]
        )
        view = found.get(self.record_key)
        return SourceRecord.of(view) if view is not None else None

    @strawberry.field(
        permission_classes=[CanReadPeople],
        description="Why the person holds "
        "the record: rule, scores, the record it matched, in one sentence too "
        "(null when it has no person).",
    )
    async def explanation(self, info: Info) -> LinkExplanation | None:
        if self.person_id is None:
            return None
        records = await info.context.loaders.records.load(self.person_id)
        return next((explain_link(r) for r in records if r.key == self.record_key), None)


@strawberry.input(description="Merge two people by a steward's decision.")
class PeopleMergeInput:
    person_a: str
    person_b: str
    reason: str = ""
    override: bool = strawberry.field(
        default=False, description="Replace cannot-links of an earlier split between them."
    )


@strawberry.type(description="The people were merged; the oldest 360 ID survived.")
class PersonMergeSuccess:
    person: Person
    absorbed_ids: list[str]


@strawberry.type(description="The merge was refused.")
class MergeConflict:
    message: str


@strawberry.input(description="Split a record out of its person by a steward's decision.")
class RecordSplitInput:
    record_key: str
    reason: str = ""


@strawberry.type(description="The record was split out; people lists everyone changed.")
class RecordSplitSuccess:
    person: Person
    people: list[Person]


@strawberry.type(description="The split was refused.")
class SplitConflict:
    message: str


MergeResult = Annotated[PersonMergeSuccess | MergeConflict, strawberry.union("MergeResult")]
SplitResult = Annotated[RecordSplitSuccess | SplitConflict, strawberry.union("SplitResult")]


def _resolver(info: Info) -> Resolver:
    ctx = info.context
    return Resolver(ctx.driver, ctx.settings, actor=ctx.principal.actor)


async def _people(info: Info, ids: list[str]) -> list[Person]:
    found = await info.context.loaders.people.load_many(ids)
    return [p for p in (Person.of(v) for v in found) if p is not None]


@strawberry.type
class StewardshipMutation:
    @strawberry.mutation(
        permission_classes=[IsAdmin], description="Register a source system, or update it."
    )
    @graph_errors
    async def register_source(self, info: Info, input: SourceRegisterInput) -> SourceType:
        ctx = info.context
        source = graph_sources.validate_source(
            input.id, input.kind.value, input.name, input.priority
        )
        stored = await anyio.to_thread.run_sync(
            graph_sources.register_source, ctx.driver, ctx.settings, source
        )
        return SourceType.of(stored)

    @strawberry.mutation(
        permission_classes=[CanIngest],
        description="Ingest one record and resolve it to a person. A malformed value "
        "(a bad birth date, email ...) does not reject the record: it is stored without it "
        "and the value is listed in warnings.",
    )
    @graph_errors
    async def ingest_record(self, info: Info, input: RecordIngestInput) -> RecordIngestResult:
        ctx = info.context
        if not isinstance(input.record, dict):
            from graph.errors import FieldError, ValidationError

            raise ValidationError(FieldError("record", "must be a JSON object"))
        resolver = _resolver(info)
        outcome, resolution = await anyio.to_thread.run_sync(
            lambda: resolver.ingest_record(input.source, cast(dict[str, Any], input.record))
        )
        readable = ctx.principal.role in CanReadPeople.roles
        person = (
            Person.of(await ctx.loaders.people.load(resolution.person_id))
            if resolution.person_id and readable
            else None
        )
        return RecordIngestResult(
            record_key=outcome.key,
            outcome=outcome.outcome,
            warnings=[FieldWarning(field=w.field, reason=w.reason) for w in outcome.warnings],
            decision=resolution.decision,
            rule=resolution.rule,
            score=resolution.score,
            absorbed_ids=list(resolution.absorbed),
            person_id=resolution.person_id,
            resolved=person,
        )

    @strawberry.mutation(
        permission_classes=[IsAdmin],
        description="Merge two people; the oldest 360 ID survives and the "
        "other keeps resolving as its alias.",
    )
    @graph_errors
    async def merge_people(self, info: Info, input: PeopleMergeInput) -> MergeResult:
        resolver = _resolver(info)
        try:
            result = await anyio.to_thread.run_sync(
                lambda: resolver.merge_people(
                    input.person_a, input.person_b, reason=input.reason, override=input.override
                )
            )
        except Conflict as exc:
            return MergeConflict(message=str(exc))
        survivor = result.records[0].person_id
        assert survivor is not None  # a merge always leaves a person
        people = await _people(info, [survivor])
        return PersonMergeSuccess(person=people[0], absorbed_ids=list(result.records[0].absorbed))

    @strawberry.mutation(
        permission_classes=[IsAdmin],
        description="Split a source record out of its person; the part "
        "holding the oldest record keeps the 360 ID.",
    )
    @graph_errors
    async def split_record(self, info: Info, input: RecordSplitInput) -> SplitResult:
        resolver = _resolver(info)
        try:
            result = await anyio.to_thread.run_sync(
                lambda: resolver.split_record(input.record_key, reason=input.reason)
            )
        except Conflict as exc:
            return SplitConflict(message=str(exc))
        people = await _people(info, list(result.people))
        mine = result.of(input.record_key).person_id
        return RecordSplitSuccess(
            person=next(p for p in people if p.person_id == mine), people=people
        )


@strawberry.input(description="Erase a person (right to be forgotten).")
class PersonForgetInput:
    person_id: str
    reason: str = ""


@strawberry.type(description="What was erased; an audit event without personal data remains.")
class PersonForgetResult:
    records_erased: int
    sources: list[str]
    identifiers_remembered: int = strawberry.field(
        description="Salted hashes kept so a source sending the person again is flagged."
    )
    event_id: str


@strawberry.type
class PrivacyMutation:
    @strawberry.mutation(
        permission_classes=[IsAdmin],
        description="Erase a person's personal data and records across every "
        "source (all or nothing). Later records carrying one of "
        "their identifiers are flagged, not resolved.",
    )
    @graph_errors
    async def forget_person(self, info: Info, input: PersonForgetInput) -> PersonForgetResult:
        ctx = info.context
        report = await anyio.to_thread.run_sync(
            lambda: forget_person(
                ctx.driver,
                ctx.settings,
                input.person_id.strip(),
                actor=ctx.principal.actor,
                reason=input.reason,
            )
        )
        return PersonForgetResult(
            records_erased=report.records,
            sources=list(report.sources),
            identifiers_remembered=report.identifiers_remembered,
            event_id=report.event_id,
        )
