"""A person's history across systems: orders, carts, cases, engagement, consent events and
the merged timeline. Each kind is loaded for all people of a request with one query."""

from __future__ import annotations

from enum import Enum
from typing import Any

import strawberry
from strawberry.types import Info

from api.errors import graph_errors
from api.schema.pagination import Connection, paginate
from graph.errors import FieldError, ValidationError
from graph.normalize import parse_moment

__all__ = ["PersonHistory", "order_line", "timeline_summary"]


@strawberry.type(description="A product line of an order or cart.")
class Line:
    sku: str
    name: str | None
    category: str | None
    quantity: int | None
    unit_price: float | None


@strawberry.type(description="An order placed through one system's record.")
class Order:
    key: str
    order_id: str | None
    source_id: str | None
    source_record: str
    placed_at: str | None
    status: str | None
    total: float | None
    currency: str | None
    lines: list[Line]


@strawberry.type(description="A shopping cart (OPEN, ABANDONED or CONVERTED).")
class Cart:
    key: str
    cart_id: str | None
    source_id: str | None
    source_record: str
    status: str | None
    updated_at: str | None
    total: float | None
    currency: str | None
    lines: list[Line]


@strawberry.type(description="A service desk case.")
class Case:
    key: str
    case_id: str | None
    source_id: str | None
    source_record: str
    subject: str | None
    status: str | None
    channel: str | None
    opened_at: str | None
    closed_at: str | None


@strawberry.type(description="A marketing engagement event (SENT, OPENED, CLICKED ...).")
class Engagement:
    key: str
    source_id: str | None
    source_record: str
    type: str
    channel: str | None
    campaign: str | None
    at: str | None


@strawberry.type(description="One consent event (the history behind the effective consents).")
class ConsentEvent:
    key: str
    channel: str
    purpose: str
    status: str
    at: str | None
    source_record: str | None


@strawberry.enum(description="Kinds of timeline entries.")
class TimelineType(Enum):
    ORDER = "ORDER"
    CASE = "CASE"
    ENGAGEMENT = "ENGAGEMENT"
    CONSENT = "CONSENT"


@strawberry.type(description="One entry of the merged, time-ordered history of a person.")
class TimelineEntry:
    at: str
    type: TimelineType
    source_record: str | None
    summary: str


def timeline_summary(type: str, r: dict[str, Any]) -> str:
    """The one-line summary of a timeline entry of ``type`` (ORDER, CASE, ENGAGEMENT,
    CONSENT) from its row's fields (an order's id, status, total, currency; a case's id,
    subject, status; an engagement's type, channel, campaign; a consent's channel, purpose,
    status)."""
    if type == "ORDER":
        return (
            f"order {r['id']} {r['status'] or ''} {r['total'] or ''} {r['currency'] or ''}".strip()
        )
    if type == "CASE":
        return f"case {r['id']}: {r['subject'] or ''} ({r['status'] or ''})"
    if type == "ENGAGEMENT":
        return f"{r['type']} {r['channel'] or ''} {r['campaign'] or ''}".strip()
    return f"{r['channel']} {r['purpose']} {r['status']}"


def order_line(r: dict[str, Any]) -> dict[str, Any]:
    """A product line's fields (Line's, by GraphQL name) from a history row's line."""
    return {
        "sku": r["sku"],
        "name": r.get("name"),
        "category": r.get("category"),
        "quantity": r.get("quantity"),
        "unitPrice": r.get("unitPrice"),
    }


def _lines(rows: list[dict]) -> list[Line]:
    return [
        Line(
            sku=r["sku"],
            name=r.get("name"),
            category=r.get("category"),
            quantity=r.get("quantity"),
            unit_price=r.get("unitPrice"),
        )
        for r in rows
    ]


def _window(items: list, key: str, since: str | None, until: str | None) -> list:
    """Items whose ``key`` time is in [since, until); raises BAD_USER_INPUT for bad bounds."""
    bounds = []
    for name, value in (("since", since), ("until", until)):
        try:
            bounds.append(parse_moment(value) if value else None)
        except ValueError as exc:
            raise ValidationError(FieldError(name, str(exc))) from exc
    low, high = bounds
    if low is None and high is None:
        return items
    out = []
    for item in items:
        raw = getattr(item, key)
        if not raw:
            continue
        moment = parse_moment(raw)
        if (low is None or moment >= low) and (high is None or moment < high):
            out.append(item)
    return out


@strawberry.type
class PersonHistory:
    """Base of Person and SourceRecord: history fields over the rows :meth:`_history` gives
    (a person's: those of all its records, loaded for every person of a request at once)."""

    async def _history(self, info: Info, kind: str) -> list[dict[str, Any]]:
        """The rows of one history kind, newest first."""
        return await info.context.loaders.history(kind, self.person_id)  # type: ignore[attr-defined]

    @strawberry.field(description="Orders, newest first; since/until filter placedAt (ISO).")
    @graph_errors
    async def orders(
        self,
        info: Info,
        first: int | None = 10,
        after: str | None = None,
        since: str | None = None,
        until: str | None = None,
    ) -> Connection[Order]:
        rows = await self._history(info, "orders")
        items = [
            Order(
                key=r["key"],
                order_id=r["id"],
                source_id=r["source"],
                source_record=r["recordKey"],
                placed_at=r["placedAt"],
                status=r["status"],
                total=r["total"],
                currency=r["currency"],
                lines=_lines(r["lines"]),
            )
            for r in rows
        ]
        return paginate(
            _window(items, "placed_at", since, until),
            first,
            after,
            info.context.settings.max_page_size,
        )

    @strawberry.field(description="Carts, most recently updated first.")
    @graph_errors
    async def carts(
        self, info: Info, first: int | None = 10, after: str | None = None
    ) -> Connection[Cart]:
        rows = await self._history(info, "carts")
        items = [
            Cart(
                key=r["key"],
                cart_id=r["id"],
                source_id=r["source"],
                source_record=r["recordKey"],
                status=r["status"],
                updated_at=r["updatedAt"],
                total=r["total"],
                currency=r["currency"],
                lines=_lines(r["lines"]),
            )
            for r in rows
        ]
        return paginate(items, first, after, info.context.settings.max_page_size)

    @strawberry.field(description="Service cases, newest first; since/until filter openedAt.")
    @graph_errors
    async def cases(
        self,
        info: Info,
        first: int | None = 10,
        after: str | None = None,
        since: str | None = None,
        until: str | None = None,
    ) -> Connection[Case]:
        rows = await self._history(info, "cases")
        items = [
            Case(
                key=r["key"],
                case_id=r["id"],
                source_id=r["source"],
                source_record=r["recordKey"],
                subject=r["subject"],
                status=r["status"],
                channel=r["channel"],
                opened_at=r["openedAt"],
                closed_at=r["closedAt"],
            )
            for r in rows
        ]
        return paginate(
            _window(items, "opened_at", since, until),
            first,
            after,
            info.context.settings.max_page_size,
        )

    @strawberry.field(description="Engagement events, newest first; optional type filter.")
    @graph_errors
    async def engagements(
        self,
        info: Info,
        first: int | None = 20,
        after: str | None = None,
        type: str | None = None,
        since: str | None = None,
        until: str | None = None,
    ) -> Connection[Engagement]:
        rows = await self._history(info, "engagements")
        items = [
            Engagement(
                key=r["key"],
                source_id=r["source"],
                source_record=r["recordKey"],
                type=r["type"],
                channel=r["channel"],
                campaign=r["campaign"],
                at=r["at"],
            )
            for r in rows
            if type is None or r["type"] == type.strip().upper()
        ]
        return paginate(
            _window(items, "at", since, until), first, after, info.context.settings.max_page_size
        )

    @strawberry.field(description="Every consent event, newest first.")
    @graph_errors
    async def consent_history(
        self, info: Info, first: int | None = 20, after: str | None = None
    ) -> Connection[ConsentEvent]:
        rows = await self._history(info, "consentHistory")
        items = [
            ConsentEvent(
                key=r["key"],
                channel=r["channel"],
                purpose=r["purpose"],
                status=r["status"],
                at=r["at"],
                source_record=r["sourceKey"],
            )
            for r in rows
        ]
        return paginate(items, first, after, info.context.settings.max_page_size)

    @strawberry.field(
        description="Orders, cases, engagement and consent events merged and "
        "sorted by time, newest first."
    )
    @graph_errors
    async def timeline(
        self,
        info: Info,
        first: int | None = 20,
        after: str | None = None,
        types: list[TimelineType] | None = None,
        since: str | None = None,
        until: str | None = None,
    ) -> Connection[TimelineEntry]:
        wanted = set(types or TimelineType)
        entries: list[TimelineEntry] = []
        if TimelineType.ORDER in wanted:
            entries += [
                TimelineEntry(
                    at=r["placedAt"],
                    type=TimelineType.ORDER,
                    source_record=r["recordKey"],
                    summary=timeline_summary("ORDER", r),
                )
                for r in await self._history(info, "orders")
                if r["placedAt"]
            ]
        if TimelineType.CASE in wanted:
            entries += [
                TimelineEntry(
                    at=r["openedAt"],
                    type=TimelineType.CASE,
                    source_record=r["recordKey"],
                    summary=timeline_summary("CASE", r),
                )
                for r in await self._history(info, "cases")
                if r["openedAt"]
            ]
        if TimelineType.ENGAGEMENT in wanted:
            entries += [
                TimelineEntry(
                    at=r["at"],
                    type=TimelineType.ENGAGEMENT,
                    source_record=r["recordKey"],
                    summary=timeline_summary("ENGAGEMENT", r),
                )
                for r in await self._history(info, "engagements")
                if r["at"]
            ]
        if TimelineType.CONSENT in wanted:
            entries += [
                TimelineEntry(
                    at=r["at"],
                    type=TimelineType.CONSENT,
                    source_record=r["sourceKey"],
                    summary=timeline_summary("CONSENT", r),
                )
                for r in await self._history(info, "consentHistory")
                if r["at"]
            ]
        entries.sort(key=lambda e: parse_moment(e.at), reverse=True)
        return paginate(
            _window(entries, "at", since, until), first, after, info.context.settings.max_page_size
        )
