"""Frozen dataclasses shared by ingestion, resolution and the API.

Field names are the graph's camelCase property names written in snake_case; each dataclass
documents its Neo4j node.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from enum import StrEnum

__all__ = [
    "CANONICAL_FIELDS",
    "CANONICAL_NAMES",
    "EVENT_TYPES",
    "Source",
    "SourceKind",
    "event_key",
    "record_key",
]


class SourceKind(StrEnum):
    """What kind of system a source is; picks the default field mapping."""

    SERVICE = "SERVICE"
    MARKETING = "MARKETING"
    COMMERCE = "COMMERCE"
    STORE = "STORE"
    OTHER = "OTHER"


@dataclass(frozen=True, slots=True)
class Source:
    """``(:Source {id, kind, name, priority})``: one registered system instance.

    ``priority`` orders sources for reconciliation: a higher number wins a source-priority rule.
    ``mapping`` holds field-name overrides (native name -> canonical name) on top of the kind's
    default mapping, per file type (``records``, ``orders`` ...).
    """

    id: str
    kind: SourceKind
    name: str
    priority: int = 0
    mapping: dict[str, dict[str, str]] = field(default_factory=dict)
    created_at: str | None = None


#: Canonical source-record fields (graph property names), in display order.
CANONICAL_FIELDS: tuple[str, ...] = (
    "sourceId",
    "givenName",
    "familyName",
    "birthDate",
    "email",
    "phone",
    "addressLine1",
    "addressLine2",
    "city",
    "postcode",
    "country",
    "loyaltyId",
    "nationalId",
    "deviceIds",
    "cookieIds",
    "updatedAt",
)

#: Canonical field names per file type (what a row must be renamed to).
CANONICAL_NAMES: dict[str, frozenset[str]] = {
    "records": frozenset(CANONICAL_FIELDS),
    "products": frozenset({"sku", "name", "category", "price", "currency"}),
    "orders": frozenset(
        {
            "orderId",
            "sourceId",
            "placedAt",
            "status",
            "total",
            "currency",
            "updatedAt",
        }
    ),
    "order_lines": frozenset({"orderId", "lineNo", "sku", "quantity", "unitPrice"}),
    "carts": frozenset({"cartId", "sourceId", "status", "updatedAt", "items", "total", "currency"}),
    "cases": frozenset(
        {
            "caseId",
            "sourceId",
            "subject",
            "status",
            "channel",
            "openedAt",
            "closedAt",
            "updatedAt",
        }
    ),
    "engagement": frozenset({"eventId", "sourceId", "type", "channel", "campaign", "at"}),
    "consents": frozenset({"eventId", "sourceId", "channel", "purpose", "status", "at"}),
}

#: File types ``c360 ingest`` understands, each a kind of row.
EVENT_TYPES: tuple[str, ...] = (
    "records",
    "products",
    "orders",
    "order_lines",
    "carts",
    "cases",
    "engagement",
    "consents",
)


def record_key(source_id: str, record_id: str) -> str:
    """The unique ``SourceRecord.key``: the record's id scoped by its source (``src:id``)."""
    return f"{source_id}:{record_id}"


def event_key(source_id: str, *parts: object) -> str:
    """Stable key of an event without an id of its own: a hash of its identifying fields."""
    digest = hashlib.sha1("\x1f".join(str(p) for p in parts).encode()).hexdigest()[:20]
    return f"{source_id}:{digest}"
