"""Object types: Person, SourceRecord, Source, consents and Relay connections."""

from __future__ import annotations

from collections.abc import Iterable
from enum import Enum

import strawberry
from strawberry import relay
from strawberry.types import Info

from api.auth import Role
from api.errors import graph_errors
from api.permissions import CanReadPeople
from api.schema.history import PersonHistory
from api.schema.lookahead import person_parts
from api.schema.pagination import Connection, paginate
from graph import views
from graph.models import SourceKind as GraphSourceKind

__all__ = ["ConsentType", "Person", "SourceRecord", "SourceType"]

SourceKind = strawberry.enum(Enum("SourceKind", {k.value: k.value for k in GraphSourceKind}),
                             description="What kind of system a source is.")


@strawberry.type(name="Source", description="A registered system that sends records.")
class SourceType:
    id: str
    kind: SourceKind  # type: ignore[valid-type]
    name: str
    priority: int


@strawberry.type(description="A normalised identifier of a record (EMAIL, PHONE, ...).")
class Identifier:
    type: str
    value: str


@strawberry.type(description="One field's score in a match, 0-100.")
class FieldScore:
    field: str
    score: float


@strawberry.type(description="Why a record belongs to its person.")
class WhyLinked:
    rule: str = strawberry.field(description="The match rule, or first_record / must_link.")
    score: float | None
    scores: list[FieldScore]
    matched_record: str | None = strawberry.field(description="Key of the record it matched.")
    linked_at: str | None = strawberry.field(description="When the record joined the person.")
    actor: str | None = strawberry.field(description="Who linked it (ingest, steward ...).")
    explained_at: str | None = strawberry.field(description="When this evidence was last "
                                                "recomputed (after the person lost records).")


@strawberry.type(name="Consent", description="The effective consent for a channel and "
                 "purpose: the latest consent event of any of the person's records.")
class ConsentType:
    channel: str
    purpose: str
    status: str
    at: str
    source_record: str | None


def _why(link: dict | None) -> WhyLinked | None:
    if link is None:
        return None
    return WhyLinked(rule=link["rule"], score=link.get("score"),
                     scores=[FieldScore(field=k, score=v) for k, v in link["scores"].items()],
                     matched_record=link.get("matched"), linked_at=link.get("linkedAt"),
                     actor=link.get("actor"), explained_at=link.get("explainedAt"))


@strawberry.type(description="One system's record of a person, as received (normalised), "
                 "with where it came from and why it belongs to its person.")
class SourceRecord(relay.Node):
    key: relay.NodeID[str] = strawberry.field(description="source:id, unique.")
    source_id: str = strawberry.field(description="The registered source.")
    source_kind: SourceKind  # type: ignore[valid-type]
    record_id: str = strawberry.field(description="The record's id in its source system.")
    given_name: str | None
    family_name: str | None
    birth_date: str | None
    email: str | None
    phone: str | None
    address_line1: str | None
    address_line2: str | None
    city: str | None
    postcode: str | None
    country: str | None
    loyalty_id: str | None
    identifiers: list[Identifier]
    quality_flags: list[str]
    updated_at: str | None
    raw: str | None = strawberry.field(description="The row as the source sent it (JSON).")
    why_linked: WhyLinked | None
    person_id: strawberry.Private[str | None]

    @strawberry.field(name="recordKey", description="source:id, unique across sources.")
    def record_key(self) -> str:
        return self.key

    @strawberry.field(description="The person this record belongs to.")
    async def person(self, info: Info) -> Person | None:
        if self.person_id is None:
            return None
        return Person.of(await info.context.loaders.people.load(self.person_id,
                                                                person_parts(info)))

    @classmethod
    def of(cls, r: views.RecordView) -> SourceRecord:
        a = r.attributes
        return cls(
            key=r.key, source_id=r.source_id, source_kind=SourceKind[r.source_kind],
            record_id=r.source_record_id, given_name=a.get("givenName"),
            family_name=a.get("familyName"), birth_date=a.get("birthDate"),
            email=a.get("email"), phone=a.get("phone"), address_line1=a.get("addressLine1"),
            address_line2=a.get("addressLine2"), city=a.get("city"), postcode=a.get("postcode"),
            country=a.get("country"), loyalty_id=a.get("loyaltyId"),
            identifiers=[Identifier(type=t, value=v) for t, v in r.identifiers],
            quality_flags=list(r.quality_flags), updated_at=r.updated_at, raw=r.raw,
            why_linked=_why(r.link), person_id=r.person_id)

    @classmethod
    @graph_errors
    def resolve_nodes(cls, *, info: Info, node_ids: Iterable[str], required: bool = False):  # noqa: ANN206
        keys = list(node_ids)  # may be a one-shot iterator
        found = views.records_by_keys(info.context.driver, info.context.settings, keys)
        return [cls.of(found[k]) if k in found else None for k in keys]


_CONSENTED_CHANNEL = {"email": "EMAIL", "phone": "SMS"}


@strawberry.type(description="The unified individual: one stable 360 ID across every system, "
                 "golden attributes reconciled from the records.")
class Person(PersonHistory, relay.Node):
    person_id: relay.NodeID[str] = strawberry.field(description="The stable 360 ID.")
    given_name: str | None
    family_name: str | None
    birth_date: str | None
    address_line1: str | None
    address_line2: str | None
    city: str | None
    postcode: str | None
    country: str | None
    loyalty_id: str | None
    sources: list[str]
    record_count: int
    aliases: list[str] = strawberry.field(description="Absorbed 360 IDs that still resolve "
                                          "to this person.")
    created_at: str
    updated_at: str
    raw_email: strawberry.Private[str | None]
    raw_phone: strawberry.Private[str | None]

    @strawberry.field(name="personId", description="The stable 360 ID (the id above is its "
                      "Relay global ID).")
    def id_360(self) -> str:
        return self.person_id

    @classmethod
    def of(cls, p: views.PersonView | None) -> Person | None:
        if p is None:
            return None
        g = p.golden
        return cls(
            person_id=p.id, given_name=g.get("givenName"), family_name=g.get("familyName"),
            birth_date=g.get("birthDate"), address_line1=g.get("addressLine1"),
            address_line2=g.get("addressLine2"), city=g.get("city"), postcode=g.get("postcode"),
            country=g.get("country"), loyalty_id=g.get("loyaltyId"), sources=list(p.sources),
            record_count=p.record_count, aliases=list(p.aliases), created_at=p.created_at,
            updated_at=p.updated_at, raw_email=g.get("email"), raw_phone=g.get("phone"))

    async def _identifier(self, info: Info, value: str | None, channel: str) -> str | None:
        if value is None or info.context.principal.role != Role.MARKETER:
            return value
        consents = await info.context.loaders.consents.load(self.person_id)
        granted = any(c.channel == channel and c.purpose == "MARKETING"
                      and c.status == "GRANTED" for c in consents)
        return value if granted else None

    @strawberry.field(description="Golden email (null for marketers without email consent).")
    async def email(self, info: Info) -> str | None:
        return await self._identifier(info, self.raw_email, "EMAIL")

    @strawberry.field(description="Golden phone (null for marketers without SMS consent).")
    async def phone(self, info: Info) -> str | None:
        return await self._identifier(info, self.raw_phone, "SMS")

    @strawberry.field(description="This person's records, optionally of one source kind.")
    @graph_errors
    async def source_records(self, info: Info, kind: SourceKind | None = None,  # type: ignore[valid-type]
                             first: int | None = None, after: str | None = None
                             ) -> Connection[SourceRecord]:
        records = await info.context.loaders.records.load(self.person_id)
        if kind is not None:
            records = [r for r in records if r.source_kind == kind.value]
        return paginate([SourceRecord.of(r) for r in records], first, after,
                        info.context.settings.max_page_size)

    @strawberry.field(description="Effective consent per channel and purpose.")
    async def consents(self, info: Info) -> list[ConsentType]:
        found = await info.context.loaders.consents.load(self.person_id)
        return [ConsentType(channel=c.channel, purpose=c.purpose, status=c.status, at=c.at,
                            source_record=c.source_key) for c in found]

    @classmethod
    @graph_errors
    def resolve_nodes(cls, *, info: Info, node_ids: Iterable[str], required: bool = False):  # noqa: ANN206
        ids = list(node_ids)  # may be a one-shot iterator
        found = views.people_by_ids(info.context.driver, info.context.settings, ids)
        return [cls.of(found.get(i)) for i in ids]


PERSON_PERMISSIONS = [CanReadPeople]
