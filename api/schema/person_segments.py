"""``Person.segments``: the segments a person belongs to now, computed on demand (a plain
resolver, apart from the person read path)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import anyio
import strawberry
from strawberry.types import Info

from api.errors import graph_errors
from api.permissions import CanUseSegments
from graph.services import segments

if TYPE_CHECKING:
    from api.schema.segments import SegmentType

__all__ = ["PersonSegments"]


@strawberry.type
class PersonSegments:
    """Mixin of :class:`api.schema.types.Person` (expects ``person_id``)."""

    person_id: strawberry.Private[str]

    @strawberry.field(
        permission_classes=[CanUseSegments],
        description="The segments this person belongs to now (admin and marketer roles).",
    )
    @graph_errors
    async def segments(
        self, info: Info
    ) -> list[Annotated[SegmentType, strawberry.lazy("api.schema.segments")]]:
        from api.schema.segments import SegmentType

        ctx = info.context
        found = await anyio.to_thread.run_sync(
            segments.segments_of_person, ctx.driver, ctx.settings, self.person_id
        )
        return [SegmentType.of(s) for s in found]
