"""What each demo source record did: orders, carts, cases, engagement and consents.

Each function takes the record's native id and creation time (epoch seconds) and yields
``(file_type, row)`` pairs in native field names, oldest first, every time in
``[created, END]``; ids come from a shared :class:`Sequences` so they are unique per source.
No event ever refers to a record that was not written.
"""

from __future__ import annotations

import itertools
import random
from collections.abc import Iterator
from decimal import Decimal

from graph.demo._catalog import Catalog
from graph.demo._clock import DAY, END, between, iso, iso_millis

__all__ = [
    "Row",
    "Sequences",
    "commerce_activity",
    "marketing_activity",
    "service_activity",
    "store_activity",
]

Row = tuple[str, dict[str, object]]

_CASE_SUBJECTS = (
    "Where is my order?",
    "Refund request",
    "Change delivery address",
    "Password reset",
    "Damaged item received",
    "Loyalty points missing",
    "Wrong size delivered",
    "Unsubscribe request",
    "Invoice copy needed",
    "Cancel my order",
    "Update my details",
    "Question about a product",
)
_CAMPAIGN_THEMES = (
    "New Year Sale",
    "Winter Clearance",
    "Spring Collection",
    "Easter Treats",
    "Spring Sale",
    "Summer Essentials",
    "Summer Sale",
    "Back to School",
    "Autumn Looks",
    "Halloween Offers",
    "Black Friday",
    "Holiday Gift Guide",
)


class Sequences:
    """Id counters by name: ``next("order")`` gives 1, 2, 3 ..."""

    def __init__(self) -> None:
        self._counters: dict[str, itertools.count[int]] = {}

    def next(self, name: str) -> int:
        """The next number of counter ``name`` (a new counter starts at 1)."""
        counter = self._counters.setdefault(name, itertools.count(1))
        return next(counter)


def commerce_activity(
    rng: random.Random,
    seq: Sequences,
    catalog: Catalog,
    customer_no: str,
    created: int,
    currency: str,
) -> Iterator[Row]:
    """0-8 web orders (``orders``, ``order_lines``) then 0-2 baskets (``carts``)."""
    count = rng.choices(range(9), (25, 20, 15, 12, 9, 7, 5, 4, 3))[0]
    for placed in sorted(between(rng, created, END) for _ in range(count)):
        order_no = f"WEB{seq.next('commerce-order'):08d}"
        lines, total = _basket(rng, catalog, currency)
        yield (
            "orders",
            {
                "order_no": order_no,
                "customer_no": customer_no,
                "creation_date": iso(placed),
                "status": _web_order_status(rng, placed),
                "order_total": float(total),
                "currency": currency,
            },
        )
        for position, (sku, quantity, price) in enumerate(lines, start=1):
            yield (
                "order_lines",
                {
                    "order_no": order_no,
                    "position": position,
                    "product_id": sku,
                    "quantity": quantity,
                    "base_price": f"{price:.2f}",
                },
            )
    for updated in sorted(
        between(rng, created, END) for _ in range(rng.choices(range(3), (50, 35, 15))[0])
    ):
        lines, total = _basket(rng, catalog, currency)
        yield (
            "carts",
            {
                "basket_id": f"bk{rng.getrandbits(96):024x}",
                "customer_no": customer_no,
                "status": _cart_status(rng, updated),
                "last_modified": iso(updated),
                "items": [{"sku": sku, "quantity": quantity} for sku, quantity, _ in lines],
                "total": float(total),
                "currency": currency,
            },
        )


def store_activity(
    rng: random.Random,
    seq: Sequences,
    catalog: Catalog,
    customer_id: str,
    created: int,
    currency: str,
) -> Iterator[Row]:
    """0-3 till receipts (``orders``, ``order_lines``), mostly from the customer's home store."""
    home_store = rng.randint(1, 60)
    count = rng.choices(range(4), (35, 35, 20, 10))[0]
    for sold in sorted(between(rng, created, END) for _ in range(count)):
        store = home_store if rng.random() < 0.8 else rng.randint(1, 60)
        receipt_no = f"{store:03d}-{seq.next('store-receipt'):08d}"
        lines, total = _basket(rng, catalog, currency)
        yield (
            "orders",
            {
                "receipt_no": receipt_no,
                "store_customer_id": customer_id,
                "sold_at": iso(sold),
                "status": rng.choices(("DELIVERED", "RETURNED", "CANCELLED"), (92, 6, 2))[0],
                "amount": f"{total:.2f}",
                "currency": currency,
            },
        )
        for line, (sku, quantity, price) in enumerate(lines, start=1):
            yield (
                "order_lines",
                {
                    "receipt_no": receipt_no,
                    "line": line,
                    "sku": sku,
                    "qty": quantity,
                    "price": f"{price:.2f}",
                },
            )


def service_activity(
    rng: random.Random, seq: Sequences, contact_id: str, created: int
) -> Iterator[Row]:
    """0-3 cases (``cases``) and 0-1 consent capture (``consents``)."""
    count = rng.choices(range(4), (40, 35, 15, 10))[0]
    for opened in sorted(between(rng, created, END) for _ in range(count)):
        status = _case_status(rng, opened)
        closed = between(rng, opened + 3600, opened + 10 * DAY) if status == "Closed" else None
        yield (
            "cases",
            {
                "CaseNumber": f"{seq.next('service-case'):08d}",
                "ContactId": contact_id,
                "Subject": rng.choice(_CASE_SUBJECTS),
                "Status": status,
                "Origin": rng.choices(("Phone", "Email", "Web", "Chat"), (35, 30, 20, 15))[0],
                "CreatedDate": iso_millis(opened),
                "ClosedDate": "" if closed is None else iso_millis(closed),
            },
        )
    if rng.random() < 0.5:
        yield (
            "consents",
            {
                "Id": f"0ZW{seq.next('service-consent'):012d}",
                "ContactId": contact_id,
                "Channel": rng.choices(("EMAIL", "SMS", "PHONE"), (60, 25, 15))[0],
                "Purpose": rng.choices(("MARKETING", "PROFILING"), (80, 20))[0],
                "Status": rng.choices(("GRANTED", "WITHDRAWN"), (70, 30))[0],
                "CaptureDate": iso_millis(between(rng, created, END)),
            },
        )


def marketing_activity(
    rng: random.Random, seq: Sequences, subscriber_key: str, created: int
) -> Iterator[Row]:
    """0-20 email events (``engagement``) and 1-3 consent events (``consents``).

    Opens follow their send, clicks their open; an unsubscribe ends the sends and is followed
    by a WITHDRAWN EMAIL MARKETING consent.
    """
    events, unsubscribed_at = _email_events(rng, created)
    for at, event_type, campaign in events:
        yield (
            "engagement",
            {
                "EventID": str(seq.next("marketing-event")),
                "SubscriberKey": subscriber_key,
                "EventType": event_type,
                "Channel": "EMAIL",
                "CampaignName": campaign,
                "EventDate": iso(at),
            },
        )
    consents = [(created, "EMAIL", "MARKETING", "GRANTED")]
    extra = rng.choices(range(3), (50, 35, 15))[0]
    if unsubscribed_at is not None:
        extra = min(extra, 1)
        consents.append(
            (min(unsubscribed_at + rng.randint(1, 120), END), "EMAIL", "MARKETING", "WITHDRAWN")
        )
    for channel, purpose in rng.sample((("SMS", "MARKETING"), ("EMAIL", "PROFILING")), extra):
        status = rng.choices(("GRANTED", "WITHDRAWN"), (75, 25))[0]
        consents.append((between(rng, created, END), channel, purpose, status))
    for at, channel, purpose, status in sorted(consents):
        yield (
            "consents",
            {
                "EventID": str(seq.next("marketing-event")),
                "SubscriberKey": subscriber_key,
                "Channel": channel,
                "Purpose": purpose,
                "Status": status,
                "EventDate": iso(at),
            },
        )


def _email_events(
    rng: random.Random, created: int
) -> tuple[list[tuple[int, str, str]], int | None]:
    """Up to 20 ``(at, type, campaign)`` events in time order and the unsubscribe time."""
    budget = rng.randint(0, 20)
    sends = sorted(between(rng, created + 60, END) for _ in range(rng.randint(0, budget)))
    events: list[tuple[int, str, str]] = []
    for sent in sends:
        if len(events) >= budget:
            break
        campaign = _campaign(sent)
        events.append((sent, "SENT", campaign))
        reacted = sent
        if len(events) < budget and rng.random() < 0.35 and sent + 60 < END:
            reacted = between(rng, sent + 60, sent + 3 * DAY)
            events.append((reacted, "OPENED", campaign))
            if len(events) < budget and rng.random() < 0.3 and reacted + 5 < END:
                events.append((between(rng, reacted + 5, reacted + 600), "CLICKED", campaign))
        if len(events) < budget and rng.random() < 0.04 and reacted + 30 < END:
            unsubscribed = between(rng, reacted + 30, reacted + DAY)
            events.append((unsubscribed, "UNSUBSCRIBED", campaign))
            return sorted(events), unsubscribed
    return sorted(events), None


def _campaign(sent: int) -> str:
    stamp = iso(sent)
    return f"{_CAMPAIGN_THEMES[int(stamp[5:7]) - 1]} {stamp[:7]}"


def _basket(
    rng: random.Random, catalog: Catalog, currency: str
) -> tuple[list[tuple[str, int, Decimal]], Decimal]:
    """1-4 distinct products as ``(sku, quantity, unit price)`` and their total, to the cent."""
    count = rng.choices((1, 2, 3, 4), (50, 25, 15, 10))[0]
    lines = []
    for index in rng.sample(range(len(catalog.products)), count):
        price = catalog.price(index, currency)
        if rng.random() < 0.12:
            discount = Decimal(rng.choice((90, 80, 70))) / 100
            price = (price * discount).quantize(Decimal("0.01"))
        quantity = rng.choices((1, 2, 3), (75, 18, 7))[0]
        lines.append((catalog.products[index].sku, quantity, price))
    total = sum((quantity * price for _, quantity, price in lines), Decimal("0.00"))
    return lines, total.quantize(Decimal("0.01"))


def _web_order_status(rng: random.Random, placed: int) -> str:
    if END - placed > 30 * DAY:
        return rng.choices(("DELIVERED", "RETURNED", "CANCELLED"), (85, 8, 7))[0]
    return rng.choices(("NEW", "PAID", "SHIPPED", "DELIVERED", "CANCELLED"), (15, 25, 30, 20, 10))[
        0
    ]


def _cart_status(rng: random.Random, updated: int) -> str:
    if END - updated < 14 * DAY:
        return rng.choices(("OPEN", "ABANDONED", "CONVERTED"), (60, 20, 20))[0]
    return rng.choices(("ABANDONED", "CONVERTED"), (60, 40))[0]


def _case_status(rng: random.Random, opened: int) -> str:
    if END - opened > 14 * DAY:
        return rng.choices(("Closed", "Working", "Escalated"), (92, 4, 4))[0]
    return rng.choices(("New", "Working", "Escalated", "Closed"), (35, 35, 10, 20))[0]
