"""Service cases and marketing engagement of source records.

``(:SourceRecord)-[:OPENED]->(:Case {id, subject, status, channel, openedAt, closedAt})`` and
``(:SourceRecord)-[:ENGAGED]->(:Engagement {type, channel, campaign, at})``.
Cases follow newer-wins on ``updatedAt``; engagement events never change once written.

Two engagement types say something about consent and reach (issue #14):

- an ``UNSUBSCRIBED`` EMAIL event from a ``MARKETING`` source is also stored as the record's
  EMAIL MARKETING ``WITHDRAWN`` consent event (key ``<event key>#opt-out``, ``derivedFrom``
  the event), so the effective consent (latest event) sees it and it moves with the record
  through merges and splits like every captured consent; ingesting an older engagement file
  again derives the opt-outs of events stored before this rule;
- a hard bounce (:data:`HARD_BOUNCE_TYPES`) marks the EMAIL ``(:Identifier)`` of the record
  ``undeliverable`` (with the earliest bounce time, ``undeliverableAt``). A bounce arriving
  before its record's email is known marks nothing.
"""

from __future__ import annotations

from typing import Any, LiteralString

import neo4j

from graph.store.records import ENSURE_RECORD, STATUS_NEWER_WINS

__all__ = ["HARD_BOUNCE_TYPES", "UNSUBSCRIBE_TYPES", "upsert_cases", "upsert_engagement"]

#: Engagement types (upper case, as parsed) that withdraw EMAIL MARKETING consent.
UNSUBSCRIBE_TYPES = ("UNSUBSCRIBED", "UNSUBSCRIBE", "OPTED_OUT")
#: Engagement types that mark the email address undeliverable (a permanent failure).
HARD_BOUNCE_TYPES = ("HARD_BOUNCE", "HARDBOUNCE", "HARD_BOUNCED", "BOUNCED_HARD")

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
WITH *
CALL (s, r, row) {
  // an unsubscribe at a marketing source is an EMAIL MARKETING opt-out of that record: a
  // consent event it captured, so it follows the record through merges and splits
  WITH * WHERE s.kind = 'MARKETING' AND row.type IN $unsubscribeTypes AND row.channel = 'EMAIL'
  MERGE (c:Consent {key: row.key + '#opt-out'})
  ON CREATE SET c.channel = 'EMAIL', c.purpose = 'MARKETING', c.status = 'WITHDRAWN',
                c.at = row.at, c.sourceKey = row.recordKey, c.source = s.id,
                c.derivedFrom = row.key
  MERGE (r)-[:CAPTURED]->(c)
  WITH r, c
  CALL (r, c) {
    MATCH (p:Person)-[:HAS_RECORD]->(r)
    MERGE (p)-[:GAVE]->(c)
  }
}
CALL (r, row) {
  // a hard bounce marks the address the record holds undeliverable, for every record with it
  WITH * WHERE row.type IN $hardBounceTypes
  MATCH (r)-[:HAS_IDENTIFIER]->(i:Identifier {type: 'EMAIL'})
  SET i.undeliverable = true,
      i.undeliverableAt = CASE WHEN i.undeliverableAt IS NULL OR row.at < i.undeliverableAt
                               THEN row.at ELSE i.undeliverableAt END
}
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
    """Add engagement events once each (with the opt-outs and bounces they imply, see the
    module's docstring); returns ``[(key, created|unchanged)]``."""
    rows = sorted(rows, key=lambda r: r["key"])
    return [
        (r["key"], r["outcome"])
        for r in tx.run(
            _ENGAGEMENT,
            source=source_id,
            rows=rows,
            unsubscribeTypes=list(UNSUBSCRIBE_TYPES),
            hardBounceTypes=list(HARD_BOUNCE_TYPES),
        )
    ]
