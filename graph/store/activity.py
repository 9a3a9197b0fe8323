"""Service cases and marketing engagement of source records.

``(:SourceRecord)-[:OPENED]->(:Case {id, subject, status, channel, openedAt, closedAt})`` and
``(:SourceRecord)-[:ENGAGED]->(:Engagement {type, channel, campaign, at})``.
Cases follow newer-wins on ``updatedAt``; engagement events never change once written.
"""

from __future__ import annotations

from typing import Any, LiteralString

import neo4j

from graph.store.records import ENSURE_RECORD, STATUS_NEWER_WINS

__all__ = ["upsert_cases", "upsert_engagement"]

_CASES: LiteralString = (
    "MATCH (s:Source {id: $source}) UNWIND $rows AS row "
    + ENSURE_RECORD
    + """
MERGE (c:Case {key: row.key})
"""
    + STATUS_NEWER_WINS
    + """
  SET c.id = row.id, c.source = $source, c.subject = row.subject,
      c.status = row.status, c.channel = row.channel, c.openedAt = row.openedAt,
      c.closedAt = row.closedAt, c.updatedAt = row.updatedAt
  REMOVE c.placeholder
  MERGE (r)-[:OPENED]->(c)
}
RETURN row.key AS key, outcome
"""
)

_ENGAGEMENT: LiteralString = (
    "MATCH (s:Source {id: $source}) UNWIND $rows AS row "
    + ENSURE_RECORD
    + """
MERGE (e:Engagement {key: row.key})
ON CREATE SET e.type = row.type, e.channel = row.channel, e.campaign = row.campaign,
              e.at = row.at, e.source = $source, e.new = true
MERGE (r)-[:ENGAGED]->(e)
WITH e, row, CASE WHEN e.new THEN 'created' ELSE 'unchanged' END AS outcome
REMOVE e.new
RETURN row.key AS key, outcome
"""
)


def upsert_cases(
    tx: neo4j.ManagedTransaction, source_id: str, rows: list[dict[str, Any]]
) -> list[tuple[str, str]]:
    """Create or update cases (newer ``updatedAt`` wins); returns ``[(key, outcome)]``."""
    rows = sorted(rows, key=lambda r: r["key"])
    return [(r["key"], r["outcome"]) for r in tx.run(_CASES, source=source_id, rows=rows)]


def upsert_engagement(
    tx: neo4j.ManagedTransaction, source_id: str, rows: list[dict[str, Any]]
) -> list[tuple[str, str]]:
    """Add engagement events once each; returns ``[(key, created|unchanged)]``."""
    rows = sorted(rows, key=lambda r: r["key"])
    return [(r["key"], r["outcome"]) for r in tx.run(_ENGAGEMENT, source=source_id, rows=rows)]
