"""Segments and audience exports (admin and marketer roles; agents may not).

A definition arrives as ``SegmentConditionInput`` (exactly one field set, nested through
``and`` / ``or`` / ``not``) and becomes the same JSON the CLI takes
(:mod:`graph.services.segment_definition`); a bad one is ``BAD_USER_INPUT`` with each fault's
path in ``extensions.fields`` (``definition.and[1].purchase.withinDays``).
"""

from __future__ import annotations

import base64
import dataclasses
import io
from typing import Any, cast

import anyio
import strawberry
from strawberry.scalars import JSON
from strawberry.types import Info

from api.errors import graph_errors
from api.permissions import CanUseSegments
from api.schema.pagination import Connection, Edge, keyset_connection, page_size
from api.schema.types import Person
from graph.errors import FieldError, ValidationError
from graph.services import activation, segments
from graph.store import segments as store

__all__ = ["AudienceExport", "SegmentType", "SegmentsMutation", "SegmentsQuery", "definition_json"]

#: The most people ``exportAudience`` returns in its response; larger audiences are for
#: ``c360 segments export``, which streams to a file.
MAX_EXPORT_ROWS = 50_000


@strawberry.input(description="An age range in whole years (either bound may be left out).")
class AgeRangeInput:
    min: int | None = None
    max: int | None = None


@strawberry.input(description="Bought a product (sku) or a product of a category.")
class PurchaseConditionInput:
    sku: str | None = None
    category: str | None = None
    within_days: int | None = None


@strawberry.input(description="A range of a number (spend, order count) over a window.")
class AmountConditionInput:
    min: float | None = None
    max: float | None = None
    within_days: int | None = None


@strawberry.input(description="A cart left open or abandoned with no order since.")
class AbandonedCartConditionInput:
    older_than_hours: int
    within_days: int | None = None


@strawberry.input(description="Opened (or clicked, which implies it) a campaign.")
class EngagedConditionInput:
    type: str
    campaign: str | None = None
    within_days: int | None = None


@strawberry.input(description="No OPENED or CLICKED engagement in the last days.")
class InactiveConditionInput:
    days: int


@strawberry.input(description="Has a record from a source (by id or kind).")
class SourceConditionInput:
    id: str | None = None
    kind: str | None = None


@strawberry.input(description="The effective consent (GRANTED, WITHDRAWN or NONE).")
class ConsentConditionInput:
    channel: str
    purpose: str = "MARKETING"
    status: str = "GRANTED"


@strawberry.input(
    description="One condition of a segment: set exactly one field. Nest with and/or/not."
)
class SegmentConditionInput:
    and_: list[SegmentConditionInput] | None = strawberry.field(name="and", default=None)
    or_: list[SegmentConditionInput] | None = strawberry.field(name="or", default=None)
    not_: SegmentConditionInput | None = strawberry.field(name="not", default=None)
    age: AgeRangeInput | None = None
    city: list[str] | None = None
    country: list[str] | None = None
    postcode_prefix: str | None = None
    purchase: PurchaseConditionInput | None = None
    spend: AmountConditionInput | None = None
    order_count: AmountConditionInput | None = None
    abandoned_cart: AbandonedCartConditionInput | None = None
    engaged: EngagedConditionInput | None = None
    inactive: InactiveConditionInput | None = None
    open_case: bool | None = None
    source: SourceConditionInput | None = None
    consent: ConsentConditionInput | None = None
    in_segment: str | None = None


def _camel(name: str) -> str:
    head, *rest = name.rstrip("_").split("_")
    return head + "".join(w.title() for w in rest)


def definition_json(value: Any) -> Any:
    """A GraphQL input (nested dataclasses) as the definition JSON, nulls dropped; an
    ``orderCount`` bound that is whole becomes an int."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        out = {}
        for f in dataclasses.fields(value):
            v = getattr(value, f.name)
            if v is not None:
                out[_camel(f.name)] = definition_json(v)
        return out
    if isinstance(value, list):
        return [definition_json(v) for v in value]
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


@strawberry.type(description="What a segment selects: in words, and as the compiled Cypher.")
class SegmentExplanation:
    words: str
    cypher: str = strawberry.field(description="The count statement; values are parameters.")
    parameters: JSON


@strawberry.type(description="How many people one suppression rule removed from an export.")
class SuppressionCount:
    rule: str
    removed: int


@strawberry.type(description="A recorded audience export: who was sent what, and when.")
class AudienceExport:
    id: str
    segment_id: str
    segment_version: int
    channel: str
    purpose: str
    format: str
    at: str
    actor: str
    candidates: int = strawberry.field(description="Segment members before suppression.")
    exported: int
    suppressed: list[SuppressionCount] = strawberry.field(
        description="People removed by each rule that was on, in order; a person counts once."
    )

    @classmethod
    def of(cls, v: store.ExportView) -> AudienceExport:
        return cls(
            id=v.id,
            segment_id=v.segment_id,
            segment_version=v.segment_version,
            channel=v.channel,
            purpose=v.purpose,
            format=v.format,
            at=v.at,
            actor=v.actor,
            candidates=v.candidates,
            exported=v.exported,
            suppressed=[SuppressionCount(rule=r, removed=n) for r, n in v.suppressed],
        )


def _cursor(person_id: str) -> str:
    return base64.b64encode(f"person:{person_id}".encode()).decode()


def _after(cursor: str | None) -> str | None:
    if cursor is None:
        return None
    try:
        kind, _, value = base64.b64decode(cursor.encode(), validate=True).decode().partition(":")
    except (ValueError, UnicodeDecodeError):
        kind, value = "", ""
    if kind != "person" or not value:
        raise ValidationError(FieldError("after", "is not a cursor of this list"))
    return value


async def _people(info: Info, ids: list[str]) -> list[Person]:
    found = await info.context.loaders.people.load_many(ids)
    return [p for p in (Person.of(v) for v in found) if p is not None]


@strawberry.type(name="Segment", description="A segment of people, defined as data and versioned.")
class SegmentType:
    id: str
    name: str
    version: int
    definition: JSON
    created_at: str
    updated_at: str
    actor: str | None

    @classmethod
    def of(cls, s: store.SegmentView) -> SegmentType:
        return cls(
            id=s.id,
            name=s.name,
            version=s.version,
            definition=cast(JSON, s.definition),
            created_at=s.created_at,
            updated_at=s.updated_at,
            actor=s.actor,
        )

    async def _compiled(self, info: Info) -> Any:
        ctx = info.context
        return await anyio.to_thread.run_sync(
            lambda: segments.compile_segment(
                ctx.driver, ctx.settings, cast(dict, self.definition), segment_id=self.id
            )
        )

    @strawberry.field(description="How many people the segment holds now.")
    @graph_errors
    async def count(self, info: Info) -> int:
        compiled = await self._compiled(info)
        ctx = info.context
        return await anyio.to_thread.run_sync(
            segments.count_members, ctx.driver, ctx.settings, compiled
        )

    @strawberry.field(description="The people in the segment now, by 360 ID.")
    @graph_errors
    async def members(
        self, info: Info, first: int | None = None, after: str | None = None
    ) -> Connection[Person]:
        ctx = info.context
        size, start = page_size(first, ctx.settings.max_page_size), _after(after)
        compiled = await self._compiled(info)
        ids, more = await anyio.to_thread.run_sync(
            lambda: segments.member_page(ctx.driver, ctx.settings, compiled, size, start)
        )
        total = await anyio.to_thread.run_sync(
            segments.count_members, ctx.driver, ctx.settings, compiled
        )
        edges = [Edge(cursor=_cursor(p.person_id), node=p) for p in await _people(info, ids)]
        return keyset_connection(edges, total=total, has_next=more, after=after)

    @strawberry.field(description="The definition in words and as Cypher with parameters.")
    @graph_errors
    async def explain(self, info: Info) -> SegmentExplanation:
        e = segments.explain(await self._compiled(info))
        return SegmentExplanation(
            words=e.words, cypher=e.cypher, parameters=cast(JSON, e.parameters)
        )

    @strawberry.field(description="The exports made from this segment, newest first.")
    @graph_errors
    async def exports(self, info: Info) -> list[AudienceExport]:
        ctx = info.context
        found = await anyio.to_thread.run_sync(
            lambda: store.list_exports(ctx.driver, ctx.settings, self.id)
        )
        return [AudienceExport.of(v) for v in found]


@strawberry.type(description="A definition's count and first members, not saved.")
class SegmentPreview:
    count: int
    members: list[Person]


@strawberry.input(description="A new segment.")
class SegmentCreateInput:
    name: str
    definition: SegmentConditionInput
    id: str | None = strawberry.field(default=None, description="Default seg-<random>.")


@strawberry.input(description="A new version of a segment (the old ones are kept).")
class SegmentUpdateInput:
    id: str
    definition: SegmentConditionInput
    name: str | None = None


@strawberry.input(description="Bought the promoted product or category in the last days.")
class RecentPurchaseInput:
    sku: str | None = None
    category: str | None = None
    within_days: int = 30


@strawberry.input(description="More than maxMessages messages in the last days.")
class FrequencyCapInput:
    max_messages: int = 3
    days: int = 7


@strawberry.input(
    description="Suppression rules of an export; leave a field out for its default "
    "(consent, undeliverable and open case on; frequency cap 3 in 7 days; no purchase rule)."
)
class SuppressionInput:
    consent: bool = True
    undeliverable: bool = True
    recent_purchase: RecentPurchaseInput | None = None
    frequency_cap: FrequencyCapInput | None = strawberry.field(default_factory=FrequencyCapInput)
    no_frequency_cap: bool = False
    open_case: bool = True


@strawberry.input(description="Export a segment's audience for one channel and purpose.")
class AudienceExportInput:
    segment: str
    channel: str
    purpose: str = "MARKETING"
    format: str = "csv"
    suppress: SuppressionInput | None = None


@strawberry.type(description="A recorded export and its file (CSV with a header, or JSON Lines).")
class AudienceExportResult:
    export: AudienceExport
    content: str


def _suppression(s: SuppressionInput | None) -> activation.Suppression:
    if s is None:
        return activation.Suppression()
    p, c = s.recent_purchase, s.frequency_cap
    return activation.Suppression(
        consent=s.consent,
        undeliverable=s.undeliverable,
        recent_purchase=activation.RecentPurchase(p.sku, p.category, p.within_days) if p else None,
        frequency_cap=None
        if s.no_frequency_cap or c is None
        else activation.FrequencyCap(c.max_messages, c.days),
        open_case=s.open_case,
    )


@strawberry.type
class SegmentsQuery:
    @strawberry.field(
        permission_classes=[CanUseSegments],
        description="A segment by id, at its current version or the one asked. Null when unknown.",
    )
    @graph_errors
    async def segment(self, info: Info, id: str, version: int | None = None) -> SegmentType | None:
        ctx = info.context
        found = await anyio.to_thread.run_sync(
            lambda: store.get_segment(ctx.driver, ctx.settings, id, version)
        )
        return SegmentType.of(found) if found else None

    @strawberry.field(permission_classes=[CanUseSegments], description="Every segment, by id.")
    @graph_errors
    async def segments(self, info: Info) -> list[SegmentType]:
        ctx = info.context
        found = await anyio.to_thread.run_sync(store.list_segments, ctx.driver, ctx.settings)
        return [SegmentType.of(s) for s in found]

    @strawberry.field(
        permission_classes=[CanUseSegments],
        description="Count and the first 10 members of a definition, without saving it.",
    )
    @graph_errors
    async def preview_segment(
        self, info: Info, definition: SegmentConditionInput
    ) -> SegmentPreview:
        ctx = info.context
        result = await anyio.to_thread.run_sync(
            segments.preview, ctx.driver, ctx.settings, definition_json(definition)
        )
        return SegmentPreview(
            count=result.count, members=await _people(info, list(result.person_ids))
        )

    @strawberry.field(
        permission_classes=[CanUseSegments], description="A recorded export. Null when unknown."
    )
    @graph_errors
    async def audience_export(self, info: Info, id: str) -> AudienceExport | None:
        ctx = info.context
        found = await anyio.to_thread.run_sync(store.get_export, ctx.driver, ctx.settings, id)
        return AudienceExport.of(found) if found else None


@strawberry.type
class SegmentsMutation:
    @strawberry.mutation(
        permission_classes=[CanUseSegments], description="Define a segment (version 1)."
    )
    @graph_errors
    async def create_segment(self, info: Info, input: SegmentCreateInput) -> SegmentType:
        ctx = info.context
        created = await anyio.to_thread.run_sync(
            lambda: segments.create_segment(
                ctx.driver,
                ctx.settings,
                input.name,
                definition_json(input.definition),
                actor=ctx.principal.actor,
                segment_id=input.id,
            )
        )
        return SegmentType.of(created)

    @strawberry.mutation(
        permission_classes=[CanUseSegments],
        description="Store a new version of a segment; the same definition again adds none.",
    )
    @graph_errors
    async def update_segment(self, info: Info, input: SegmentUpdateInput) -> SegmentType:
        ctx = info.context
        updated = await anyio.to_thread.run_sync(
            lambda: segments.update_segment(
                ctx.driver,
                ctx.settings,
                input.id,
                definition_json(input.definition),
                actor=ctx.principal.actor,
                name=input.name,
            )
        )
        return SegmentType.of(updated)

    @strawberry.mutation(
        permission_classes=[CanUseSegments],
        description="Delete a segment (its versions and exports stay recorded); "
        "CONFLICT while another segment uses it.",
    )
    @graph_errors
    async def delete_segment(self, info: Info, id: str) -> bool:
        ctx = info.context
        await anyio.to_thread.run_sync(
            lambda: segments.remove_segment(ctx.driver, ctx.settings, id, actor=ctx.principal.actor)
        )
        return True

    @strawberry.mutation(
        permission_classes=[CanUseSegments],
        description="Export a segment's people with their contact point after suppression, "
        f"and record it (at most {MAX_EXPORT_ROWS} people; use c360 segments export for more).",
    )
    @graph_errors
    async def export_audience(self, info: Info, input: AudienceExportInput) -> AudienceExportResult:
        ctx = info.context
        out = io.StringIO()
        view = await anyio.to_thread.run_sync(
            lambda: activation.export_audience(
                ctx.driver,
                ctx.settings,
                input.segment,
                input.channel,
                input.purpose,
                out,
                actor=ctx.principal.actor,
                fmt=input.format.lower(),
                suppression=_suppression(input.suppress),
                max_rows=MAX_EXPORT_ROWS,
            )
        )
        return AudienceExportResult(export=AudienceExport.of(view), content=out.getvalue())
