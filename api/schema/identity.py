"""What a person is known by: every email, phone and address with the records reporting it,
why each record belongs to the person, and the person's resolution events.

:class:`PersonIdentity` is a base of ``Person`` (it reads ``self.person_id``); its fields are
computed from the person's records (the records DataLoader, no query of their own) except
``resolutionEvents`` (one query for all people of a request).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import Any

import strawberry
from strawberry.types import Info

from api.auth import Role
from api.errors import graph_errors
from api.schema.audit import ResolutionEventType, events_of_person
from api.schema.pagination import Connection
from api.schema.subscriptions import IdentityEventKind
from graph.normalize import parse_moment
from graph.store import people

__all__ = [
    "CHANNEL_OF",
    "ConsentedIdentifiers",
    "FieldScore",
    "KnownAddress",
    "KnownValue",
    "NEVER_FOR_MARKETERS",
    "LinkExplanation",
    "PersonIdentity",
    "WhyLinked",
    "explain_link",
    "shown",
    "visible_identifiers",
    "visible_to_marketer",
    "why_linked",
]

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

#: The consent channel covering each identifier type; a marketer sees an identifier only with
#: the person's GRANTED MARKETING consent for its channel, and one of another type (a loyalty
#: id) only with some GRANTED MARKETING consent.
CHANNEL_OF = {"EMAIL": "EMAIL", "PHONE": "SMS", "DEVICE_ID": "PUSH", "COOKIE_ID": "WEB"}
#: Identifier types a marketer never sees, whatever the consent: government ids.
NEVER_FOR_MARKETERS = frozenset({"NATIONAL_ID"})


async def visible_identifiers(
    info: Info, person_id: str | None, identifiers: Iterable[tuple[str, str]]
) -> list[tuple[str, str]]:
    """The ``(type, value)`` identifiers of a person the caller may see: all, except for a
    marketer (see :data:`CHANNEL_OF`; none of a record without a person, never one of
    :data:`NEVER_FOR_MARKETERS`)."""
    identifiers = list(identifiers)
    if info.context.principal.role != Role.MARKETER:
        return identifiers
    if person_id is None:
        return []
    return visible_to_marketer(await info.context.loaders.consents.load(person_id), identifiers)


def visible_to_marketer(
    consents: Iterable[people.ConsentView], identifiers: Iterable[tuple[str, str]]
) -> list[tuple[str, str]]:
    """The ``(type, value)`` identifiers a marketer may see of a person with these effective
    ``consents``: those of a channel with GRANTED MARKETING consent (:data:`CHANNEL_OF`),
    others (a loyalty id) with any GRANTED MARKETING consent, never :data:`NEVER_FOR_MARKETERS`."""
    granted = {c.channel for c in consents if c.purpose == "MARKETING" and c.status == "GRANTED"}
    return [
        (t, v)
        for t, v in identifiers
        if t not in NEVER_FOR_MARKETERS
        and (CHANNEL_OF[t] in granted if t in CHANNEL_OF else bool(granted))
    ]


def shown(info: Info, person_id: str | None, identifier_type: str, value: Any) -> Any:
    """An identifier as the caller may see it: the value itself for every role but marketer
    (so the field resolves without an await, as cheap as a plain attribute), for a marketer an
    awaitable of the value or None (see :func:`visible_identifiers`; GraphQL awaits it)."""
    if value is None or info.context.principal.role != Role.MARKETER:
        return value
    return _shown_to_marketer(info, person_id, identifier_type, value)


async def _shown_to_marketer(
    info: Info, person_id: str | None, identifier_type: str, value: Any
) -> Any:
    visible = await visible_identifiers(info, person_id, [(identifier_type, "")])
    return value if visible else None


@strawberry.type
class ConsentedIdentifiers:
    """Base of Person (golden values) and SourceRecord (the record's own): email, phone and
    loyalty id as the caller may see them (:func:`shown`); reads ``person_id``, ``raw_email``,
    ``raw_phone`` and ``raw_loyalty_id`` of the subclass."""

    @strawberry.field(
        description="Email (golden for a person; null for marketers without email consent)."
    )
    def email(self, info: Info) -> str | None:
        return shown(info, self.person_id, "EMAIL", self.raw_email)  # type: ignore[attr-defined]

    @strawberry.field(
        description="Phone, E.164 (golden for a person; null for marketers without SMS consent)."
    )
    def phone(self, info: Info) -> str | None:
        return shown(info, self.person_id, "PHONE", self.raw_phone)  # type: ignore[attr-defined]

    @strawberry.field(
        description="Loyalty id (golden for a person; null for marketers "
        "without any marketing consent)."
    )
    def loyalty_id(self, info: Info) -> str | None:
        return shown(info, self.person_id, "LOYALTY_ID", self.raw_loyalty_id)  # type: ignore[attr-defined]


@strawberry.type(
    description="A value (email, phone) a person is known by, with the records that report it."
)
class KnownValue:
    value: str = strawberry.field(
        description="The normalised value (lower-case email, E.164 phone)."
    )
    record_keys: list[str] = strawberry.field(description="The records reporting it (source:id).")
    sources: list[str] = strawberry.field(description="Their sources.")
    last_updated_at: str | None = strawberry.field(
        description="The newest updatedAt among those records (ISO 8601)."
    )


@strawberry.type(
    description="A postal address a person is known by, with the records that report it."
)
class KnownAddress:
    address_line1: str | None
    address_line2: str | None
    city: str | None
    postcode: str | None
    country: str | None
    record_keys: list[str]
    sources: list[str]
    last_updated_at: str | None


@strawberry.type(
    description="One field's score in a match: 0-100 for a rule; for the match model "
    "(rule match_model) field is comparison:level and score its weight in bits."
)
class FieldScore:
    field: str
    score: float


@strawberry.type(description="Why a record belongs to its person.")
class WhyLinked:
    rule: str = strawberry.field(
        description="The match rule, match_model (score = match weight in bits), or "
        "first_record / must_link."
    )
    score: float | None
    scores: list[FieldScore]
    matched_record: str | None = strawberry.field(description="Key of the record it matched.")
    linked_at: str | None = strawberry.field(description="When the record joined the person.")
    actor: str | None = strawberry.field(description="Who linked it (ingest, steward ...).")
    explained_at: str | None = strawberry.field(
        description="When this evidence was last recomputed (after the person lost records)."
    )
    rules_version: str | None = strawberry.field(
        default=None, description="The rule file version that decided the link."
    )
    model_version: str | None = strawberry.field(
        default=None, description="The match model version that decided the link."
    )


def why_linked(link: dict[str, Any] | None) -> WhyLinked | None:
    """The stored evidence of a ``HAS_RECORD`` link (see :class:`graph.store.people.RecordView`)."""
    if link is None:
        return None
    return WhyLinked(
        rule=link["rule"],
        score=link.get("score"),
        scores=[FieldScore(field=k, score=v) for k, v in link["scores"].items()],
        matched_record=link.get("matched"),
        linked_at=link.get("linkedAt"),
        actor=link.get("actor"),
        explained_at=link.get("explainedAt"),
        rules_version=link.get("rulesVersion"),
        model_version=link.get("modelVersion"),
    )


@strawberry.type(description="Why a person holds one of its records.")
class LinkExplanation:
    record_key: str
    source: str
    why_linked: WhyLinked
    summary: str = strawberry.field(description="The same in one sentence.")


def explain_link(record: people.RecordView) -> LinkExplanation | None:
    """Why a record's person holds it (None for a record without a person)."""
    why = why_linked(record.link)
    if why is None:
        return None
    if why.rule == "first_record" or why.matched_record is None:
        summary = f"{record.key} started the person (rule {why.rule})"
    else:
        detail = ", ".join(f"{s.field} {s.score:g}" for s in why.scores)
        summary = f"{record.key} matches {why.matched_record} by rule {why.rule}" + (
            f" ({detail})" if detail else ""
        )
    return LinkExplanation(
        record_key=record.key, source=record.source_id, why_linked=why, summary=summary
    )


def _group(
    records: Iterable[people.RecordView], value: Callable[[people.RecordView], Any]
) -> list[tuple[Any, list[people.RecordView]]]:
    """Records grouped by a non-empty value; most reported first, then newest, then value."""
    groups: dict[Any, list[people.RecordView]] = {}
    for record in records:
        key = value(record)
        if key:
            groups.setdefault(key, []).append(record)
    return sorted(
        groups.items(),
        key=lambda kv: (-len(kv[1]), _newest(kv[1]) or "", str(kv[0])),
        reverse=False,
    )


def _newest(records: list[people.RecordView]) -> str | None:
    stamped = [r.updated_at for r in records if r.updated_at]
    return max(stamped, key=parse_moment, default=None)  # by time: ISO text drops zeros


def _known(records: list[people.RecordView], field: str) -> list[KnownValue]:
    return [
        KnownValue(
            value=value,
            record_keys=sorted(r.key for r in group),
            sources=sorted({r.source_id for r in group}),
            last_updated_at=_newest(group),
        )
        for value, group in _group(records, lambda r: r.attributes.get(field))
    ]


_ADDRESS = ("addressLine1", "addressLine2", "city", "postcode", "country")


def _address(record: people.RecordView) -> tuple[Any, ...] | None:
    values = tuple(record.attributes.get(a) for a in _ADDRESS)
    return values if values[0] or values[3] else None  # a street or a postcode at least


@strawberry.type
class PersonIdentity:
    """Base of Person: identifiers and addresses with their records, link explanations and
    resolution events (``person_id`` is Person's)."""

    @strawberry.field(
        description="Every email of the person's records with the records "
        "reporting it, most reported first (empty for marketers without email "
        "consent)."
    )
    async def emails(self, info: Info) -> list[KnownValue]:
        if not await visible_identifiers(info, self.person_id, [("EMAIL", "")]):  # type: ignore[attr-defined]
            return []
        return _known(await info.context.loaders.records.load(self.person_id), "email")  # type: ignore[attr-defined]

    @strawberry.field(
        description="Every phone (E.164) of the person's records with the "
        "records reporting it, most reported first (empty for marketers without "
        "SMS consent)."
    )
    async def phones(self, info: Info) -> list[KnownValue]:
        if not await visible_identifiers(info, self.person_id, [("PHONE", "")]):  # type: ignore[attr-defined]
            return []
        return _known(await info.context.loaders.records.load(self.person_id), "phone")  # type: ignore[attr-defined]

    @strawberry.field(
        description="Every postal address of the person's records with the "
        "records reporting it, most reported first."
    )
    async def addresses(self, info: Info) -> list[KnownAddress]:
        records = await info.context.loaders.records.load(self.person_id)  # type: ignore[attr-defined]
        return [
            KnownAddress(
                address_line1=a[0],
                address_line2=a[1],
                city=a[2],
                postcode=a[3],
                country=a[4],
                record_keys=sorted(r.key for r in group),
                sources=sorted({r.source_id for r in group}),
                last_updated_at=_newest(group),
            )
            for a, group in _group(records, _address)
        ]

    @strawberry.field(
        description="Why the person holds each of its records (rule, scores, "
        "the record it matched, when and by whom), in the order they joined."
    )
    async def explanation(self, info: Info) -> list[LinkExplanation]:
        records = await info.context.loaders.records.load(self.person_id)  # type: ignore[attr-defined]
        links = [link for r in records if (link := explain_link(r)) is not None]
        return sorted(
            links,
            key=lambda link: (
                parse_moment(link.why_linked.linked_at) if link.why_linked.linked_at else _EPOCH,
                link.record_key,
            ),
        )

    @strawberry.field(
        description="The person's resolution events, newest first (including "
        "those of people it absorbed)."
    )
    @graph_errors
    async def resolution_events(
        self,
        info: Info,
        kinds: list[IdentityEventKind] | None = None,
        first: int | None = 20,
        after: str | None = None,
    ) -> Connection[ResolutionEventType]:
        return await events_of_person(info, self.person_id, kinds, first, after)  # type: ignore[attr-defined]
