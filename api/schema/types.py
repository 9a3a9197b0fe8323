"""Object types: Person, SourceRecord, Source, consents and Relay connections."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from enum import Enum
from typing import Any, overload

import anyio
import strawberry
from strawberry import relay
from strawberry.scalars import JSON
from strawberry.types import Info

from api.auth import Role
from api.errors import graph_errors
from api.permissions import CanReadPeople
from api.schema.history import PersonHistory
from api.schema.identity import (
    ConsentedIdentifiers,
    PersonIdentity,
    WhyLinked,
    visible_identifiers,
    why_linked,
)
from api.schema.journeys import PersonJourneys
from api.schema.lookahead import person_parts
from api.schema.pagination import Connection, paginate
from api.schema.person_segments import PersonSegments
from graph.models import Source
from graph.store import people
from graph.store import sources as graph_sources

__all__ = ["ConsentType", "InvalidValue", "Person", "SourceRecord", "SourceType"]


@strawberry.enum(description="What kind of system a source is.")
class SourceKind(Enum):
    """:class:`graph.models.SourceKind` in the schema (a test keeps the two equal)."""

    SERVICE = "SERVICE"
    MARKETING = "MARKETING"
    COMMERCE = "COMMERCE"
    STORE = "STORE"
    OTHER = "OTHER"


@strawberry.type(name="Source", description="A registered system that sends records.")
class SourceType:
    id: str
    kind: SourceKind
    name: str
    priority: int

    @classmethod
    def of(cls, source: Source) -> SourceType:
        return cls(
            id=source.id,
            kind=SourceKind[source.kind.value],
            name=source.name,
            priority=source.priority,
        )


async def source_of(info: Info, source_id: str) -> SourceType:
    """A registered source by id (all sources of a request come with one query)."""
    ctx = info.context
    known = ctx.extra.get("sources")
    if known is None:
        found = await anyio.to_thread.run_sync(graph_sources.list_sources, ctx.driver, ctx.settings)
        known = ctx.extra["sources"] = {s.id: SourceType.of(s) for s in found}
    return known[source_id]


@strawberry.type(description="A normalised identifier of a record (EMAIL, PHONE, ...).")
class Identifier:
    type: str
    value: str


@strawberry.type(
    description="A value of a record's field that was malformed (a birth date 1955-11-92, an "
    "invalid email, a placeholder national id): kept as received, not stored as the field's "
    "value and not used to match."
)
class InvalidValue:
    field: str = strawberry.field(description="The canonical field (birthDate, email ...).")
    reason: str
    value: str | None = strawberry.field(
        description="The value as received; null for marketers (it is part of the raw row)."
    )


@strawberry.type(
    name="Consent",
    description="The effective consent for a channel and "
    "purpose: the latest consent event of any of the person's records.",
)
class ConsentType:
    channel: str
    purpose: str
    status: str
    at: str
    source_record: str | None


@strawberry.type
class NameAndAddress:
    """Base of Person (golden values) and SourceRecord (the record's own): the name, birth
    date and postal address both expose, built by :meth:`values` from a property map."""

    given_name: str | None
    family_name: str | None
    birth_date: str | None
    address_line1: str | None
    address_line2: str | None
    city: str | None
    postcode: str | None
    country: str | None

    @staticmethod
    def values(props: Mapping[str, Any]) -> dict[str, Any]:
        """The constructor arguments of these fields from graph properties (camelCase)."""
        return {name: props.get(prop) for name, prop in _NAME_AND_ADDRESS.items()}


_NAME_AND_ADDRESS = {
    "given_name": "givenName",
    "family_name": "familyName",
    "birth_date": "birthDate",
    "address_line1": "addressLine1",
    "address_line2": "addressLine2",
    "city": "city",
    "postcode": "postcode",
    "country": "country",
}


@strawberry.type(
    description="One system's record of a person, as received (normalised), "
    "with where it came from, why it belongs to its person, and its own history "
    "(orders, carts, cases, engagement, consent events it reported)."
)
class SourceRecord(PersonHistory, NameAndAddress, ConsentedIdentifiers, relay.Node):
    key: relay.NodeID[str] = strawberry.field(description="source:id, unique.")
    source_id: str = strawberry.field(description="The registered source.")
    source_kind: SourceKind
    record_id: str = strawberry.field(description="The record's id in its source system.")
    quality_flags: list[str]
    updated_at: str | None
    why_linked: WhyLinked | None
    person_id: strawberry.Private[str | None]
    raw_email: strawberry.Private[str | None]
    raw_phone: strawberry.Private[str | None]
    raw_loyalty_id: strawberry.Private[str | None]
    raw_identifiers: strawberry.Private[list[tuple[str, str]]]
    raw_row: strawberry.Private[str | None]
    extra: strawberry.Private[str | None]
    raw_national_id: strawberry.Private[str | None]
    invalid: strawberry.Private[str | None]

    @strawberry.field(name="recordKey", description="source:id, unique across sources.")
    def record_key(self) -> str:
        return self.key

    @strawberry.field(
        description="Normalised identifiers; a marketer sees each only with the "
        "person's marketing consent for its channel."
    )
    def identifiers(self, info: Info) -> list[Identifier]:
        if info.context.principal.role != Role.MARKETER:
            return [Identifier(type=t, value=v) for t, v in self.raw_identifiers]
        return self._identifiers_for_marketer(info)  # type: ignore[return-value]

    async def _identifiers_for_marketer(self, info: Info) -> list[Identifier]:
        visible = await visible_identifiers(info, self.person_id, self.raw_identifiers)
        return [Identifier(type=t, value=v) for t, v in visible]

    @strawberry.field(description="The row as the source sent it (JSON); null for marketers.")
    def raw(self, info: Info) -> str | None:
        return None if info.context.principal.role == Role.MARKETER else self.raw_row

    @strawberry.field(
        description="The government id (SSN and the like), normalised; never shown to "
        "marketers (null for them, and left out of their identifiers)."
    )
    def national_id(self, info: Info) -> str | None:
        return None if info.context.principal.role == Role.MARKETER else self.raw_national_id

    @strawberry.field(
        description="Malformed values of this record, kept as received and not used to "
        "match (qualityFlags says the same in words)."
    )
    def invalid_fields(self, info: Info) -> list[InvalidValue]:
        marketer = info.context.principal.role == Role.MARKETER
        found = json.loads(self.invalid) if self.invalid else {}
        return [
            InvalidValue(field=name, reason=v["reason"], value=None if marketer else v.get("value"))
            for name, v in sorted(found.items())
        ]

    @strawberry.field(
        description="Fields of the row outside the canonical record (a JSON "
        "object), null when there were none."
    )
    def attributes(self) -> JSON | None:
        return json.loads(self.extra) if self.extra else None

    @strawberry.field(description="The registered source the record came from.")
    async def source(self, info: Info) -> SourceType:
        return await source_of(info, self.source_id)

    @strawberry.field(description="The person this record belongs to.")
    async def person(self, info: Info) -> Person | None:
        if self.person_id is None:
            return None
        return Person.of(await info.context.loaders.people.load(self.person_id, person_parts(info)))

    async def _history(self, info: Info, kind: str) -> list[dict[str, Any]]:
        """The rows of the person's history this record reported."""
        if self.person_id is None:
            return []
        rows = await info.context.loaders.history(kind, self.person_id)
        field = "sourceKey" if kind == "consentHistory" else "recordKey"
        return [r for r in rows if r.get(field) == self.key]

    @classmethod
    def of(cls, r: people.RecordView) -> SourceRecord:
        a = r.attributes
        return cls(
            key=r.key,
            source_id=r.source_id,
            source_kind=SourceKind[r.source_kind],
            record_id=r.source_record_id,
            **NameAndAddress.values(a),
            quality_flags=list(r.quality_flags),
            updated_at=r.updated_at,
            why_linked=why_linked(r.link),
            person_id=r.person_id,
            raw_email=a.get("email"),
            raw_phone=a.get("phone"),
            raw_loyalty_id=a.get("loyaltyId"),
            raw_identifiers=list(r.identifiers),
            raw_row=r.raw,
            extra=a.get("attributes"),
            raw_national_id=a.get("nationalId"),
            invalid=a.get("invalidFields"),
        )

    @classmethod
    @graph_errors
    async def resolve_nodes(cls, *, info: Info, node_ids: Iterable[str], required: bool = False):
        keys = list(node_ids)  # may be a one-shot iterator
        found = await anyio.to_thread.run_sync(
            people.records_by_keys, info.context.driver, info.context.settings, keys
        )
        return [cls.of(found[k]) if k in found else None for k in keys]


@strawberry.type(
    description="The unified individual: one stable 360 ID across every system, "
    "golden attributes reconciled from the records."
)
class Person(
    PersonHistory,
    PersonIdentity,
    NameAndAddress,
    ConsentedIdentifiers,
    PersonSegments,
    PersonJourneys,
    relay.Node,
):
    person_id: relay.NodeID[str] = strawberry.field(description="The stable 360 ID.")
    sources: list[str]
    record_count: int
    aliases: list[str] = strawberry.field(
        description="Absorbed 360 IDs that still resolve to this person."
    )
    created_at: str
    updated_at: str
    raw_email: strawberry.Private[str | None]
    raw_phone: strawberry.Private[str | None]
    raw_loyalty_id: strawberry.Private[str | None]

    @strawberry.field(
        name="personId", description="The stable 360 ID (the id above is its Relay global ID)."
    )
    def id_360(self) -> str:
        return self.person_id

    @classmethod
    @overload
    def of(cls, p: people.PersonView) -> Person: ...
    @classmethod
    @overload
    def of(cls, p: None) -> None: ...
    @classmethod
    @overload
    def of(cls, p: people.PersonView | None) -> Person | None: ...
    @classmethod
    def of(cls, p: people.PersonView | None) -> Person | None:
        if p is None:
            return None
        g = p.golden
        return cls(
            person_id=p.id,
            **NameAndAddress.values(g),
            sources=list(p.sources),
            record_count=p.record_count,
            aliases=list(p.aliases),
            created_at=p.created_at,
            updated_at=p.updated_at,
            raw_email=g.get("email"),
            raw_phone=g.get("phone"),
            raw_loyalty_id=g.get("loyaltyId"),
        )

    @strawberry.field(description="This person's records, optionally of one source kind.")
    @graph_errors
    async def source_records(
        self,
        info: Info,
        kind: SourceKind | None = None,
        first: int | None = None,
        after: str | None = None,
    ) -> Connection[SourceRecord]:
        records = await info.context.loaders.records.load(self.person_id)
        if kind is not None:
            records = [r for r in records if r.source_kind == kind.value]
        return paginate(
            [SourceRecord.of(r) for r in records], first, after, info.context.settings.max_page_size
        )

    @strawberry.field(description="Effective consent per channel and purpose.")
    async def consents(self, info: Info) -> list[ConsentType]:
        found = await info.context.loaders.consents.load(self.person_id)
        return [
            ConsentType(
                channel=c.channel,
                purpose=c.purpose,
                status=c.status,
                at=c.at,
                source_record=c.source_key,
            )
            for c in found
        ]

    @classmethod
    @graph_errors
    async def resolve_nodes(cls, *, info: Info, node_ids: Iterable[str], required: bool = False):
        ids = list(node_ids)  # may be a one-shot iterator
        found = await anyio.to_thread.run_sync(
            people.people_by_ids, info.context.driver, info.context.settings, ids
        )
        return [cls.of(found.get(i)) for i in ids]


PERSON_PERMISSIONS = [CanReadPeople]
