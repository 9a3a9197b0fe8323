"""Segments and the exports made from them.

``(:Segment {id, name, version, definition, createdAt, updatedAt, actor})`` holds the current
version (``definition`` is canonical JSON text, see :mod:`graph.services.segment_definition`);
every version, the current one too, is kept as
``(:Segment)-[:HAS_VERSION]->(:SegmentVersion {segmentId, version, name, definition, at,
actor})``. A deleted segment keeps its node and versions with ``deletedAt`` (its exports still
name them) and is no longer listed.

``(:Export {id, segmentId, segmentVersion, channel, purpose, format, at, actor, candidates,
exported, suppressed, rules})-[:OF_SEGMENT]->(:SegmentVersion)``: who was sent what. The people
exported are stored as lists of 360 IDs in ``(:Export)-[:INCLUDES]->(:ExportBatch {exportId,
seq, personIds})`` of up to :data:`EXPORT_BATCH` ids: one node per 10,000 people keeps an export
of a million people to 100 small writes, where one relationship per person would cost a
million (and grow every person's neighbourhood); the ids of people merged later still lead to
them through their aliases.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, LiteralString

import neo4j

from graph.db import read, translate_errors
from graph.errors import Conflict, NotFound
from graph.settings import Settings

__all__ = [
    "EXPORT_BATCH",
    "ExportView",
    "SegmentView",
    "delete_segment",
    "export_person_ids",
    "exports_of_person",
    "get_export",
    "get_segment",
    "list_exports",
    "list_segments",
    "record_export",
    "save_segment",
]

EXPORT_BATCH = 10_000


@dataclass(frozen=True, slots=True)
class SegmentView:
    """One version of a segment; ``definition`` is the parsed JSON, times ISO text."""

    id: str
    name: str
    version: int
    definition: dict[str, Any]
    created_at: str
    updated_at: str
    actor: str | None


@dataclass(frozen=True, slots=True)
class ExportView:
    """One recorded export; ``suppressed`` lists ``(rule, people removed)`` in rule order."""

    id: str
    segment_id: str
    segment_version: int
    channel: str
    purpose: str
    format: str
    at: str
    actor: str
    candidates: int
    exported: int
    suppressed: tuple[tuple[str, int], ...]


_SEGMENT_FIELDS: LiteralString = """s.id AS id, s.name AS name, s.version AS version,
       s.definition AS definition, toString(s.createdAt) AS createdAt,
       toString(s.updatedAt) AS updatedAt, s.actor AS actor"""

# A new version when name or definition changed; the same text again (a retried write)
# changes nothing; a create never changes an existing segment. Expects ``s``, ``created`` and
# ``changed``.
_NEXT_VERSION: LiteralString = (
    """
WHERE s.deletedAt IS NULL
CALL (s, changed) {
  WITH s WHERE changed
  SET s.version = s.version + 1, s.name = $name, s.definition = $definition,
      s.updatedAt = datetime($at), s.actor = $actor
  CREATE (s)-[:HAS_VERSION]->(:SegmentVersion {segmentId: s.id, version: s.version,
          name: $name, definition: $definition, at: datetime($at), actor: $actor})
}
RETURN created, """
    + _SEGMENT_FIELDS
)
_CREATE: LiteralString = (
    """
MERGE (s:Segment {id: $id})
ON CREATE SET s.version = 0, s.createdAt = datetime($at)
WITH s, s.version = 0 AS created
WITH s, created, created AS changed"""
    + _NEXT_VERSION
)
_UPDATE: LiteralString = (
    """
MATCH (s:Segment {id: $id})
WITH s, false AS created, s.name <> $name OR s.definition <> $definition AS changed"""
    + _NEXT_VERSION
)

_GET: LiteralString = """
MATCH (s:Segment {id: $id}) WHERE s.deletedAt IS NULL
OPTIONAL MATCH (s)-[:HAS_VERSION]->(v:SegmentVersion {version: $version})
WITH s, v WHERE $version IS NULL OR v IS NOT NULL
WITH s {.id, .createdAt, .updatedAt,
        name: coalesce(v.name, s.name), version: coalesce(v.version, s.version),
        definition: coalesce(v.definition, s.definition), actor: coalesce(v.actor, s.actor)} AS s
RETURN s.id AS id, s.name AS name, s.version AS version, s.definition AS definition,
       toString(s.createdAt) AS createdAt, toString(s.updatedAt) AS updatedAt, s.actor AS actor
"""

_LIST: LiteralString = (
    "MATCH (s:Segment) WHERE s.deletedAt IS NULL RETURN " + _SEGMENT_FIELDS + " ORDER BY s.id"
)

_DELETE: LiteralString = """
MATCH (s:Segment {id: $id}) WHERE s.deletedAt IS NULL
SET s.deletedAt = datetime(), s.deletedBy = $actor
RETURN s.id AS id
"""

_RECORD_EXPORT: LiteralString = """
MATCH (s:Segment {id: $segmentId})-[:HAS_VERSION]->(v:SegmentVersion {version: $version})
MERGE (e:Export {id: $id})
ON CREATE SET e.segmentId = $segmentId, e.segmentVersion = $version, e.channel = $channel,
              e.purpose = $purpose, e.format = $format, e.at = datetime($at), e.actor = $actor,
              e.candidates = $candidates, e.exported = $exported,
              e.suppressed = $suppressed, e.rules = $rules
MERGE (e)-[:OF_SEGMENT]->(v)
WITH e
UNWIND $batches AS batch
MERGE (b:ExportBatch {exportId: e.id, seq: batch.seq})
ON CREATE SET b.personIds = batch.personIds
MERGE (e)-[:INCLUDES]->(b)
"""

_EXPORT_FIELDS: LiteralString = """e.id AS id, e.segmentId AS segmentId,
       e.segmentVersion AS segmentVersion, e.channel AS channel, e.purpose AS purpose,
       e.format AS format, toString(e.at) AS at, e.actor AS actor, e.candidates AS candidates,
       e.exported AS exported, e.suppressed AS suppressed"""

_GET_EXPORT: LiteralString = "MATCH (e:Export {id: $id}) RETURN " + _EXPORT_FIELDS

_LIST_EXPORTS: LiteralString = (
    "MATCH (e:Export) WHERE $segmentId IS NULL OR e.segmentId = $segmentId RETURN "
    + _EXPORT_FIELDS
    + " ORDER BY e.at DESC, e.id LIMIT $limit"
)

_EXPORT_IDS: LiteralString = """
MATCH (:Export {id: $id})-[:INCLUDES]->(b:ExportBatch)
WITH b ORDER BY b.seq
UNWIND b.personIds AS personId
RETURN personId
"""

# the person's own id and the ids it absorbed (aliases), then every batch holding one
_EXPORTS_OF: LiteralString = (
    """
MATCH (p:Person {id: $personId})
WITH [p.id] + [(a:PersonAlias)-[:ALIAS_OF]->(p) | a.id] AS ids
MATCH (e:Export)-[:INCLUDES]->(b:ExportBatch)
WHERE any(i IN ids WHERE i IN b.personIds)
WITH DISTINCT e
RETURN """
    + _EXPORT_FIELDS
    + " ORDER BY e.at DESC, e.id"
)


def _segment(row: neo4j.Record) -> SegmentView:
    return SegmentView(
        row["id"],
        row["name"],
        row["version"],
        json.loads(row["definition"]),
        row["createdAt"],
        row["updatedAt"],
        row["actor"],
    )


def _export(row: neo4j.Record) -> ExportView:
    return ExportView(
        row["id"],
        row["segmentId"],
        row["segmentVersion"],
        row["channel"],
        row["purpose"],
        row["format"],
        row["at"],
        row["actor"],
        row["candidates"],
        row["exported"],
        tuple((s["rule"], s["removed"]) for s in json.loads(row["suppressed"])),
    )


def save_segment(
    driver: neo4j.Driver,
    settings: Settings,
    segment_id: str,
    name: str,
    definition: str,
    *,
    actor: str,
    at: str,
    create: bool,
) -> SegmentView:
    """Store a segment's (validated, canonical JSON) ``definition`` as its next version.

    ``create`` True makes version 1 and raises :class:`Conflict` when the id is taken (unless
    the same name and definition are stored: a retried create); False adds a version and
    raises :class:`NotFound` for an unknown or deleted id. Saving the current name and
    definition again adds no version.
    """
    with translate_errors(settings):
        records, _, _ = driver.execute_query(
            _CREATE if create else _UPDATE,
            id=segment_id,
            name=name,
            definition=definition,
            actor=actor,
            at=at,
            database_=settings.neo4j_database,
        )
    if not records:
        if create:
            raise Conflict(f"segment {segment_id!r} was deleted; choose another id")
        raise NotFound(f"no segment with id {segment_id!r}")
    row = records[0]
    if create and not row["created"] and (row["name"], row["definition"]) != (name, definition):
        raise Conflict(f"a segment with id {segment_id!r} exists; use updateSegment")
    return _segment(row)


def delete_segment(
    driver: neo4j.Driver, settings: Settings, segment_id: str, *, actor: str
) -> bool:
    """Mark a segment deleted (its versions and exports stay); False when there was none."""
    with translate_errors(settings):
        records, _, _ = driver.execute_query(
            _DELETE,
            id=segment_id,
            actor=actor,
            database_=settings.neo4j_database,
        )
    return bool(records)


def get_segment(
    driver: neo4j.Driver, settings: Settings, segment_id: str, version: int | None = None
) -> SegmentView | None:
    """The current (or the given) version of a live segment, or None."""
    rows = read(driver, settings, _GET, id=segment_id, version=version)
    return _segment(rows[0]) if rows else None


def list_segments(driver: neo4j.Driver, settings: Settings) -> list[SegmentView]:
    """Every live segment at its current version, by id."""
    return [_segment(r) for r in read(driver, settings, _LIST)]


def record_export(
    driver: neo4j.Driver,
    settings: Settings,
    export: ExportView,
    person_ids: Sequence[str],
    rules: Sequence[str],
) -> None:
    """Store an export with its people (idempotent by export id: a retry adds nothing)."""
    batches = [
        {"seq": n, "personIds": list(person_ids[i : i + EXPORT_BATCH])}
        for n, i in enumerate(range(0, len(person_ids), EXPORT_BATCH))
    ]
    suppressed = json.dumps([{"rule": r, "removed": n} for r, n in export.suppressed])

    def work(tx: neo4j.ManagedTransaction) -> None:
        tx.run(
            _RECORD_EXPORT,
            id=export.id,
            segmentId=export.segment_id,
            version=export.segment_version,
            channel=export.channel,
            purpose=export.purpose,
            format=export.format,
            at=export.at,
            actor=export.actor,
            candidates=export.candidates,
            exported=export.exported,
            suppressed=suppressed,
            rules=list(rules),
            batches=batches,
        ).consume()

    with translate_errors(settings), driver.session(database=settings.neo4j_database) as s:
        s.execute_write(work)


def get_export(driver: neo4j.Driver, settings: Settings, export_id: str) -> ExportView | None:
    """A recorded export, or None."""
    rows = read(driver, settings, _GET_EXPORT, id=export_id)
    return _export(rows[0]) if rows else None


def list_exports(
    driver: neo4j.Driver, settings: Settings, segment_id: str | None = None, limit: int = 100
) -> list[ExportView]:
    """Exports newest first, of one segment or all."""
    return [
        _export(r) for r in read(driver, settings, _LIST_EXPORTS, segmentId=segment_id, limit=limit)
    ]


def export_person_ids(driver: neo4j.Driver, settings: Settings, export_id: str) -> list[str]:
    """The 360 IDs an export sent, in the order exported."""
    return [r["personId"] for r in read(driver, settings, _EXPORT_IDS, id=export_id)]


def exports_of_person(driver: neo4j.Driver, settings: Settings, person_id: str) -> list[ExportView]:
    """Every export that included the person (under its id or an id it absorbed), newest
    first. Reads every export batch: an audit question, not a hot path."""
    return [_export(r) for r in read(driver, settings, _EXPORTS_OF, personId=person_id)]
