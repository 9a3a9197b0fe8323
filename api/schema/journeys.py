"""Journey triggers in the API (admin and marketer): the journeys, creating and deactivating
one, and a person's scheduled, emitted and cancelled actions."""

from __future__ import annotations

from typing import Any, cast

import anyio
import strawberry
from strawberry.scalars import JSON
from strawberry.types import Info

from api.auth import Role
from api.errors import graph_errors
from api.permissions import CanReadPeople
from api.schema.pagination import Connection, paginate
from graph.errors import NotFound
from graph.services import journeys as service
from graph.store import journeys as store

__all__ = ["CanRunJourneys", "JourneysMutation", "JourneysQuery", "PersonJourneys"]


class CanRunJourneys(CanReadPeople):
    roles = frozenset({Role.ADMIN, Role.MARKETER})
    action = "read or change journeys"


@strawberry.type(description="A stored version of a journey: a trigger and timed steps.")
class Journey:
    id: str
    name: str
    version: int
    active: bool = strawberry.field(description="Only the active version schedules actions.")
    created_at: str
    definition: JSON = strawberry.field(description="The validated definition document.")

    @classmethod
    def of(cls, j: store.JourneyView) -> Journey:
        return cls(
            id=j.id,
            name=j.name,
            version=j.version,
            active=j.active,
            created_at=j.created_at,
            definition=cast(JSON, j.definition),
        )


@strawberry.type(description="A message a journey scheduled for a person (the outbox).")
class Action:
    action_id: str = strawberry.field(description="journeyId:vVERSION:sSTEP:triggerKey")
    journey_id: str
    journey_version: int
    step: int
    person_id: str
    channel: str
    template: str
    trigger_kind: str
    trigger_key: str
    trigger_at: str
    due_at: str
    status: str = strawberry.field(description="SCHEDULED, CLAIMED, EMITTED or CANCELLED.")
    reason: str | None = strawberry.field(
        description="Why it was cancelled: ORDER_PLACED, CART_CONVERTED, NO_CONSENT, "
        "PERSON_FORGOTTEN or JOURNEY_INACTIVE."
    )
    emitted_at: str | None

    @classmethod
    def of(cls, a: store.ActionView) -> Action:
        return cls(
            action_id=a.id,
            journey_id=a.journey_id,
            journey_version=a.journey_version,
            step=a.step,
            person_id=a.person_id,
            channel=a.channel,
            template=a.template,
            trigger_kind=a.trigger_kind,
            trigger_key=a.trigger_key,
            trigger_at=a.trigger_at,
            due_at=a.due_at,
            status=a.status,
            reason=a.reason,
            emitted_at=a.emitted_at,
        )


@strawberry.type(description="What createJourney stored.")
class JourneyCreateResult:
    journey: Journey
    outcome: str = strawberry.field(
        description="created (a new version), unchanged (the same definition is the active "
        "version) or reactivated."
    )


@strawberry.type
class JourneysQuery:
    @strawberry.field(
        permission_classes=[CanRunJourneys],
        description="Every journey's latest version, by id.",
    )
    @graph_errors
    async def journeys(self, info: Info) -> list[Journey]:
        ctx = info.context
        found = await anyio.to_thread.run_sync(store.list_journeys, ctx.driver, ctx.settings)
        return [Journey.of(j) for j in found]

    @strawberry.field(
        permission_classes=[CanRunJourneys],
        description="A journey's latest version (or the given one); null when unknown.",
    )
    @graph_errors
    async def journey(self, info: Info, id: str, version: int | None = None) -> Journey | None:
        ctx = info.context
        found = await anyio.to_thread.run_sync(
            store.get_journey, ctx.driver, ctx.settings, id, version
        )
        return Journey.of(found) if found else None


@strawberry.type
class JourneysMutation:
    @strawberry.mutation(
        permission_classes=[CanRunJourneys],
        description="Validate a journey definition and store it as the journey's active "
        "version; a bad field is BAD_USER_INPUT naming its path (steps[1].delay).",
    )
    @graph_errors
    async def create_journey(self, info: Info, definition: JSON) -> JourneyCreateResult:
        ctx = info.context
        raw: Any = definition
        journey, outcome = await anyio.to_thread.run_sync(
            service.create_journey, ctx.driver, ctx.settings, raw
        )
        return JourneyCreateResult(journey=Journey.of(journey), outcome=outcome)

    @strawberry.mutation(
        permission_classes=[CanRunJourneys],
        description="Stop a journey: nothing more is scheduled and its pending actions are "
        "cancelled when due (JOURNEY_INACTIVE).",
    )
    @graph_errors
    async def deactivate_journey(self, info: Info, id: str) -> Journey:
        ctx = info.context
        await anyio.to_thread.run_sync(store.deactivate_journey, ctx.driver, ctx.settings, id)
        found = await anyio.to_thread.run_sync(store.get_journey, ctx.driver, ctx.settings, id)
        if found is None:  # removed between the two calls
            raise NotFound(f"no journey with id {id!r}")
        return Journey.of(found)


@strawberry.type
class PersonJourneys:
    """Base of Person: the actions journeys scheduled for it."""

    @strawberry.field(
        permission_classes=[CanRunJourneys],
        description="Journey actions for this person, latest due first (admin, marketer).",
    )
    @graph_errors
    async def actions(
        self, info: Info, first: int | None = 10, after: str | None = None
    ) -> Connection[Action]:
        ctx = info.context
        found = await anyio.to_thread.run_sync(
            store.actions_of_person,
            ctx.driver,
            ctx.settings,
            self.person_id,  # type: ignore[attr-defined]
        )
        return paginate([Action.of(a) for a in found], first, after, ctx.settings.max_page_size)
