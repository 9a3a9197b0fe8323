"""A small graph for the segment and activation tests: three people with orders, carts,
engagement, consents and cases, at known times before :data:`AS_OF`."""

from __future__ import annotations

from datetime import UTC, datetime

from graph.ingest import ingest_rows
from graph.services.resolver import Resolver, resolve_after_ingest
from graph.store import sources
from graph.store.sources import require_source, validate_source

AS_OF = datetime(2025, 6, 1, tzinfo=UTC)
SOURCES = {"shop": "COMMERCE", "mkt": "MARKETING", "crm": "SERVICE"}


class World:
    """Registered sources, a resolver, and helpers to ingest rows of any file type."""

    def __init__(self, driver, settings):
        self.driver, self.settings = driver, settings
        for sid, kind in SOURCES.items():
            sources.register_source(driver, settings, validate_source(sid, kind, sid, 10))
        self.resolver = Resolver(driver, settings, actor="segment-test")

    def rows(self, source: str, file_type: str, rows: list[dict]) -> None:
        summary = ingest_rows(
            self.driver,
            self.settings,
            require_source(self.driver, self.settings, source),
            file_type,
            list(enumerate(rows, 1)),
            after_batch=resolve_after_ingest(self.resolver) if file_type == "records" else None,
        )
        assert summary.rejected == 0, summary.errors

    def run(self, query: str, **params):
        records, _, _ = self.driver.execute_query(
            query, params, database_=self.settings.neo4j_database
        )
        return records

    def person_of(self, key: str) -> str:
        rows = self.run(
            "MATCH (p:Person)-[:HAS_RECORD]->(:SourceRecord {key: $k}) RETURN p.id AS id", k=key
        )
        return rows[0]["id"]


def build(driver, settings) -> World:
    """Ann (shop:A1 + mkt:M1), Bob (shop:B1) and Cy (crm:C1)."""
    w = World(driver, settings)
    w.rows(
        "shop",
        "records",
        [
            {"sourceId": "A1", "givenName": "Ann", "familyName": "Lee", "email": "ann@example.org",
             "birthDate": "1990-05-01", "city": "London", "country": "GB", "postcode": "NR2 4AB",
             "phone": "+447700900001"},
            {"sourceId": "B1", "givenName": "Bob", "familyName": "Ray", "email": "bob@example.org",
             "birthDate": "1960-01-01", "city": "Leeds", "country": "GB", "postcode": "LS1 1AA",
             "phone": "+447700900002"},
        ],
    )  # fmt: skip
    w.rows(
        "mkt",
        "records",
        [{"sourceId": "M1", "givenName": "Ann", "familyName": "Lee", "email": "ann@example.org"}],
    )
    w.rows(
        "crm",
        "records",
        [
            {"sourceId": "C1", "givenName": "Cy", "familyName": "Moe", "email": "cy@example.org",
             "birthDate": "2000-01-01", "city": "Dublin", "country": "IE", "phone": "+353871234567"}
        ],
    )  # fmt: skip
    w.rows(
        "shop",
        "products",
        [
            {"sku": "SKU-1", "name": "Runner", "category": "Shoes", "price": "80.00"},
            {"sku": "SKU-2", "name": "Novel", "category": "Books", "price": "20.00"},
        ],
    )
    w.rows(
        "shop",
        "orders",
        [
            {"orderId": "O1", "sourceId": "A1", "placedAt": "2025-05-20T10:00:00Z", "total": "100.00",
             "status": "DELIVERED"},
            {"orderId": "O2", "sourceId": "B1", "placedAt": "2024-01-01T10:00:00Z", "total": "300.00",
             "status": "DELIVERED"},
            {"orderId": "O3", "sourceId": "B1", "placedAt": "2025-05-01T10:00:00Z", "total": "50.00",
             "status": "CANCELLED"},
        ],
    )  # fmt: skip
    w.rows(
        "shop",
        "order_lines",
        [
            {"orderId": "O1", "sku": "SKU-1", "quantity": 1, "unitPrice": "100.00"},
            {"orderId": "O2", "sku": "SKU-2", "quantity": 3, "unitPrice": "100.00"},
            {"orderId": "O3", "sku": "SKU-1", "quantity": 1, "unitPrice": "50.00"},
        ],
    )
    w.rows(
        "shop",
        "carts",
        [
            # Bob's cart is two days old with no order since; Ann ordered after hers
            {"cartId": "K1", "sourceId": "B1", "status": "OPEN",
             "updatedAt": "2025-05-30T00:00:00Z", "items": [{"sku": "SKU-1", "quantity": 1}]},
            {"cartId": "K2", "sourceId": "A1", "status": "ABANDONED",
             "updatedAt": "2025-05-10T00:00:00Z", "items": [{"sku": "SKU-2", "quantity": 1}]},
        ],
    )  # fmt: skip
    w.rows(
        "mkt",
        "engagement",
        [
            {"eventId": "E1", "sourceId": "M1", "type": "SENT", "campaign": "Summer Sale",
             "at": "2025-05-24T10:00:00Z"},
            {"eventId": "E2", "sourceId": "M1", "type": "OPENED", "campaign": "Summer Sale",
             "at": "2025-05-25T10:00:00Z"},
        ],
    )  # fmt: skip
    w.rows(
        "shop",
        "consents",
        [
            {"sourceId": "A1", "channel": "EMAIL", "purpose": "MARKETING", "status": "GRANTED",
             "at": "2025-01-01T00:00:00Z"},
            {"sourceId": "B1", "channel": "EMAIL", "purpose": "MARKETING", "status": "GRANTED",
             "at": "2025-01-01T00:00:00Z"},
            {"sourceId": "B1", "channel": "SMS", "purpose": "MARKETING", "status": "GRANTED",
             "at": "2025-01-01T00:00:00Z"},
        ],
    )  # fmt: skip
    w.rows(
        "crm",
        "consents",
        [{"sourceId": "C1", "channel": "EMAIL", "purpose": "MARKETING", "status": "GRANTED",
          "at": "2025-01-01T00:00:00Z"}],
    )  # fmt: skip
    w.rows(
        "crm",
        "cases",
        [{"caseId": "S1", "sourceId": "C1", "openedAt": "2025-05-28T09:00:00Z", "status": "NEW",
          "subject": "Where is my order?"}],
    )  # fmt: skip
    return w
