"""Products, orders with their lines, and carts.

``(:SourceRecord)-[:PLACED]->(:Order)-[:CONTAINS {lineKey, quantity, unitPrice}]->(:Product)``,
``(:SourceRecord)-[:HAS_CART]->(:Cart)-[:CONTAINS {quantity}]->(:Product)``. Orders and carts
are keyed by their id scoped by source and follow newer-wins on ``updatedAt``.
"""

from __future__ import annotations

from typing import Any, LiteralString

import neo4j

from graph.store.records import ENSURE_RECORD, STATUS_NEWER_WINS

__all__ = ["known_skus", "upsert_carts", "upsert_order_lines", "upsert_orders", "upsert_products"]

_PRODUCTS: LiteralString = """
UNWIND $rows AS row
MERGE (p:Product {sku: row.sku})
ON CREATE SET p.createdAt = datetime()
WITH p, row, CASE WHEN p.name IS NULL AND p.price IS NULL AND p.category IS NULL
                  THEN 'created'
                  WHEN p.name = row.name AND p.category = row.category AND p.price = row.price
                  THEN 'unchanged' ELSE 'updated' END AS outcome
SET p.name = row.name, p.category = row.category, p.price = row.price,
    p.currency = row.currency
RETURN row.sku AS key, outcome
"""

_KNOWN_SKUS: LiteralString = """
UNWIND $skus AS sku
MATCH (p:Product {sku: sku}) USING INDEX p:Product(sku)
RETURN collect(p.sku) AS known
"""

_ORDERS: LiteralString = (
    "MATCH (s:Source {id: $source}) UNWIND $rows AS row "
    + ENSURE_RECORD
    + """
MERGE (o:Order {key: row.key})
ON CREATE SET o.placeholder = true
WITH s, r, o, row,
     CASE WHEN o.placeholder THEN 'created'
          WHEN row.updatedAt < o.updatedAt THEN 'stale'
          WHEN row.updatedAt = o.updatedAt AND o.status = row.status AND o.total = row.total
               AND EXISTS { (r)-[:PLACED]->(o) } THEN 'unchanged'
          ELSE 'updated' END AS outcome
CALL (r, o, row, outcome) {
  WITH * WHERE outcome IN ['created', 'updated']
  SET o.id = row.id, o.source = $source, o.placedAt = row.placedAt, o.status = row.status,
      o.total = row.total, o.currency = row.currency, o.updatedAt = row.updatedAt
  REMOVE o.placeholder
  WITH r, o
  CALL (r, o) {
    MATCH (other:SourceRecord)-[old:PLACED]->(o) WHERE other <> r
    DELETE old
  }
  MERGE (r)-[:PLACED]->(o)
}
RETURN row.key AS key, outcome
"""
)

_LINES: LiteralString = """
UNWIND $rows AS row
MATCH (p:Product {sku: row.sku}) USING INDEX p:Product(sku)
MERGE (o:Order {key: row.orderKey})
ON CREATE SET o.placeholder = true, o.id = row.orderId, o.source = $source
WITH o, p, row
CALL (o, row) {
  MATCH (o)-[old:CONTAINS {lineKey: row.lineKey}]->(other:Product) WHERE other.sku <> row.sku
  DELETE old
}
MERGE (o)-[c:CONTAINS {lineKey: row.lineKey}]->(p)
ON CREATE SET c.new = true
WITH c, row, CASE WHEN c.new THEN 'created'
                  WHEN c.quantity = row.quantity AND c.unitPrice = row.unitPrice THEN 'unchanged'
                  ELSE 'updated' END AS outcome
SET c.quantity = row.quantity, c.unitPrice = row.unitPrice
REMOVE c.new
RETURN row.orderKey + '#' + row.lineKey AS key, outcome
"""

_CARTS: LiteralString = (
    "MATCH (s:Source {id: $source}) UNWIND $rows AS row "
    + ENSURE_RECORD
    + """
MERGE (c:Cart {key: row.key})
"""
    + STATUS_NEWER_WINS
    + """
  SET c.id = row.id, c.source = $source, c.status = row.status,
      c.updatedAt = row.updatedAt, c.total = row.total, c.currency = row.currency
  REMOVE c.placeholder
  MERGE (r)-[:HAS_CART]->(c)
  WITH c, row
  CALL (c, row) {
    MATCH (c)-[old:CONTAINS]->(p:Product)
    WHERE NOT p.sku IN [i IN row.items | i.sku]
    DELETE old
  }
  WITH c, row
  UNWIND row.items AS item
  MATCH (p:Product {sku: item.sku}) USING INDEX p:Product(sku)
  MERGE (c)-[line:CONTAINS]->(p)
  SET line.quantity = item.quantity
}
RETURN row.key AS key, outcome
"""
)


def upsert_products(
    tx: neo4j.ManagedTransaction, source_id: str, rows: list[dict[str, Any]]
) -> list[tuple[str, str]]:
    """Create or update products by ``sku``; returns ``[(sku, outcome)]``."""
    rows = sorted(rows, key=lambda r: r["sku"])
    return [(r["key"], r["outcome"]) for r in tx.run(_PRODUCTS, rows=rows)]


def known_skus(tx: neo4j.ManagedTransaction, skus: list[str]) -> set[str]:
    """The subset of ``skus`` that exist as products."""
    return set(tx.run(_KNOWN_SKUS, skus=sorted(set(skus))).single(strict=True)["known"])


def upsert_orders(
    tx: neo4j.ManagedTransaction, source_id: str, rows: list[dict[str, Any]]
) -> list[tuple[str, str]]:
    """Create or update orders (newer ``updatedAt`` wins); returns ``[(key, outcome)]``."""
    rows = sorted(rows, key=lambda r: r["key"])
    return [(r["key"], r["outcome"]) for r in tx.run(_ORDERS, source=source_id, rows=rows)]


def upsert_order_lines(
    tx: neo4j.ManagedTransaction, source_id: str, rows: list[dict[str, Any]]
) -> list[tuple[str, str]]:
    """Create or update order lines of known products; an unseen order is kept as a
    placeholder until it arrives. Returns ``[(orderKey#lineKey, outcome)]``."""
    rows = sorted(rows, key=lambda r: (r["orderKey"], r["lineKey"]))
    return [(r["key"], r["outcome"]) for r in tx.run(_LINES, source=source_id, rows=rows)]


def upsert_carts(
    tx: neo4j.ManagedTransaction, source_id: str, rows: list[dict[str, Any]]
) -> list[tuple[str, str]]:
    """Create or update carts and replace their items; returns ``[(key, outcome)]``."""
    rows = sorted(rows, key=lambda r: r["key"])
    return [(r["key"], r["outcome"]) for r in tx.run(_CARTS, source=source_id, rows=rows)]
