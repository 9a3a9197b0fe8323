"""The graph's invariants, checked: what ``c360 check`` runs.

Each :class:`Check` is one read-only Cypher statement that returns the offending ids (record
keys, 360 IDs, alias ids, identifiers as ``TYPE:value``) of one broken promise of the graph
model (docs/DESIGN.md):

========================  ==================================================================
``pending-record``        a source record stored but not resolved yet (``:Pending``: the process
                          that stored it died or is still resolving it)
``orphan-record``         a stored source record (not a placeholder for early events, not held
                          back as a forgotten person's) that no ``(:Person)`` holds
``record-in-several``     a source record held by more than one ``HAS_RECORD`` relationship
``record-source``         a source record without exactly one ``FROM`` its ``(:Source)``
``record-key``            a source record whose key is not ``source:sourceId``
``empty-person``          a ``(:Person)`` holding no record
``person-record-count``   ``Person.recordCount`` differs from its ``HAS_RECORD`` count
``person-sources``        ``Person.sources`` differs from the sources of its records
``alias-dangling``        a ``(:PersonAlias)`` without exactly one ``ALIAS_OF`` a live person
``alias-shadows-person``  a ``(:PersonAlias)`` whose id is also a live person's 360 ID
``duplicate-identifier``  two ``(:Identifier)`` nodes with one (type, value)
``missing-key``           a person, record or identifier without its key property
========================  ==================================================================

Every statement scans its label once (a check reads the whole graph by design; it is an
operator's tool, never on a request path) and returns at most ``limit`` ids with the full
count. ``c360 status`` and ``/ready`` report the pending count
(:func:`graph.store.records.count_pending`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import LiteralString

import neo4j

from graph.db import read
from graph.settings import Settings

__all__ = ["CHECKS", "Check", "Violation", "check_graph", "count_violations"]


@dataclass(frozen=True, slots=True)
class Check:
    """One invariant: ``name`` (stable, for scripts), a sentence of what is wrong when it
    fails, and the Cypher returning ``total`` and ``ids`` (at most ``$limit``)."""

    name: str
    problem: str
    query: LiteralString


@dataclass(frozen=True, slots=True)
class Violation:
    """A failed check: ``total`` offenders, the first ``ids`` of them in id order."""

    check: str
    problem: str
    total: int
    ids: tuple[str, ...]


# Every statement ends the same way so one caller reads them all.
_TAIL: LiteralString = """
WITH id ORDER BY id
RETURN count(id) AS total, collect(id)[..$limit] AS ids
"""

CHECKS: tuple[Check, ...] = (
    Check(
        "pending-record",
        "source records stored but not resolved yet (`c360 resolve --pending` resolves them)",
        """
MATCH (r:Pending)
WITH r.key AS id
"""
        + _TAIL,
    ),
    Check(
        "orphan-record",
        "source records no person holds (unresolved: `c360 resolve KEY...` links them)",
        """
MATCH (r:SourceRecord)
WHERE r.placeholder IS NULL AND r.forgottenMatch IS NULL AND NOT (r)<-[:HAS_RECORD]-()
WITH r.key AS id
"""
        + _TAIL,
    ),
    Check(
        "record-in-several",
        "source records held more than once (by several people or twice by one)",
        """
MATCH (r:SourceRecord)
WHERE COUNT { (r)<-[:HAS_RECORD]-() } > 1
WITH r.key AS id
"""
        + _TAIL,
    ),
    Check(
        "record-source",
        "source records without exactly one FROM relationship to a Source",
        """
MATCH (r:SourceRecord)
WHERE COUNT { (r)-[:FROM]->(:Source) } <> 1 OR COUNT { (r)-[:FROM]->() } <> 1
WITH r.key AS id
"""
        + _TAIL,
    ),
    Check(
        "record-key",
        "source records whose key is not their source's id and their sourceId (source:id)",
        """
MATCH (r:SourceRecord)-[:FROM]->(s:Source)
WHERE r.key <> s.id + ':' + coalesce(r.sourceId, '')
WITH r.key AS id
"""
        + _TAIL,
    ),
    Check(
        "empty-person",
        "people holding no source record",
        """
MATCH (p:Person)
WHERE NOT (p)-[:HAS_RECORD]->(:SourceRecord)
WITH p.id AS id
"""
        + _TAIL,
    ),
    Check(
        "person-record-count",
        "people whose recordCount differs from the records they hold",
        """
MATCH (p:Person)
WITH p, COUNT { (p)-[:HAS_RECORD]->(:SourceRecord) } AS held
WHERE held > 0 AND (p.recordCount IS NULL OR p.recordCount <> held)
WITH p.id AS id
"""
        + _TAIL,
    ),
    Check(
        "person-sources",
        "people whose sources differ from the sources of the records they hold",
        """
MATCH (p:Person)
WHERE (p)-[:HAS_RECORD]->(:SourceRecord)
WITH p, COLLECT { MATCH (p)-[:HAS_RECORD]->(:SourceRecord)-[:FROM]->(s:Source)
                  RETURN DISTINCT s.id } AS actual
WITH p, actual, coalesce(p.sources, []) AS stored
WHERE size(stored) <> size(actual) OR any(s IN actual WHERE NOT s IN stored)
WITH p.id AS id
"""
        + _TAIL,
    ),
    Check(
        "alias-dangling",
        "absorbed 360 IDs that do not lead to exactly one live person",
        """
MATCH (a:PersonAlias)
WHERE COUNT { (a)-[:ALIAS_OF]->(:Person) } <> 1 OR COUNT { (a)-[:ALIAS_OF]->() } <> 1
WITH a.id AS id
"""
        + _TAIL,
    ),
    Check(
        "alias-shadows-person",
        "absorbed 360 IDs that are also a live person's ID (the ID finds two people)",
        """
MATCH (a:PersonAlias)
WHERE EXISTS { MATCH (p:Person {id: a.id}) }
WITH a.id AS id
"""
        + _TAIL,
    ),
    Check(
        "duplicate-identifier",
        "identifiers stored as more than one node (TYPE:value)",
        """
MATCH (i:Identifier)
WITH i.type AS type, i.value AS value, count(*) AS nodes
WHERE nodes > 1
WITH type + ':' + value AS id
"""
        + _TAIL,
    ),
    Check(
        "missing-key",
        "nodes without their key (Person.id, SourceRecord.key, Identifier type and value)",
        """
CALL () {
  MATCH (p:Person) WHERE p.id IS NULL RETURN 'Person ' + elementId(p) AS id
  UNION ALL
  MATCH (r:SourceRecord) WHERE r.key IS NULL RETURN 'SourceRecord ' + elementId(r) AS id
  UNION ALL
  MATCH (i:Identifier) WHERE i.type IS NULL OR i.value IS NULL
  RETURN 'Identifier ' + elementId(i) AS id
}
WITH id
"""
        + _TAIL,
    ),
)


def check_graph(
    driver: neo4j.Driver,
    settings: Settings,
    *,
    limit: int = 100,
    only: Iterable[str] | None = None,
    progress: Callable[[Check], None] | None = None,
) -> list[Violation]:
    """Run every check of :data:`CHECKS` (or those named in ``only``) and return the failed
    ones, in :data:`CHECKS` order; an empty list means the graph keeps every invariant.

    ``limit`` caps the ids listed per check (the count is always complete); ``progress`` is
    called before each check runs. Raises :class:`KeyError` for an unknown name in ``only``
    and :class:`graph.errors.Neo4jError` when Neo4j fails.
    """
    chosen = _chosen(only)
    found: list[Violation] = []
    for check in chosen:
        if progress is not None:
            progress(check)
        [row] = read(driver, settings, check.query, limit=limit)
        if row["total"]:
            found.append(Violation(check.name, check.problem, row["total"], tuple(row["ids"])))
    return found


def count_violations(driver: neo4j.Driver, settings: Settings, name: str) -> int:
    """How many offenders check ``name`` finds now (for status reports); raises
    :class:`KeyError` for an unknown check."""
    [check] = _chosen([name])
    [row] = read(driver, settings, check.query, limit=0)
    return int(row["total"])


def _chosen(only: Iterable[str] | None) -> list[Check]:
    if only is None:
        return list(CHECKS)
    by_name = {c.name: c for c in CHECKS}
    unknown = [n for n in only if n not in by_name]
    if unknown:
        raise KeyError(f"unknown check(s) {', '.join(unknown)}; known: {', '.join(by_name)}")
    return [by_name[n] for n in only]
