"""Source records, their identifiers and blocking keys: ``(:SourceRecord)-[:FROM]->(:Source)``,
``(:SourceRecord)-[:HAS_IDENTIFIER]->(:Identifier {type, value})``,
``(:SourceRecord)-[:IN_BLOCK]->(:BlockingKey {key})`` (see :mod:`graph.resolution.blocking`).

Upserts are keyed by ``SourceRecord.key`` (the record's id scoped by its source) and follow
newer-wins: a row whose ``updatedAt`` is older than the stored one is ignored (``stale``), an
identical row changes nothing (``unchanged``). Events may arrive before their record: they
create a *placeholder* record (``placeholder: true``, no attributes) that the real record
fills in when it arrives, so nothing attached to it is lost. A record carrying an identifier
of a forgotten person (``row.forgotten``: salted hashes, see :mod:`graph.store.privacy`) is stored
with ``forgottenMatch: true`` and left out of resolution until a steward decides.

Nothing stuck (docs/DESIGN.md): a created or updated record is labelled ``:Pending`` in the
transaction that stores it; the transaction that resolves it removes the label
(:func:`graph.store.components.read_component`, :data:`graph.store.components.UNMARK_PENDING`),
so a process killed between the two leaves records every later run finds
(:func:`pending_keys`) and resolves first.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, LiteralString

import neo4j

from graph.db import read
from graph.normalize.masking import masked_identifier
from graph.settings import Settings

__all__ = [
    "ENSURE_RECORD",
    "LOCK_EVIDENCE",
    "STATUS_NEWER_WINS",
    "count_pending",
    "pending_among",
    "pending_keys",
    "upsert_records",
]

#: Cypher fragment: make sure ``row.recordKey`` exists (as a placeholder when unseen) and is
#: linked to its source ``s``. Expects ``s`` and ``row`` in scope and yields ``r``.
ENSURE_RECORD: LiteralString = """
MERGE (r:SourceRecord {key: row.recordKey})
ON CREATE SET r.placeholder = true, r.source = s.id, r.sourceId = row.sourceId,
              r.createdAt = datetime()
WITH *
CALL (r, s) {
  WITH r, s WHERE size([(r)-[:FROM]->(x) | x]) = 0
  CREATE (r)-[:FROM]->(s)
}
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

# What a record has is read by expanding from the record (pattern comprehensions, no label on
# the far end) and its relationships are then changed by seeks on unique keys and element ids,
# never matched between two bound nodes or by label inside a per-row subquery: plans cached
# while the database was nearly empty once scanned every BlockingKey (or ran Expand(Into)) for
# each row, turning a 5,000-row batch into minutes.
#
# Two writers share identifiers and blocking keys (and real-time resolution locks them too):
# every transaction locks the ones it touches first, identifiers by (type, value) then blocking
# keys by key (the order of people.read_component), so concurrent writers never deadlock.
# Nodes locked but left unused (the rows were stale or unchanged) are removed again.
LOCK_EVIDENCE: LiteralString = """
CALL () {
  UNWIND $hashes AS hash
  MATCH (f:ForgottenIdentifier {hash: hash}) USING INDEX f:ForgottenIdentifier(hash)
  RETURN collect(f.hash) AS forgotten
}
CALL () {
  UNWIND $lockIdentifiers AS ident
  MERGE (i:Identifier {type: ident[0], value: ident[1]})
  ON CREATE SET i.masked = ident[2]
  SET i._lock = true REMOVE i._lock
  RETURN collect([i.type + ':' + i.value, elementId(i)]) AS identifiers
}
CALL () {
  UNWIND $lockBlocks AS key
  MERGE (b:BlockingKey {key: key})
  SET b._lock = true REMOVE b._lock
  RETURN collect([b.key, elementId(b)]) AS blocks
}
RETURN forgotten, identifiers, blocks
"""

_DROP_UNUSED: LiteralString = """
CALL () {
  UNWIND $lockIdentifiers AS ident
  MATCH (i:Identifier {type: ident[0], value: ident[1]}) USING INDEX i:Identifier(type, value)
  WHERE NOT (i)--()
  DELETE i
}
CALL () {
  UNWIND $lockBlocks AS key
  MATCH (b:BlockingKey {key: key}) USING INDEX b:BlockingKey(key) WHERE NOT (b)--()
  DELETE b
}
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
CALL (r, row, outcome) {
  WITH * WHERE outcome IN ['created', 'updated']
  SET r += row.props, r.updatedAt = row.updatedAt, r.ingestedAt = datetime(),
      r.forgottenMatch = row.forgottenMatch, r:Pending
  REMOVE r.placeholder
}
RETURN row.key AS key, outcome, elementId(r) AS id, elementId(s) AS source,
       CASE WHEN outcome IN ['created', 'updated'] THEN {
         sources: size([(r)-[:FROM]->(x) | x]),
         blocks: [(r)-[x:IN_BLOCK]->(b) | [elementId(x), b.key]],
         identifiers: [(r)-[x:HAS_IDENTIFIER]->(i) | [elementId(x), i.type + ':' + i.value]]
       } END AS has
"""

# The relationship changes worked out from what the records have, by element ids only (the
# lock step returned those of the identifiers and blocking keys): no plan can scan here.
_RELINK: LiteralString = """
CALL () {
  UNWIND $deletes AS id
  MATCH ()-[x]->() WHERE elementId(x) = id
  DELETE x
}
CALL () {
  UNWIND $links AS link
  MATCH (a) WHERE elementId(a) = link[0]
  MATCH (b) WHERE elementId(b) = link[1]
  CALL (a, b, link) {
    WITH * WHERE link[2] = 'FROM'
    CREATE (a)-[:FROM]->(b)
  }
  CALL (a, b, link) {
    WITH * WHERE link[2] = 'IN_BLOCK'
    CREATE (a)-[:IN_BLOCK]->(b)
  }
  CALL (a, b, link) {
    WITH * WHERE link[2] = 'HAS_IDENTIFIER'
    CREATE (a)-[:HAS_IDENTIFIER]->(b)
  }
}
"""


def upsert_records(
    tx: neo4j.ManagedTransaction, source_id: str, rows: list[dict[str, Any]]
) -> list[tuple[str, str]]:
    """Write parsed records (see :func:`graph.ingest.parse.parse_record`) of one source.

    Returns ``[(key, outcome)]`` with outcome ``created``, ``updated``, ``unchanged`` or
    ``stale``. Idempotent, so the driver may retry it. Shared identifiers and blocking keys
    are locked first in one global order, and rows are written in key order, so concurrent
    writers never deadlock.
    """
    identifiers = sorted({(i["type"], i["value"]) for r in rows for i in r["identifiers"]})
    blocks = sorted({b for r in rows for b in r["blocks"]})
    locks = {
        "lockIdentifiers": [[t, v, masked_identifier(t, v)] for t, v in identifiers],
        "lockBlocks": blocks,
    }
    hashes = sorted({h for r in rows for h in r.get("forgotten", ())})
    locked = tx.run(LOCK_EVIDENCE, locks, hashes=hashes).single(strict=True)
    found = set(locked["forgotten"])
    rows = sorted(
        (
            {**r, "forgottenMatch": True if found.intersection(r.get("forgotten", ())) else None}
            for r in rows
        ),
        key=lambda r: r["key"],
    )
    ids = {"identifiers": dict(locked["identifiers"]), "blocks": dict(locked["blocks"])}
    by_key = {r["key"]: r for r in rows}
    outcomes: list[tuple[str, str]] = []
    changes: dict[str, list[Any]] = {"deletes": [], "links": []}
    for rec in tx.run(_UPSERT, source=source_id, rows=rows):
        outcomes.append((rec["key"], rec["outcome"]))
        if rec["has"] is not None:
            _diff(by_key[rec["key"]], rec, ids, changes)
    if any(changes.values()):
        tx.run(_RELINK, changes).consume()
    if any(outcome in ("stale", "unchanged") for _, outcome in outcomes):
        tx.run(_DROP_UNUSED, locks).consume()
    return outcomes


def _diff(
    row: dict[str, Any],
    rec: neo4j.Record,
    ids: dict[str, dict[str, str]],
    changes: dict[str, list[Any]],
) -> None:
    """Add to ``changes`` what makes a written record's relationships match ``row``:
    relationship ids to delete, ``[from id, to id, type]`` links to create."""
    has, record = rec["has"], rec["id"]
    links = changes["links"]
    if not has["sources"]:
        links.append([record, rec["source"], "FROM"])
    for kind, rel_type, wanted in (
        ("blocks", "IN_BLOCK", set(row["blocks"])),
        (
            "identifiers",
            "HAS_IDENTIFIER",
            {f"{i['type']}:{i['value']}" for i in row["identifiers"]},
        ),
    ):
        present = set()
        for rel, value in has[kind]:
            if value in wanted:
                present.add(value)
            else:
                changes["deletes"].append(rel)
        links += [[record, ids[kind][value], rel_type] for value in sorted(wanted - present)]


_PENDING_KEYS: LiteralString = """
MATCH (r:Pending) WHERE r.key IS NOT NULL
RETURN r.key AS key ORDER BY key
"""

_COUNT_PENDING: LiteralString = "MATCH (r:Pending) RETURN count(r) AS n"

_PENDING_AMONG: LiteralString = """
UNWIND $keys AS key
MATCH (r:SourceRecord {key: key}) USING INDEX r:SourceRecord(key)
WHERE r:Pending
RETURN r.key AS key
"""


def pending_keys(driver: neo4j.Driver, settings: Settings) -> list[str]:
    """Keys of every record stored but not resolved yet (``:Pending``), in key order."""
    return [row["key"] for row in read(driver, settings, _PENDING_KEYS)]


def count_pending(driver: neo4j.Driver, settings: Settings) -> int:
    """How many records are pending resolution (from Neo4j's count store: constant time)."""
    return int(read(driver, settings, _COUNT_PENDING)[0]["n"])


def pending_among(driver: neo4j.Driver, settings: Settings, keys: Sequence[str]) -> list[str]:
    """Those of ``keys`` that are pending resolution (a re-sent unchanged record may be)."""
    return [row["key"] for row in read(driver, settings, _PENDING_AMONG, keys=list(keys))]
