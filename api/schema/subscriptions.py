"""Subscriptions (graphql-transport-ws): identity lifecycle events as they happen.

Every resolution decision is a ``ResolutionEvent`` in the graph, whichever process made it
(the API, ``c360 ingest``, a batch resolve), so the subscription follows the graph: it reads
new events once per poll interval (an index seek on ``ResolutionEvent.at``) and streams them.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator
from datetime import UTC, datetime
from enum import Enum

import anyio
import strawberry
from strawberry.types import Info

from api.permissions import CanReadPeople
from graph.store import people

__all__ = ["IdentitySubscription"]

POLL_SECONDS = 0.5


@strawberry.enum(description="Identity lifecycle event kinds.")
class IdentityEventKind(Enum):
    CREATED = "CREATED"
    LINKED = "LINKED"
    MERGED = "MERGED"
    SPLIT = "SPLIT"
    FORGOTTEN = "FORGOTTEN"


@strawberry.type(
    description="A person was created, a record linked, people merged (with the "
    "absorbed IDs), a record split off, or a person forgotten."
)
class IdentityEvent:
    id: str
    kind: IdentityEventKind
    at: str
    person_id: str | None = strawberry.field(
        description="The person the event concerns now (null for FORGOTTEN)."
    )
    absorbed_ids: list[str] = strawberry.field(description="MERGED: the 360 IDs absorbed.")
    split_from: str | None = strawberry.field(description="SPLIT: the person split from.")
    record_keys: list[str]
    rule: str | None
    actor: str | None


@strawberry.type
class IdentitySubscription:
    @strawberry.subscription(
        permission_classes=[CanReadPeople],
        description="Identity events from now on, optionally of some kinds.",
    )
    async def identity_events(
        self, info: Info, kinds: list[IdentityEventKind] | None = None
    ) -> AsyncGenerator[IdentityEvent, None]:
        ctx = info.context
        since, last_id = datetime.now(UTC).isoformat(), ""
        wanted = [k.value for k in kinds] if kinds else None
        while True:
            rows = await anyio.to_thread.run_sync(
                people.events_since, ctx.driver, ctx.settings, since, wanted, 500, last_id
            )
            for row in rows:
                since, last_id = row["at"], row["id"]
                yield IdentityEvent(
                    id=row["id"],
                    kind=IdentityEventKind(row["kind"]),
                    at=row["at"],
                    person_id=row["personId"],
                    absorbed_ids=list(row["absorbedIds"]),
                    split_from=row["splitFrom"],
                    record_keys=list(row["recordKeys"]),
                    rule=row["rule"],
                    actor=row["actor"],
                )
            await asyncio.sleep(POLL_SECONDS)
