"""Consent events: ``(:SourceRecord)-[:CAPTURED]->(:Consent {channel, purpose, status, at,
sourceKey})``; once the record belongs to a person, ``(:Person)-[:GAVE]->(:Consent)`` too.

Consent events are immutable history: the effective consent per channel and purpose is the
latest event (by ``at``) over every record of the person.
"""

from __future__ import annotations

from typing import Any, LiteralString

import neo4j

from graph.records import ENSURE_RECORD

__all__ = ["upsert_consents"]

_CONSENTS: LiteralString = ("MATCH (s:Source {id: $source}) UNWIND $rows AS row "
                            + ENSURE_RECORD + """
MERGE (c:Consent {key: row.key})
ON CREATE SET c.channel = row.channel, c.purpose = row.purpose, c.status = row.status,
              c.at = row.at, c.sourceKey = row.recordKey, c.source = $source, c.new = true
MERGE (r)-[:CAPTURED]->(c)
WITH r, c, row, CASE WHEN c.new THEN 'created' ELSE 'unchanged' END AS outcome
REMOVE c.new
WITH r, c, row, outcome
CALL (r, c) {
  MATCH (p:Person)-[:HAS_RECORD]->(r)
  MERGE (p)-[:GAVE]->(c)
}
RETURN row.key AS key, outcome
""")


def upsert_consents(tx: neo4j.ManagedTransaction, source_id: str,
                    rows: list[dict[str, Any]]) -> list[tuple[str, str]]:
    """Add consent events once each; returns ``[(key, created|unchanged)]``."""
    rows = sorted(rows, key=lambda r: r["key"])
    return [(r["key"], r["outcome"]) for r in tx.run(_CONSENTS, source=source_id, rows=rows)]
