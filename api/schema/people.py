"""Queries: find a person by 360 ID (or alias), source record or identifier; list sources."""

from __future__ import annotations

from typing import Annotated

import anyio
import strawberry
from graphql import GraphQLError
from strawberry import relay
from strawberry.types import Info

from api.auth import Role
from api.errors import graph_errors
from api.permissions import CanReadPeople
from api.schema.identity import NEVER_FOR_MARKETERS
from api.schema.lookahead import person_parts
from api.schema.pagination import Connection, paginate
from api.schema.types import Person, SourceType
from api.warnings import warn
from graph.errors import Conflict, FieldError, ValidationError
from graph.store import identifiers, people
from graph.store import sources as graph_sources

__all__ = ["PeopleQuery"]


@strawberry.type
class PeopleQuery:
    @strawberry.field(
        permission_classes=[CanReadPeople],
        description="Any object by its Relay global ID (a Person or a "
        "SourceRecord). Null when unknown, with a NOT_FOUND warning in the "
        "response's extensions.",
    )
    @graph_errors
    async def node(self, info: Info, id: relay.GlobalID) -> relay.Node | None:
        if id.type_name not in ("Person", "SourceRecord"):
            raise ValidationError(FieldError("id", f"no {id.type_name!r} objects here"))
        found = await id.resolve_node(info, required=False)
        if found is None:
            warn(info, f"no {id.type_name} has id {id.node_id!r}")
        return found

    @strawberry.field(
        permission_classes=[CanReadPeople],
        description="A person by 360 ID; an absorbed (merged) ID finds the "
        "surviving person. Null when unknown, with a NOT_FOUND warning in the "
        "response's extensions.",
    )
    @graph_errors
    async def person(self, info: Info, id: str) -> Person | None:
        if not id.strip():
            raise ValidationError(FieldError("id", "must not be empty"))
        found = Person.of(await info.context.loaders.people.load(id.strip(), person_parts(info)))
        if found is None:
            warn(info, f"no person has 360 ID {id.strip()!r}, nor had it before a merge")
        return found

    @strawberry.field(
        permission_classes=[CanReadPeople],
        description="Several people by 360 ID (or alias) in one request, in the "
        "order asked; unknown ids are left out (a NOT_FOUND warning in the "
        "response's extensions names them). At most the page size.",
    )
    @graph_errors
    async def people(self, info: Info, ids: list[str]) -> list[Person]:
        if len(ids) > info.context.settings.max_page_size:
            raise ValidationError(
                FieldError("ids", f"at most {info.context.settings.max_page_size} per request")
            )
        asked = [i.strip() for i in ids]
        found = [
            Person.of(v)
            for v in await info.context.loaders.people.load_many(asked, person_parts(info))
        ]
        unknown = [i for i, p in zip(asked, found, strict=True) if p is None]
        if unknown:
            warn(info, f"no person has 360 ID {', '.join(map(repr, unknown))}; left out")
        return [p for p in found if p is not None]

    @strawberry.field(
        permission_classes=[CanReadPeople],
        description="The person holding a source's record. Null when unknown, "
        "with a NOT_FOUND warning in the response's extensions saying whether the "
        "source or the record is.",
    )
    @graph_errors
    async def person_by_source_record(
        self,
        info: Info,
        system: Annotated[str, strawberry.argument(name="source")],
        source_id: str,
    ) -> Person | None:
        # (the Python name differs: "source" collides with Strawberry's permission hook)
        ctx = info.context
        empty = [
            FieldError(name, "must not be empty")
            for name, value in (("source", system), ("sourceId", source_id))
            if not value.strip()
        ]
        if empty:
            raise ValidationError(empty)
        pid = await anyio.to_thread.run_sync(
            identifiers.person_id_by_record, ctx.driver, ctx.settings, f"{system}:{source_id}"
        )
        found = Person.of(await ctx.loaders.people.load(pid, person_parts(info))) if pid else None
        if found is None:
            warn(info, await _record_not_found(info, system, source_id))
        return found

    @strawberry.field(
        permission_classes=[CanReadPeople],
        description="The person with a normalised identifier (type EMAIL, "
        "PHONE, LOYALTY_ID, DEVICE_ID, COOKIE_ID, or NATIONAL_ID: not for marketers). "
        "Errors with CONFLICT when several people share it.",
    )
    @graph_errors
    async def person_by_identifier(self, info: Info, type: str, value: str) -> Person | None:
        ctx = info.context
        kind = type.strip().upper()
        if kind not in _IDENTIFIER_TYPES:
            raise ValidationError(FieldError("type", f"must be {', '.join(_IDENTIFIER_TYPES)}"))
        if kind in NEVER_FOR_MARKETERS and ctx.principal.role == Role.MARKETER:
            # a look-up would confirm a government id the role may never see
            raise GraphQLError(
                f"your role may not look people up by {kind}", extensions={"code": "FORBIDDEN"}
            )
        normalised = _normalise_identifier(kind, value)
        ids = await anyio.to_thread.run_sync(
            identifiers.person_id_by_identifier, ctx.driver, ctx.settings, kind, normalised
        )
        if len(ids) > 1:
            raise Conflict(f"{kind} {value!r} is shared by several people")
        loaded = await ctx.loaders.people.load(ids[0], person_parts(info)) if ids else None
        found = Person.of(loaded)
        if found is None:
            asked = f" (asked as {value!r})" if normalised != value else ""
            warn(info, f"no person holds {kind} {normalised!r}{asked}")
        return found

    @strawberry.field(
        permission_classes=[CanReadPeople],
        description="People by fuzzy name (accents, word order, nicknames and "
        "typos tolerated) and/or exact email or phone, best first.",
    )
    @graph_errors
    async def search_people(
        self,
        info: Info,
        name: str | None = None,
        email: str | None = None,
        phone: str | None = None,
        first: int | None = 10,
        after: str | None = None,
    ) -> Connection[Person]:
        ctx = info.context
        if not any(v and v.strip() for v in (name, email, phone)):
            raise ValidationError(FieldError("name", "give a name, an email or a phone"))
        ids: list[str] = []
        for kind, value in (("EMAIL", email), ("PHONE", phone)):
            if value and value.strip():
                ids += await anyio.to_thread.run_sync(
                    identifiers.person_id_by_identifier,
                    ctx.driver,
                    ctx.settings,
                    kind,
                    _normalise_identifier(kind, value, field=kind.lower()),
                )
        if name and name.strip():
            limit = ctx.settings.max_page_size
            hits = await anyio.to_thread.run_sync(
                people.search_people_by_name, ctx.driver, ctx.settings, name, limit
            )
            by_name = [pid for pid, score in hits if score >= 60]
            ids = [i for i in by_name if i in ids] if ids else by_name
        found = await ctx.loaders.people.load_many(list(dict.fromkeys(ids)), person_parts(info))
        found_people = [p for p in (Person.of(v) for v in found) if p is not None]
        return paginate(found_people, first, after, ctx.settings.max_page_size)

    @strawberry.field(permission_classes=[CanReadPeople], description="Every registered source.")
    @graph_errors
    async def sources(self, info: Info) -> list[SourceType]:
        ctx = info.context
        found = await anyio.to_thread.run_sync(graph_sources.list_sources, ctx.driver, ctx.settings)
        return [SourceType.of(s) for s in found]


async def _record_not_found(info: Info, system: str, source_id: str) -> str:
    """Why ``personBySourceRecord`` found no one: the source is unknown, or its record is."""
    ctx = info.context
    known = await anyio.to_thread.run_sync(graph_sources.list_sources, ctx.driver, ctx.settings)
    if system not in {s.id for s in known}:
        names = ", ".join(sorted(s.id for s in known)) or "none yet"
        return f"no source {system!r} is registered (sources: {names})"
    return f"source {system!r} has no resolved record {source_id!r}"


_IDENTIFIER_TYPES = ("EMAIL", "PHONE", "LOYALTY_ID", "DEVICE_ID", "COOKIE_ID", "NATIONAL_ID")


def _normalise_identifier(kind: str, value: str, field: str = "value") -> str:
    """The normalised identifier; errors name ``field`` (the argument that carried it)."""
    from graph.normalize import normalize_email, normalize_national_id, normalize_phone

    if kind == "EMAIL":
        result = normalize_email(value)
        if result.status != "ok" or result.key is None:
            raise ValidationError(FieldError(field, result.reason or "is not an email"))
        return result.key
    if kind == "PHONE":
        result = normalize_phone(value)
        if result.status != "ok" or result.key is None:
            raise ValidationError(
                FieldError(field, f"{result.reason or 'is not a phone number'} (use +country code)")
            )
        return result.key
    if kind == "NATIONAL_ID":
        national = normalize_national_id(value)
        if national.status != "ok" or national.key is None:
            raise ValidationError(FieldError(field, national.reason or "is not a national id"))
        return national.key
    text = value.strip()
    if not text:
        raise ValidationError(FieldError(field, "must not be empty"))
    return text.upper() if kind == "LOYALTY_ID" else text
