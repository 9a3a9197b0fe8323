"""Journeys in GraphQL: define, update and stop journeys (admin and marketer roles), list
them, and a person's ``actions`` (what journeys scheduled, emitted or cancelled for them)."""

from __future__ import annotations

import json
from enum import Enum
from typing import Any, cast

import anyio
import strawberry
from strawberry.permission import BasePermission
from strawberry.scalars import JSON
from strawberry.types import Info

from api.auth import Role
from api.errors import graph_errors
from api.permissions import CanReadPeople
from api.schema.pagination import Connection, paginate
from api.warnings import warn
from graph.store import actions as graph_actions
from graph.store import journeys as graph_journeys

__all__ = ["JourneyMutation", "JourneyQuery", "PersonJourneys"]

#: A person's actions read for one connection (journeys send a person a handful a month).
_MAX_ACTIONS = 10_000


class CanManageJourneys(BasePermission):
    """Admins and marketers define and read journeys."""

    message = "your role may not manage journeys"
    error_extensions = {"code": "FORBIDDEN"}

    def has_permission(self, source: Any, info: Info, **kwargs: Any) -> bool:
        return info.context.principal.role in (Role.ADMIN, Role.MARKETER)


@strawberry.type(description="A journey: a trigger and the steps it schedules, versioned.")
class Journey:
    id: str
    name: str
    version: int = strawberry.field(description="Bumped by every change of the definition.")
    definition: JSON = strawberry.field(description="Canonical form: durations as ISO 8601.")
    active: bool
    created_at: str
    updated_at: str
    updated_by: str | None

    @classmethod
    def of(cls, v: graph_journeys.JourneyView) -> Journey:
        return cls(
            id=v.id,
            name=v.name,
            version=v.version,
            definition=cast(JSON, json.loads(v.definition)),
            active=v.active,
            created_at=v.created_at,
            updated_at=v.updated_at,
            updated_by=v.updated_by,
        )


@strawberry.enum(description="Where an action is in the outbox.")
class ActionStatus(Enum):
    SCHEDULED = "SCHEDULED"
    CLAIMED = "CLAIMED"
    EMITTED = "EMITTED"
    CANCELLED = "CANCELLED"


@strawberry.type(description="One message a journey scheduled for a person.")
class JourneyAction:
    id: str
    journey_id: str
    journey_version: int
    step: int = strawberry.field(description="1-based step of the journey.")
    person_id: str | None = strawberry.field(description="The person when last decided.")
    channel: str
    template: str
    status: ActionStatus
    due_at: str
    trigger_type: str
    trigger_key: str = strawberry.field(description="Key of the cart, order, event or consent.")
    scheduled_at: str | None
    emitted_at: str | None
    cancelled_at: str | None
    reason: str | None = strawberry.field(
        description="Why it was cancelled: PERSON_FORGOTTEN, JOURNEY_INACTIVE, CART_CLOSED, "
        "ORDER_PLACED, CONSENT_WITHDRAWN, NO_CONSENT or NO_CONTACT_POINT."
    )

    @classmethod
    def of(cls, a: graph_actions.ActionView) -> JourneyAction:
        return cls(
            id=a.id,
            journey_id=a.journey_id,
            journey_version=a.version,
            step=a.step,
            person_id=a.person_id,
            channel=a.channel,
            template=a.template,
            status=ActionStatus(a.status),
            due_at=a.due_at,
            trigger_type=a.trigger_type,
            trigger_key=a.trigger_key,
            scheduled_at=a.scheduled_at,
            emitted_at=a.emitted_at,
            cancelled_at=a.cancelled_at,
            reason=a.reason,
        )


@strawberry.type
class PersonJourneys:
    """Base of Person: the actions journeys scheduled for the person's events."""

    @strawberry.field(
        permission_classes=[CanReadPeople],
        description="Journey actions fired by this person's carts, orders, engagement and "
        "consents (through their records now, so merges and splits carry them), latest due "
        "first; status filters.",
    )
    @graph_errors
    async def actions(
        self,
        info: Info,
        first: int | None = 10,
        after: str | None = None,
        status: list[ActionStatus] | None = None,
    ) -> Connection[JourneyAction]:
        ctx = info.context
        person_id = self.person_id  # type: ignore[attr-defined]
        _, page = await anyio.to_thread.run_sync(
            lambda: graph_actions.actions_of_person(
                ctx.driver,
                ctx.settings,
                person_id,
                offset=0,
                limit=_MAX_ACTIONS,
                statuses=[s.value for s in status] if status else None,
            )
        )
        items = [JourneyAction.of(a) for a in page]
        return paginate(items, first, after, ctx.settings.max_page_size)


@strawberry.input(description="A new journey; definition: {trigger, steps} (see README).")
class JourneyCreateInput:
    id: str = strawberry.field(description="1-64 of a-z, 0-9, '_' and '-'.")
    name: str
    definition: JSON


@strawberry.input(description="Change a journey; a changed definition is a new version.")
class JourneyUpdateInput:
    id: str
    name: str | None = None
    definition: JSON | None = None
    active: bool | None = None


@strawberry.type
class JourneyQuery:
    @strawberry.field(permission_classes=[CanManageJourneys], description="Every journey.")
    @graph_errors
    async def journeys(self, info: Info) -> list[Journey]:
        ctx = info.context
        found = await anyio.to_thread.run_sync(
            graph_journeys.list_journeys, ctx.driver, ctx.settings
        )
        return [Journey.of(v) for v in found]

    @strawberry.field(
        permission_classes=[CanManageJourneys],
        description="A journey by id; null when unknown, with a NOT_FOUND warning.",
    )
    @graph_errors
    async def journey(self, info: Info, id: str) -> Journey | None:
        ctx = info.context
        found = await anyio.to_thread.run_sync(
            graph_journeys.journey_by_id, ctx.driver, ctx.settings, id.strip()
        )
        if found is None:
            warn(info, f"no journey has id {id.strip()!r}")
            return None
        return Journey.of(found)


@strawberry.type
class JourneyMutation:
    @strawberry.mutation(
        permission_classes=[CanManageJourneys],
        description="Define a journey (active, version 1). A retry of the same create "
        "returns it; another journey with that id is a CONFLICT. Faults are BAD_USER_INPUT "
        "naming each path (definition.steps[1].channel).",
    )
    @graph_errors
    async def create_journey(self, info: Info, input: JourneyCreateInput) -> Journey:
        ctx = info.context
        view = await anyio.to_thread.run_sync(
            lambda: graph_journeys.create_journey(
                ctx.driver,
                ctx.settings,
                input.id,
                input.name,
                input.definition,
                actor=ctx.principal.actor,
            )
        )
        return Journey.of(view)

    @strawberry.mutation(
        permission_classes=[CanManageJourneys],
        description="Change a journey's name, definition (a new version, for triggers from "
        "now on) or active flag.",
    )
    @graph_errors
    async def update_journey(self, info: Info, input: JourneyUpdateInput) -> Journey:
        ctx = info.context
        view = await anyio.to_thread.run_sync(
            lambda: graph_journeys.update_journey(
                ctx.driver,
                ctx.settings,
                input.id.strip(),
                actor=ctx.principal.actor,
                name=input.name,
                definition=input.definition,
                active=input.active,
            )
        )
        return Journey.of(view)

    @strawberry.mutation(
        permission_classes=[CanManageJourneys],
        description="Stop a journey: nothing new is scheduled and its due actions are "
        "cancelled (JOURNEY_INACTIVE) when a runner meets them.",
    )
    @graph_errors
    async def deactivate_journey(self, info: Info, id: str) -> Journey:
        ctx = info.context
        view = await anyio.to_thread.run_sync(
            lambda: graph_journeys.deactivate_journey(
                ctx.driver, ctx.settings, id.strip(), actor=ctx.principal.actor
            )
        )
        return Journey.of(view)
