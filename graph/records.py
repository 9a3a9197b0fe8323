"""Source records, their identifiers and blocking keys: ``(:SourceRecord)-[:FROM]->(:Source)``,
``(:SourceRecord)-[:HAS_IDENTIFIER]->(:Identifier {type, value})``,
``(:SourceRecord)-[:IN_BLOCK]->(:BlockingKey {key})`` (see :mod:`graph.resolution.blocking`).

Upserts are keyed by ``SourceRecord.key`` (the record's id scoped by its source) and follow
newer-wins: a row whose ``updatedAt`` is older than the stored one is ignored (``stale``), an
identical row changes nothing (``unchanged``). Events may arrive before their record: they
create a *placeholder* record (``placeholder: true``, no attributes) that the real record
fills in when it arrives, so nothing attached to it is lost. A record carrying an identifier
of a forgotten person (``row.forgotten``: salted hashes, see :mod:`graph.privacy`) is stored
with ``forgottenMatch: true`` and left out of resolution until a steward decides.
"""

from __future__ import annotations

from typing import Any, LiteralString

import neo4j

__all__ = ["ENSURE_RECORD", "STATUS_NEWER_WINS", "upsert_records"]

#: Cypher fragment: make sure ``row.recordKey`` exists (as a placeholder when unseen) and is
#: linked to its source ``s``. Expects ``s`` and ``row`` in scope and yields ``r``.
ENSURE_RECORD: LiteralString = """
MERGE (r:SourceRecord {key: row.recordKey})
ON CREATE SET r.placeholder = true, r.source = s.id, r.sourceId = row.sourceId,
              r.createdAt = datetime()
MERGE (r)-[:FROM]->(s)
"""

#: Cypher fragment after ``MERGE (c:Label {key: row.key})`` for things with a status that
#: follow newer-wins on ``updatedAt`` (cases, carts): yields ``outcome`` and opens the
#: subquery that writes only created or updated rows (the caller closes it).
STATUS_NEWER_WINS: LiteralString = """
ON CREATE SET c.placeholder = true
WITH r, c, row,
     CASE WHEN c.placeholder THEN 'created'
          WHEN row.updatedAt < c.updatedAt THEN 'stale'
          WHEN row.updatedAt = c.updatedAt AND c.status = row.status THEN 'unchanged'
          ELSE 'updated' END AS outcome
CALL (r, c, row, outcome) {
  WITH * WHERE outcome IN ['created', 'updated']
"""

_UPSERT: LiteralString = """
MATCH (s:Source {id: $source})
UNWIND $rows AS row
MERGE (r:SourceRecord {key: row.key})
ON CREATE SET r.source = s.id, r.sourceId = row.sourceId, r.createdAt = datetime(),
              r.placeholder = true
WITH s, r, row,
     CASE
       WHEN r.placeholder THEN 'created'
       WHEN r.updatedAt IS NOT NULL AND (row.updatedAt IS NULL OR row.updatedAt < r.updatedAt)
         THEN 'stale'
       WHEN r.contentHash = row.props.contentHash
            AND (row.updatedAt IS NULL OR row.updatedAt = r.updatedAt) THEN 'unchanged'
       ELSE 'updated'
     END AS outcome
CALL (s, r, row, outcome) {
  WITH * WHERE outcome IN ['created', 'updated']
  SET r += row.props, r.updatedAt = row.updatedAt, r.ingestedAt = datetime(),
      r.forgottenMatch = CASE WHEN size(row.forgotten) > 0 AND EXISTS {
        MATCH (f:ForgottenIdentifier) WHERE f.hash IN row.forgotten } THEN true END
  REMOVE r.placeholder
  MERGE (r)-[:FROM]->(s)
  WITH r, row
  CALL (r, row) {
    MATCH (r)-[h:HAS_IDENTIFIER]->(i:Identifier)
    WHERE NOT {type: i.type, value: i.value} IN row.identifiers
    DELETE h
  }
  WITH r, row
  CALL (r, row) {
    MATCH (r)-[x:IN_BLOCK]->(b:BlockingKey)
    WHERE NOT b.key IN row.blocks
    DELETE x
  }
  WITH r, row
  CALL (r, row) {
    UNWIND row.blocks AS key
    MERGE (b:BlockingKey {key: key})
    MERGE (r)-[:IN_BLOCK]->(b)
  }
  WITH r, row
  UNWIND row.identifiers AS ident
  MERGE (i:Identifier {type: ident.type, value: ident.value})
  MERGE (r)-[:HAS_IDENTIFIER]->(i)
}
RETURN row.key AS key, outcome
"""


def upsert_records(tx: neo4j.ManagedTransaction, source_id: str,
                   rows: list[dict[str, Any]]) -> list[tuple[str, str]]:
    """Write parsed records (see :func:`graph.ingest.parse.parse_record`) of one source.

    Returns ``[(key, outcome)]`` with outcome ``created``, ``updated``, ``unchanged`` or
    ``stale``. Idempotent, so the driver may retry it. Rows are written in key order so two
    writers lock shared nodes in the same order.
    """
    rows = sorted(rows, key=lambda r: r["key"])
    result = tx.run(_UPSERT, source=source_id, rows=rows)
    return [(rec["key"], rec["outcome"]) for rec in result]
