"""People: ``(:Person)-[:HAS_RECORD]->(:SourceRecord)``, aliases and resolution events.

The Cypher that reads a resolution component and applies a :class:`~graph.resolution.plan.Plan`
lives here, one constant per statement. Absorbed 360 IDs become
``(:PersonAlias {id})-[:ALIAS_OF]->(:Person)`` so an old ID still finds the person; every
decision is a ``(:ResolutionEvent)`` linked ``-[:CONCERNS]->`` its person and ``-[:ABOUT]->``
the records it touched.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any, LiteralString

import neo4j

from graph.resolution.plan import Plan, RecordData

__all__ = [
    "SET_BLOCKS",
    "UNMARK_PENDING",
    "Component",
    "apply_plan",
    "find_person_id",
    "plan_steps",
    "read_all_records",
    "read_component",
    "read_golden",
    "read_links",
    "stored_decision",
    "warm_up",
]

RECORD_FIELDS: LiteralString = """
x {.givenName, .familyName, .email, .phone, .addressLine1, .addressLine2, .city, .postcode,
   .country, .loyaltyId, .nationalId, .attributes, birthDate: toString(x.birthDate)}
"""

# The columns of a RecordData row (see _record): record x, its source s, person p, link h.
_RECORD_DATA: LiteralString = (
    """
RETURN x.key AS key, s.id AS source, s.priority AS priority,
       x.createdAt.epochSeconds * 1000000000 + x.createdAt.nanosecond AS createdAt,
       toString(x.updatedAt) AS updatedAt,
       """
    + RECORD_FIELDS
    + """ AS props,
       [(x)-[:HAS_IDENTIFIER]->(i:Identifier)
        WHERE COUNT { (i)<-[:HAS_IDENTIFIER]-() } <= $maxIdentifier | [i.type, i.value]]
         AS identifiers,
       p.id AS person, h.rule AS rule,
       CASE WHEN h.formerPerson IS NOT NULL
                 AND EXISTS { (:PersonAlias {id: h.formerPerson}) }
            THEN h.formerPerson END AS formerPerson,
       p.createdAt.epochSeconds * 1000000000 + p.createdAt.nanosecond AS personCreated,
       [(x)<-[:BETWEEN]-(pm:PossibleMatch) | pm.key] AS possible"""
)

SET_BLOCKS: LiteralString = """
UNWIND $blocks AS row
MATCH (r:SourceRecord {key: row.key}) USING INDEX r:SourceRecord(key)
CALL (r, row) {
  MATCH (r)-[x:IN_BLOCK]->(b:BlockingKey) WHERE NOT b.key IN row.blocks
  DELETE x
}
CALL (r, row) {
  UNWIND row.blocks AS key
  MERGE (b:BlockingKey {key: key})
  MERGE (r)-[:IN_BLOCK]->(b)
}
"""

# Locking first serialises resolutions that could see each other: every pair of possible
# candidates shares an identifier or a blocking key, and each resolution write-locks all of
# its seeds' ones before it reads, so the later one sees the earlier one's people. The order is
# the one ingestion locks them in (identifiers by type and value, then blocking keys by key:
# records.LOCK_EVIDENCE), so ingest and resolution never deadlock each other. Expansions from a
# bound record name no label on the far end (the relationship type implies it) and lookups by
# key carry an index hint, so no plan cached on a nearly empty database scans a label per row.
_COMPONENT: LiteralString = (
    """
CALL () {
  // resolved by this transaction: no longer pending (see graph.store.records)
  UNWIND $keys AS key
  MATCH (x:SourceRecord {key: key}) USING INDEX x:SourceRecord(key)
  WHERE x:Pending
  REMOVE x:Pending
}
CALL () {
  UNWIND $keys AS key
  MATCH (x:SourceRecord {key: key})-[:HAS_IDENTIFIER]->(i) USING INDEX x:SourceRecord(key)
  WITH DISTINCT i ORDER BY i.type, i.value
  SET i._lock = true
  REMOVE i._lock
}
CALL () {
  UNWIND $keys AS key
  MATCH (x:SourceRecord {key: key})-[:IN_BLOCK]->(b) USING INDEX x:SourceRecord(key)
  WITH DISTINCT b ORDER BY b.key
  SET b._lock = true
  REMOVE b._lock
}
CALL () {
  // an identifier that has just passed the evidence limit: flag it as generic, and take in
  // every record holding it so people glued by it before are re-resolved without it
  UNWIND $keys AS key
  MATCH (x:SourceRecord {key: key})-[:HAS_IDENTIFIER]->(i) USING INDEX x:SourceRecord(key)
  WHERE i.genericSince IS NULL AND COUNT { (i)<-[:HAS_IDENTIFIER]-() } > $maxIdentifier
  WITH DISTINCT i
  SET i.genericSince = datetime(), i.genericMark = $mark
}
UNWIND $keys AS key
MATCH (r:SourceRecord {key: key}) USING INDEX r:SourceRecord(key)
WHERE r.placeholder IS NULL AND r.forgottenMatch IS NULL
CALL (r) {
  MATCH (r)-[:HAS_IDENTIFIER]->(i)
  WHERE COUNT { (i)<-[:HAS_IDENTIFIER]-() } <= $maxIdentifier
  MATCH (i)<-[:HAS_IDENTIFIER]-(c)
  RETURN c, false AS regroup
  UNION
  MATCH (r)-[:IN_BLOCK]->(b)
  WHERE COUNT { (b)<-[:IN_BLOCK]-() } <= $maxBlock
  MATCH (b)<-[:IN_BLOCK]-(c)
  RETURN c, false AS regroup
  UNION
  MATCH (r)-[:HAS_IDENTIFIER]->(i) WHERE i.genericMark = $mark
  MATCH (i)<-[:HAS_IDENTIFIER]-(c)
  RETURN c, true AS regroup
  UNION
  MATCH (r)-[:MUST_LINK|CANNOT_LINK]-(c)
  RETURN c, true AS regroup
  UNION
  RETURN r AS c, true AS regroup
}
WITH c, regroup WHERE c.placeholder IS NULL AND c.forgottenMatch IS NULL
OPTIONAL MATCH (p:Person)-[:HAS_RECORD]->(c)
WITH collect(DISTINCT c) AS direct, collect(DISTINCT p) AS people,
     collect(DISTINCT CASE WHEN regroup THEN c.key END) AS regroup
CALL (people) {
  UNWIND people AS p
  MATCH (p)-[:HAS_RECORD]->(m:SourceRecord)
  RETURN collect(m) AS members
}
UNWIND direct + members AS x
WITH DISTINCT x, regroup
MATCH (x)-[:FROM]->(s:Source)
OPTIONAL MATCH (p:Person)-[h:HAS_RECORD]->(x)
"""
    + _RECORD_DATA
    + """,
       [(x)-[l:MUST_LINK|CANNOT_LINK]->(y:SourceRecord) | [type(l), y.key]] AS steward,
       x.key IN regroup AS regroup
"""
)

#: Batch resolution's last step: the records it read and resolved are no longer pending.
UNMARK_PENDING: LiteralString = """
UNWIND $resolved AS key
MATCH (r:SourceRecord {key: key}) USING INDEX r:SourceRecord(key)
WHERE r:Pending
REMOVE r:Pending
"""

_ALL_RECORDS: LiteralString = (
    """
MATCH (x:SourceRecord)-[:FROM]->(s:Source)
WHERE x.placeholder IS NULL AND x.forgottenMatch IS NULL
OPTIONAL MATCH (p:Person)-[h:HAS_RECORD]->(x)
"""
    + _RECORD_DATA
    + """,
       [(x)-[:IN_BLOCK]->(b:BlockingKey) | b.key] AS blocks
"""
)

_ALL_GOLDEN: LiteralString = """
MATCH (p:Person)
RETURN p.id AS id,
       p {.givenName, .familyName, .email, .phone, .addressLine1, .addressLine2, .city,
          .postcode, .country, .loyaltyId, .sources, .recordCount, .goldenSources, .attributes,
          birthDate: toString(p.birthDate)} AS golden
"""

_ALL_LINKS: LiteralString = """
MATCH (a:SourceRecord)-[l:MUST_LINK|CANNOT_LINK]->(b:SourceRecord)
RETURN a.key AS a, type(l) AS type, b.key AS b
"""

# An ID taken back from an alias (a split undoing a merge) keeps the absorbed person's
# creation time; the alias goes, the ID names a person again.
_CREATE_PEOPLE: LiteralString = """
UNWIND created AS id
OPTIONAL MATCH (alias:PersonAlias {id: id})
WITH id, alias, coalesce(alias.createdAt, datetime()) AS createdAt
CALL (alias) {
  WITH alias WHERE alias IS NOT NULL
  DETACH DELETE alias
}
CREATE (:Person {id: id, createdAt: createdAt, updatedAt: datetime()})
"""

# A record staying with its person keeps linkedAt and actor; its evidence is re-explained.
_RELINK: LiteralString = """
UNWIND links AS l
MATCH (r:SourceRecord {key: l.key}) USING INDEX r:SourceRecord(key)
MATCH (p:Person {id: l.personId}) USING INDEX p:Person(id)
CALL (r, p) {
  OPTIONAL MATCH (other:Person)-[old:HAS_RECORD]->(r) WHERE other <> p
  DELETE old
  RETURN collect(other.id)[0] AS former
}
MERGE (p)-[h:HAS_RECORD]->(r)
ON CREATE SET h.linkedAt = datetime(), h.actor = actor, h.formerPerson = former
SET h.rule = l.rule, h.score = l.score, h.scores = l.scores, h.matched = l.matched,
    h.rulesVersion = rulesVersion, h.modelVersion = modelVersion, h.explainedAt = datetime()
"""

_ABSORB: LiteralString = """
UNWIND absorbed AS a
MATCH (old:Person {id: a.old}) USING INDEX old:Person(id)
MATCH (survivor:Person {id: a.survivor}) USING INDEX survivor:Person(id)
MERGE (alias:PersonAlias {id: old.id})
ON CREATE SET alias.createdAt = old.createdAt
SET alias.mergedAt = datetime()
MERGE (alias)-[:ALIAS_OF]->(survivor)
WITH old, survivor
CALL (old, survivor) {
  MATCH (earlier:PersonAlias)-[x:ALIAS_OF]->(old)
  DELETE x
  MERGE (earlier)-[:ALIAS_OF]->(survivor)
}
CALL (old, survivor) {
  MATCH (e:ResolutionEvent)-[x:CONCERNS]->(old)
  DELETE x
  MERGE (e)-[:CONCERNS]->(survivor)
}
CALL (old, survivor) {
  // consents given to the API for the absorbed person are the survivor's now
  MATCH (old)-[g:GAVE]->(c:Consent)
  WHERE NOT EXISTS { (:SourceRecord)-[:CAPTURED]->(c) }
  DELETE g
  MERGE (survivor)-[:GAVE]->(c)
}
DETACH DELETE old
"""

_GOLDEN: LiteralString = """
UNWIND golden AS row
MATCH (p:Person {id: row.id}) USING INDEX p:Person(id)
SET p += row.props, p.updatedAt = datetime()
WITH p
CALL (p) {
  // consents a record captured follow the record; those given to the API stay with the person
  MATCH (p)-[g:GAVE]->(c:Consent)
  WHERE EXISTS { (:SourceRecord)-[:CAPTURED]->(c) }
    AND NOT EXISTS { (p)-[:HAS_RECORD]->(:SourceRecord)-[:CAPTURED]->(c) }
  DELETE g
}
CALL (p) {
  MATCH (p)-[:HAS_RECORD]->(:SourceRecord)-[:CAPTURED]->(c:Consent)
  MERGE (p)-[:GAVE]->(c)
}
"""

_EVENTS: LiteralString = """
UNWIND events AS e
MATCH (p:Person {id: e.personId}) USING INDEX p:Person(id)
CREATE (ev:ResolutionEvent {id: e.id, kind: e.kind, rule: e.rule, score: e.score,
        explanation: e.explanation, at: datetime(), actor: actor, personId: e.personId,
        absorbedIds: e.absorbed, splitFrom: e.splitFrom, recordKeys: e.recordKeys,
        rulesVersion: rulesVersion, modelVersion: modelVersion})
CREATE (ev)-[:CONCERNS]->(p)
WITH ev, e
CALL (ev, e) {
  // a split concerns the person split from too, so its audit trail shows the split
  MATCH (q:Person {id: e.splitFrom}) USING INDEX q:Person(id)
  CREATE (ev)-[:CONCERNS]->(q)
}
WITH ev, e
CALL (ev, e) {
  UNWIND e.recordKeys AS key
  MATCH (r:SourceRecord {key: key}) USING INDEX r:SourceRecord(key)
  CREATE (ev)-[:ABOUT]->(r)
}
"""

# The review queue (graph.store.review): a pair between the review and link thresholds that
# ended in different people; re-deciding the component rewrites or clears it.
_POSSIBLE: LiteralString = """
UNWIND possible AS pm
MATCH (a:SourceRecord {key: pm.a}) USING INDEX a:SourceRecord(key)
MATCH (b:SourceRecord {key: pm.b}) USING INDEX b:SourceRecord(key)
MERGE (x:PossibleMatch {key: pm.key})
ON CREATE SET x.createdAt = datetime(), x.a = pm.a, x.b = pm.b
SET x.weight = pm.weight, x.comparisons = pm.comparisons, x.modelVersion = modelVersion,
    x.updatedAt = datetime()
MERGE (x)-[:BETWEEN]->(a)
MERGE (x)-[:BETWEEN]->(b)
"""

_CLEAR_POSSIBLE: LiteralString = """
UNWIND cleared AS key
MATCH (x:PossibleMatch {key: key}) USING INDEX x:PossibleMatch(key)
DETACH DELETE x
"""

_DROP_EMPTY_PEOPLE: LiteralString = """
UNWIND emptied AS id
MATCH (p:Person {id: id}) USING INDEX p:Person(id)
WHERE NOT (p)-[:HAS_RECORD]->()
DETACH DELETE p
"""

_FIND_PERSON: LiteralString = """
OPTIONAL MATCH (p:Person {id: $id})
OPTIONAL MATCH (:PersonAlias {id: $id})-[:ALIAS_OF]->(q:Person)
RETURN coalesce(p.id, q.id) AS id
"""


def _sortable(nanos: int | None) -> str:
    """Epoch nanoseconds as fixed-width text, so times sort correctly as strings (ISO text
    from Neo4j drops trailing zeros: "...00.18Z" would sort after "...00.183Z")."""
    return f"{nanos or 0:020d}"


def _record(row: neo4j.Record) -> RecordData:
    return RecordData(
        key=row["key"],
        source=row["source"],
        priority=int(row["priority"] or 0),
        created_at=_sortable(row["createdAt"]),
        updated_at=row["updatedAt"],
        props=row["props"],
        identifiers=tuple((t, v) for t, v in row["identifiers"]),
        person=row["person"],
        person_created=_sortable(row["personCreated"]) if row["person"] else None,
        link_rule=row["rule"],
        possible=tuple(row["possible"]),
        former_person=row["formerPerson"],
    )


@dataclass(frozen=True, slots=True)
class Component:
    """The records a resolution of some seed records reads (see :func:`read_component`):
    ``must`` and ``cannot`` links among them, and the ``regroup`` keys, whose people must be
    re-clustered whatever the scores say (the seeds, their must/cannot partners, holders of an
    identifier that has just become generic)."""

    records: list[RecordData]
    must: list[tuple[str, str]]
    cannot: list[tuple[str, str]]
    regroup: frozenset[str]


def read_component(
    tx: neo4j.ManagedTransaction, keys: Sequence[str], max_identifier: int, max_block: int
) -> Component:
    """Lock the evidence of ``keys`` and read the records a change to them can affect: the
    seeds, their candidates, must/cannot partners, and every record of every person among
    them. ``keys`` stop being pending (``:Pending``) in ``tx``: the caller resolves them in
    the same transaction, so a rolled-back resolution leaves them pending."""
    rows = list(
        tx.run(
            _COMPONENT,
            keys=sorted(keys),
            maxIdentifier=max_identifier,
            maxBlock=max_block,
            mark=str(uuid.uuid4()),
        )
    )
    inside = {row["key"] for row in rows}
    must: list[tuple[str, str]] = []
    cannot: list[tuple[str, str]] = []
    for row in rows:
        for link_type, other in row["steward"]:
            if other in inside:
                (must if link_type == "MUST_LINK" else cannot).append((row["key"], other))
    regroup = frozenset(row["key"] for row in rows if row["regroup"])
    return Component([_record(r) for r in rows], must, cannot, regroup)


def read_all_records(
    tx: neo4j.ManagedTransaction, max_identifier: int
) -> Iterable[tuple[RecordData, list[str]]]:
    """Every non-placeholder record with its current blocking keys (batch resolution)."""
    for row in tx.run(_ALL_RECORDS, maxIdentifier=max_identifier):
        yield _record(row), list(row["blocks"])


def read_golden(tx: neo4j.ManagedTransaction) -> dict[str, dict[str, Any]]:
    """The stored golden attributes of every person, by person id."""
    return {row["id"]: dict(row["golden"]) for row in tx.run(_ALL_GOLDEN)}


def read_links(tx: neo4j.ManagedTransaction) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """Every steward decision: ``(must_links, cannot_links)`` as record key pairs."""
    must: list[tuple[str, str]] = []
    cannot: list[tuple[str, str]] = []
    for row in tx.run(_ALL_LINKS):
        (must if row["type"] == "MUST_LINK" else cannot).append((row["a"], row["b"]))
    return must, cannot


def _golden_props(props: dict[str, Any]) -> dict[str, Any]:
    out = dict(props)
    birth = out.get("birthDate")
    if isinstance(birth, str) and birth:
        out["birthDate"] = date.fromisoformat(birth[:10])
    return out


def plan_steps(
    plan: Plan,
    *,
    actor: str,
    rules_version: str,
    new_people: Sequence[str],
    model_version: str | None = None,
) -> list[tuple[LiteralString, str, list[Any], dict[str, Any]]]:
    """The statements that write a plan, in order: ``(query, list parameter, rows, other
    parameters)``. Order matters: people first, then links (which empty absorbed people), then
    aliases, golden records and events. Each step's rows may be split into batches."""
    rows = _plan_rows(plan, new_people)
    audit = {"actor": actor, "rulesVersion": rules_version, "modelVersion": model_version}
    return [
        (_STANDALONE[name], name, rows[name], {k: audit[k] for k in extra})
        for _, name, extra in _WRITES
        if rows[name]
    ]


def _plan_rows(plan: Plan, new_people: Sequence[str]) -> dict[str, list[Any]]:
    """The rows of every write step of ``plan``, by the name of the list each unwinds."""
    links = [
        {
            "key": link.key,
            "personId": link.person_id,
            "rule": link.rule,
            "score": link.score,
            "scores": link.scores,
            "matched": link.matched,
        }
        for link in sorted(plan.links, key=lambda link: link.key)
    ]
    absorbed = [{"old": o, "survivor": s} for o, s in sorted(plan.absorbed.items())]
    golden = [{"id": pid, "props": _golden_props(g)} for pid, g in sorted(plan.golden.items())]
    emptied = sorted({a.split_from for a in plan.assignments if a.split_from})
    events = [
        {
            "id": str(uuid.uuid4()),
            "kind": e.kind,
            "personId": e.person_id,
            "recordKeys": list(e.record_keys),
            "rule": e.rule,
            "score": e.score,
            "explanation": e.explanation,
            "absorbed": list(e.absorbed),
            "splitFrom": e.split_from,
        }
        for e in plan.events
    ]
    possible = [
        {"key": x.key, "a": x.a, "b": x.b, "weight": x.weight, "comparisons": x.comparisons}
        for x in plan.possible
    ]
    return {
        "created": sorted(set(new_people) | {a.person_id for a in plan.assignments if a.reclaimed}),
        "links": links,
        "absorbed": absorbed,
        "golden": golden,
        "emptied": emptied,
        "events": events,
        "cleared": list(plan.cleared),
        "possible": possible,
    }


# The statements that write a plan, in order: (body, the list it unwinds, the audit values it
# reads). A body reads variables, not parameters, so that one text serves both as a statement
# of its own (batch resolution writes each step in chunks) and as a part of _APPLY.
_AUDIT = ("actor", "rulesVersion", "modelVersion")
_WRITES: tuple[tuple[LiteralString, str, tuple[str, ...]], ...] = (
    (_CREATE_PEOPLE, "created", ()),
    (_RELINK, "links", _AUDIT),
    (_ABSORB, "absorbed", ()),
    (_GOLDEN, "golden", ()),
    (_DROP_EMPTY_PEOPLE, "emptied", ()),
    (_EVENTS, "events", _AUDIT),
    (_CLEAR_POSSIBLE, "cleared", ()),
    (_POSSIBLE, "possible", ("modelVersion",)),
)
_STANDALONE: dict[str, LiteralString] = {
    name: "WITH " + ", ".join(f"${n} AS {n}" for n in (name, *extra)) + body
    for body, name, extra in _WRITES
}
# Real time sends a whole plan as one map parameter, in one statement and one round trip.
# Neo4j caches a query plan per query text and parameter types, and an empty list, a list of
# strings and a null are three types: with one parameter per step, each combination of empty
# and filled steps was planned afresh (~370 ms on this machine kind, bench/resolve.py p99); a
# map's entries are not part of the cache key, so the statement is planned once.
_APPLY: LiteralString = "WITH $plan AS plan" + "".join(
    "\nCALL (plan) {\n  WITH " + ", ".join(f"plan.{n} AS {n}" for n in (name, *extra)) + body + "}"
    for body, name, extra in _WRITES
)


def apply_plan(
    tx: neo4j.ManagedTransaction,
    plan: Plan,
    *,
    actor: str,
    rules_version: str,
    new_people: Sequence[str],
    model_version: str | None = None,
) -> list[str]:
    """Write a whole plan in ``tx`` with one statement (one round trip); returns the ids of
    the events written. Nothing is sent when the plan changes nothing."""
    rows = _plan_rows(plan, new_people)
    if not any(rows.values()):
        return []
    tx.run(_APPLY, plan=_plan_parameter(rows, actor, rules_version, model_version)).consume()
    return [e["id"] for e in rows["events"]]


def _plan_parameter(
    rows: dict[str, list[Any]], actor: str, rules_version: str, model_version: str | None
) -> dict[str, Any]:
    """_APPLY's one map parameter: every step's rows (empty ones too) and the audit values."""
    return {**rows, "actor": actor, "rulesVersion": rules_version, "modelVersion": model_version}


def warm_up(tx: neo4j.ManagedTransaction) -> None:
    """Have Neo4j plan the real-time statements (read a component, apply a plan) before the
    first record arrives: planning them takes 0.5-1.5 s on this machine kind, then each run
    takes milliseconds. Runs them on a key no record has and an empty plan, with the
    parameter types real calls use (the plan cache is keyed by them), so nothing is written."""
    tx.run(_COMPONENT, keys=["\u0000warm-up"], maxIdentifier=1, maxBlock=1, mark="").consume()
    empty: dict[str, list[Any]] = {name: [] for _, name, _ in _WRITES}
    tx.run(_APPLY, plan=_plan_parameter(empty, "", "", "")).consume()


_STORED_DECISION: LiteralString = """
MATCH (r:SourceRecord {key: $key})<-[h:HAS_RECORD]-(p:Person)
OPTIONAL MATCH (e:ResolutionEvent)-[:ABOUT]->(r)
WHERE e.kind IN ['CREATED', 'LINKED', 'MERGED'] AND e.personId = p.id
WITH p, h, e ORDER BY e.at DESC
RETURN p.id AS person, h.rule AS rule, h.score AS score, e.kind AS kind,
       coalesce(e.absorbedIds, []) AS absorbed
LIMIT 1
"""


def stored_decision(tx: neo4j.ManagedTransaction, key: str) -> dict[str, Any] | None:
    """How record ``key`` came to its person: ``{person, rule, score, kind, absorbed}`` from
    its ``HAS_RECORD`` link and the latest CREATED / LINKED / MERGED event about it that
    names that person (``kind`` None when none does); None when no person holds it."""
    row = tx.run(_STORED_DECISION, key=key).single()
    return None if row is None else dict(row)


def find_person_id(tx: neo4j.ManagedTransaction, person_id: str) -> str | None:
    """The current id of a person by its id or by an absorbed (alias) id; None if unknown."""
    return tx.run(_FIND_PERSON, id=person_id).single(strict=True)["id"]
