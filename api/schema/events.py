"""Mutations for history: ingest events (orders, carts, cases, engagement, consents) and set
a person's consent."""

from __future__ import annotations

from enum import Enum
from typing import Any, cast

import anyio
import strawberry
from strawberry.scalars import JSON
from strawberry.types import Info

from api.errors import graph_errors
from api.permissions import CanIngest, CanSetConsent, IsAdmin
from api.schema.types import ConsentType, Person
from graph.errors import FieldError, ValidationError
from graph.ingest import ingest_rows
from graph.store import consents
from graph.store.people import consents_of_people
from graph.store.privacy import export_person
from graph.store.sources import require_source

__all__ = ["EventsMutation", "PrivacyQuery"]


@strawberry.enum(description="What the rows of ingestEvents are.")
class EventType(Enum):
    PRODUCTS = "products"
    ORDERS = "orders"
    ORDER_LINES = "order_lines"
    CARTS = "carts"
    CASES = "cases"
    ENGAGEMENT = "engagement"
    CONSENTS = "consents"


@strawberry.input(
    description="Rows of one event type from one source, in its native field "
    "names (or canonical ones). At most 1,000 rows per call."
)
class EventsIngestInput:
    source: str
    type: EventType
    rows: list[JSON]


@strawberry.type(description="A rejected row: its index in the input, the field and why.")
class RowError:
    row: int
    field: str
    reason: str


@strawberry.type(
    description="What ingestEvents did; good rows are stored even when others are rejected."
)
class EventsIngestResult:
    created: int
    updated: int
    unchanged: int
    stale: int
    rejected: int
    errors: list[RowError]


@strawberry.input(description="Set a person's consent for a channel and purpose.")
class ConsentSetInput:
    person_id: str
    channel: str = strawberry.field(description="EMAIL, SMS, PHONE, POST, PUSH or WEB.")
    purpose: str = strawberry.field(description="MARKETING, PROFILING, ...")
    status: str = strawberry.field(description="GRANTED or WITHDRAWN.")
    at: str | None = strawberry.field(
        default=None, description="ISO 8601; default now. A retry with the same time adds nothing."
    )


@strawberry.type(description="The consent was recorded; consents are the effective ones now.")
class ConsentSetResult:
    person: Person
    consents: list[ConsentType]


MAX_ROWS = 1000


@strawberry.type
class EventsMutation:
    @strawberry.mutation(
        permission_classes=[CanIngest],
        description="Ingest orders, order lines, carts, cases, engagement or "
        "consent events of a source.",
    )
    @graph_errors
    async def ingest_events(self, info: Info, input: EventsIngestInput) -> EventsIngestResult:
        ctx = info.context
        if len(input.rows) > MAX_ROWS:
            raise ValidationError(FieldError("rows", f"at most {MAX_ROWS} rows per call"))
        bad = [n for n, row in enumerate(input.rows) if not isinstance(row, dict)]
        if bad:
            raise ValidationError([FieldError(f"rows[{n}]", "must be a JSON object") for n in bad])

        def run():
            source = require_source(ctx.driver, ctx.settings, input.source)
            return ingest_rows(
                ctx.driver,
                ctx.settings,
                source,
                input.type.value,
                list(enumerate(cast(list[dict[str, Any]], input.rows))),
            )

        summary = await anyio.to_thread.run_sync(run)
        return EventsIngestResult(
            created=summary.created,
            updated=summary.updated,
            unchanged=summary.unchanged,
            stale=summary.stale,
            rejected=summary.rejected,
            errors=[
                RowError(row=e.line or 0, field=e.field, reason=e.reason) for e in summary.errors
            ],
        )

    @strawberry.mutation(
        permission_classes=[CanSetConsent],
        description="Record a consent event for a person; the latest event "
        "per channel and purpose is the effective consent.",
    )
    @graph_errors
    async def set_consent(self, info: Info, input: ConsentSetInput) -> ConsentSetResult:
        ctx = info.context
        person = await ctx.loaders.people.load(input.person_id)
        if person is None:
            from graph.errors import NotFound

            raise NotFound(f"no person with id {input.person_id!r}")
        await anyio.to_thread.run_sync(
            lambda: consents.set_consent(
                ctx.driver,
                ctx.settings,
                person.id,
                input.channel,
                input.purpose,
                input.status,
                actor=ctx.principal.actor,
                at=input.at,
            )
        )
        current = await anyio.to_thread.run_sync(
            consents_of_people, ctx.driver, ctx.settings, [person.id]
        )
        return ConsentSetResult(
            person=Person.of(person),
            consents=[
                ConsentType(
                    channel=c.channel,
                    purpose=c.purpose,
                    status=c.status,
                    at=c.at,
                    source_record=c.source_key,
                )
                for c in current[person.id]
            ],
        )


@strawberry.type
class PrivacyQuery:
    @strawberry.field(
        permission_classes=[IsAdmin],
        description="Everything held about a person (subject access request): "
        "golden values with their source record, every record as "
        "received and normalised, its history, the audit trail.",
    )
    @graph_errors
    async def export_person(self, info: Info, person_id: str) -> JSON:
        ctx = info.context
        found = await anyio.to_thread.run_sync(
            export_person, ctx.driver, ctx.settings, person_id.strip()
        )
        return cast(JSON, found)
