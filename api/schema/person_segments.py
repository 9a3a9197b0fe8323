"""``Person.segments``: the segments a person belongs to now, computed on demand (a plain
resolver, apart from the person read path)."""

from __future__ import annotations

import anyio
import strawberry
from strawberry.types import Info

from api.errors import graph_errors
from api.permissions import CanUseSegments
from graph.services import segments

__all__ = ["PersonSegments", "SegmentMembership"]


@strawberry.type(description="A segment a person belongs to now (query segment(id) for more).")
class SegmentMembership:
    id: str
    name: str
    version: int


@strawberry.type
class PersonSegments:
    """Mixin of :class:`api.schema.types.Person` (expects ``person_id``)."""

    person_id: strawberry.Private[str]

    @strawberry.field(
        permission_classes=[CanUseSegments],
        description="The segments this person belongs to now (admin and marketer roles).",
    )
    @graph_errors
    async def segments(self, info: Info) -> list[SegmentMembership]:
        ctx = info.context
        found = await anyio.to_thread.run_sync(
            segments.segments_of_person, ctx.driver, ctx.settings, self.person_id
        )
        return [SegmentMembership(id=s.id, name=s.name, version=s.version) for s in found]
