"""Look-ups by identity: the person behind an identifier, a source record or an old 360 ID.

``(:Identifier {type, value})`` nodes are written with their records (:mod:`graph.store.records`);
an absorbed 360 ID is a ``(:PersonAlias {id})-[:ALIAS_OF]->(:Person)``
(:mod:`graph.store.components`). Every function here is one indexed read.
"""

from __future__ import annotations

from typing import LiteralString

import neo4j

from graph.db import read
from graph.settings import Settings

__all__ = ["current_person_id", "person_id_by_identifier", "person_id_by_record"]

_BY_RECORD: LiteralString = """
MATCH (p:Person)-[:HAS_RECORD]->(:SourceRecord {key: $key})
RETURN p.id AS id
"""

_BY_IDENTIFIER: LiteralString = """
MATCH (:Identifier {type: $type, value: $value})<-[:HAS_IDENTIFIER]-(:SourceRecord)
      <-[:HAS_RECORD]-(p:Person)
RETURN DISTINCT p.id AS id ORDER BY id LIMIT 2
"""

_CURRENT_ID: LiteralString = """
OPTIONAL MATCH (p:Person {id: $id})
OPTIONAL MATCH (:PersonAlias {id: $id})-[:ALIAS_OF]->(q:Person)
RETURN coalesce(p.id, q.id) AS id
"""


def person_id_by_record(driver: neo4j.Driver, settings: Settings, key: str) -> str | None:
    """The person holding source record ``key`` (``source:id``), or None."""
    rows = read(driver, settings, _BY_RECORD, key=key)
    return rows[0]["id"] if rows else None


def person_id_by_identifier(
    driver: neo4j.Driver, settings: Settings, type_: str, value: str
) -> list[str]:
    """People holding a record with identifier (type, value), at most two; more than one
    means the identifier is shared (a placeholder, a household) and callers should say so."""
    return [row["id"] for row in read(driver, settings, _BY_IDENTIFIER, type=type_, value=value)]


def current_person_id(driver: neo4j.Driver, settings: Settings, person_or_alias: str) -> str | None:
    """The current 360 ID of a person ID or of an absorbed alias; None when unknown."""
    return read(driver, settings, _CURRENT_ID, id=person_or_alias)[0]["id"]
