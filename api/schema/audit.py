"""The resolution audit trail over GraphQL: ``resolutionEvents`` (query) and the events of
one person. Every create, link, merge, split and forget is one event (see :mod:`graph.store.audit`).
"""

from __future__ import annotations

from typing import Any

import anyio
import strawberry
from strawberry.dataloader import DataLoader
from strawberry.types import Info

from api.errors import graph_errors
from api.permissions import CanReadPeople
from api.schema.pagination import Connection, Edge, keyset_connection, page_size, paginate
from api.schema.subscriptions import IdentityEventKind
from graph.store import audit, identifiers

__all__ = ["AuditQuery", "ResolutionEventType", "events_of_person"]


@strawberry.type(
    name="ResolutionEvent",
    description="One identity decision: a person "
    "created, a record linked, people merged, a record split off, a person "
    "forgotten; with who decided, when, by which rule and why.",
)
class ResolutionEventType:
    id: str
    kind: IdentityEventKind
    at: str = strawberry.field(description="When it was decided (ISO 8601, UTC).")
    actor: str | None = strawberry.field(
        description="Who decided: system, a steward, an API caller."
    )
    person_id: str | None = strawberry.field(
        description="The person it concerned then (its current ID may differ after a merge)."
    )
    rule: str | None
    score: float | None
    explanation: str | None
    absorbed_ids: list[str] = strawberry.field(description="MERGED: the 360 IDs absorbed.")
    split_from: str | None = strawberry.field(description="SPLIT: the person split from.")
    record_keys: list[str] = strawberry.field(description="The source records it touched.")
    rules_version: str | None = strawberry.field(description="The rule set that decided.")

    @classmethod
    def of(cls, e: dict[str, Any]) -> ResolutionEventType:
        return cls(
            id=e["id"],
            kind=IdentityEventKind(e["kind"]),
            at=e["at"],
            actor=e.get("actor"),
            person_id=e.get("personId"),
            rule=e.get("rule"),
            score=e.get("score"),
            explanation=e.get("explanation"),
            absorbed_ids=list(e.get("absorbedIds") or []),
            split_from=e.get("splitFrom"),
            record_keys=list(e.get("recordKeys") or []),
            rules_version=e.get("rulesVersion"),
        )


@strawberry.type
class AuditQuery:
    @strawberry.field(
        permission_classes=[CanReadPeople],
        description=(
            "The resolution audit trail, newest first: every event, or those of one person (an "
            "absorbed ID finds the survivor, whose events include the absorbed people's), of some "
            "kinds, by one actor, touching one record (recordKey source:id), in [since, until) "
            "(ISO 8601)."
        ),
    )
    @graph_errors
    async def resolution_events(
        self,
        info: Info,
        person_id: str | None = None,
        kinds: list[IdentityEventKind] | None = None,
        actor: str | None = None,
        record_key: str | None = None,
        since: str | None = None,
        until: str | None = None,
        first: int | None = 20,
        after: str | None = None,
    ) -> Connection[ResolutionEventType]:
        ctx = info.context
        size = page_size(first, ctx.settings.max_page_size)

        def read() -> audit.EventPage:
            # an unknown ID is kept as given: the events of a forgotten person still carry it
            pid = person_id and (
                identifiers.current_person_id(ctx.driver, ctx.settings, person_id) or person_id
            )
            return audit.resolution_events(
                ctx.driver,
                ctx.settings,
                person_id=pid,
                kinds=[k.value for k in kinds] if kinds else None,
                actor=actor,
                record_key=record_key,
                since=since,
                until=until,
                first=size,
                after=after,
            )

        page = await anyio.to_thread.run_sync(read)
        edges = [
            Edge(cursor=audit.encode_cursor(e), node=ResolutionEventType.of(e)) for e in page.events
        ]
        return keyset_connection(edges, total=page.total, has_next=page.has_next, after=after)


def _loader(info: Info) -> DataLoader[str, list[dict[str, Any]]]:
    """The per-request loader of people's events (all people of a tick in one query)."""
    ctx = info.context
    loader = ctx.extra.get("resolution_events")
    if loader is None:

        async def load(ids: list[str]) -> list[list[dict[str, Any]]]:
            found = await anyio.to_thread.run_sync(
                audit.events_of_people, ctx.driver, ctx.settings, ids
            )
            return [found.get(i, []) for i in ids]

        loader = ctx.extra["resolution_events"] = DataLoader(load_fn=load)
    return loader


async def events_of_person(
    info: Info,
    person_id: str,
    kinds: list[IdentityEventKind] | None,
    first: int | None,
    after: str | None,
) -> Connection[ResolutionEventType]:
    """A person's events newest first as a connection (see ``Person.resolutionEvents``)."""
    rows = await _loader(info).load(person_id)
    wanted = {k.value for k in kinds} if kinds else None
    items = [ResolutionEventType.of(e) for e in rows if wanted is None or e["kind"] in wanted]
    return paginate(items, first, after, info.context.settings.max_page_size)
