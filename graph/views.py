"""Read models for front ends: people and their source records, fetched in batches.

Every function takes many keys and answers in one query (``UNWIND $ids``), so the API's
DataLoaders cost one round trip per kind of data per request, whatever the number of people on
a page. Dates come back as ISO strings (``toString`` in Cypher): the API returns text, and
letting the driver build native temporal objects is measurably slower (DESIGN.md).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, LiteralString

import neo4j

from graph.db import translate_errors
from graph.settings import Settings

__all__ = ["HISTORY_QUERIES", "ConsentView", "PersonView", "RecordView", "consents_of_people",
           "events_since", "history_of_people", "people_by_ids", "search_people_by_name",
           "person_id_by_identifier",
           "person_id_by_record", "records_by_keys", "records_of_people"]

GOLDEN_FIELDS = ("givenName", "familyName", "birthDate", "email", "phone", "addressLine1",
                 "addressLine2", "city", "postcode", "country", "loyaltyId")


@dataclass(frozen=True, slots=True)
class PersonView:
    """A person's golden record: ``golden`` maps attribute -> value (ISO text for dates),
    ``golden_sources`` attribute -> record key it came from; ``aliases`` absorbed 360 IDs."""

    id: str
    created_at: str
    updated_at: str
    golden: dict[str, Any]
    golden_sources: dict[str, str]
    sources: tuple[str, ...]
    record_count: int
    aliases: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class RecordView:
    """A source record with its source and identifiers, and why it belongs to its person."""

    key: str
    source_id: str
    source_kind: str
    source_record_id: str
    attributes: dict[str, Any]
    identifiers: tuple[tuple[str, str], ...]
    quality_flags: tuple[str, ...]
    updated_at: str | None
    created_at: str | None
    raw: str | None
    person_id: str | None
    link: dict[str, Any] | None


_PEOPLE: LiteralString = """
UNWIND $ids AS id
OPTIONAL MATCH (direct:Person {id: id})
OPTIONAL MATCH (:PersonAlias {id: id})-[:ALIAS_OF]->(aliased:Person)
WITH id, coalesce(direct, aliased) AS p
WHERE p IS NOT NULL
RETURN id AS asked, p.id AS id, toString(p.createdAt) AS createdAt,
       toString(p.updatedAt) AS updatedAt,
       p {.givenName, .familyName, .email, .phone, .addressLine1, .addressLine2, .city,
          .postcode, .country, .loyaltyId, birthDate: toString(p.birthDate)} AS golden,
       p.goldenSources AS goldenSources, p.sources AS sources, p.recordCount AS recordCount,
       [(a:PersonAlias)-[:ALIAS_OF]->(p) | a.id] AS aliases
"""

_RECORD_FIELDS: LiteralString = """
RETURN r.key AS key, s.id AS sourceId, s.kind AS sourceKind, r.sourceId AS recordId,
       r {.givenName, .familyName, .email, .phone, .addressLine1, .addressLine2, .city,
          .postcode, .country, .loyaltyId, birthDate: toString(r.birthDate)} AS attributes,
       [(r)-[:HAS_IDENTIFIER]->(i:Identifier) | [i.type, i.value]] AS identifiers,
       coalesce(r.qualityFlags, []) AS qualityFlags, toString(r.updatedAt) AS updatedAt,
       toString(r.createdAt) AS createdAt, r.raw AS raw, p.id AS personId,
       CASE WHEN h IS NULL THEN null ELSE h {.rule, .score, .scores, .matched, .actor,
            linkedAt: toString(h.linkedAt), explainedAt: toString(h.explainedAt)} END AS link
"""

_RECORDS_OF_PEOPLE: LiteralString = ("""
UNWIND $ids AS id
MATCH (p:Person {id: id})-[h:HAS_RECORD]->(r:SourceRecord)-[:FROM]->(s:Source)
WHERE $kind IS NULL OR s.kind = $kind
WITH p, h, r, s ORDER BY r.key
""" + _RECORD_FIELDS)

_RECORDS_BY_KEYS: LiteralString = ("""
UNWIND $keys AS key
MATCH (r:SourceRecord {key: key})-[:FROM]->(s:Source)
OPTIONAL MATCH (p:Person)-[h:HAS_RECORD]->(r)
""" + _RECORD_FIELDS)

_BY_RECORD: LiteralString = """
MATCH (p:Person)-[:HAS_RECORD]->(:SourceRecord {key: $key})
RETURN p.id AS id
"""

_BY_IDENTIFIER: LiteralString = """
MATCH (:Identifier {type: $type, value: $value})<-[:HAS_IDENTIFIER]-(:SourceRecord)
      <-[:HAS_RECORD]-(p:Person)
RETURN DISTINCT p.id AS id ORDER BY id LIMIT 2
"""


def _read(driver: neo4j.Driver, settings: Settings, query: LiteralString, **params: Any
          ) -> list[neo4j.Record]:
    with translate_errors(settings):
        records, _, _ = driver.execute_query(query, params, database_=settings.neo4j_database,
                                             routing_=neo4j.RoutingControl.READ)
    return records


def people_by_ids(driver: neo4j.Driver, settings: Settings, ids: Sequence[str]
                  ) -> dict[str, PersonView]:
    """``{asked id: PersonView}`` for ids and absorbed aliases that exist (others absent)."""
    out = {}
    for row in _read(driver, settings, _PEOPLE, ids=list(dict.fromkeys(ids))):
        out[row["asked"]] = PersonView(
            id=row["id"], created_at=row["createdAt"], updated_at=row["updatedAt"],
            golden=dict(row["golden"]), golden_sources=json.loads(row["goldenSources"] or "{}"),
            sources=tuple(row["sources"] or ()), record_count=int(row["recordCount"] or 0),
            aliases=tuple(sorted(row["aliases"])),
        )
    return out


def _record_view(row: neo4j.Record) -> RecordView:
    link = dict(row["link"]) if row["link"] is not None else None
    if link is not None:
        link["scores"] = json.loads(link.get("scores") or "{}")
    return RecordView(
        key=row["key"], source_id=row["sourceId"], source_kind=row["sourceKind"],
        source_record_id=row["recordId"], attributes=dict(row["attributes"]),
        identifiers=tuple((t, v) for t, v in row["identifiers"]),
        quality_flags=tuple(row["qualityFlags"]), updated_at=row["updatedAt"],
        created_at=row["createdAt"], raw=row["raw"], person_id=row["personId"], link=link,
    )


def records_of_people(driver: neo4j.Driver, settings: Settings, ids: Sequence[str],
                      kind: str | None = None) -> dict[str, list[RecordView]]:
    """``{person id: [RecordView]}`` ordered by record key; ``kind`` filters by source kind."""
    out: dict[str, list[RecordView]] = {pid: [] for pid in ids}
    for row in _read(driver, settings, _RECORDS_OF_PEOPLE, ids=list(dict.fromkeys(ids)),
                     kind=kind):
        out[row["personId"]].append(_record_view(row))
    return out


def records_by_keys(driver: neo4j.Driver, settings: Settings, keys: Sequence[str]
                    ) -> dict[str, RecordView]:
    """``{record key: RecordView}`` for the keys that exist."""
    return {row["key"]: _record_view(row)
            for row in _read(driver, settings, _RECORDS_BY_KEYS, keys=list(dict.fromkeys(keys)))}


def person_id_by_record(driver: neo4j.Driver, settings: Settings, key: str) -> str | None:
    """The person holding source record ``key``, or None."""
    rows = _read(driver, settings, _BY_RECORD, key=key)
    return rows[0]["id"] if rows else None


def person_id_by_identifier(driver: neo4j.Driver, settings: Settings, type_: str, value: str
                            ) -> list[str]:
    """People holding a record with identifier (type, value); more than one means the
    identifier is shared (a placeholder, a household) and callers should say so."""
    return [row["id"] for row in _read(driver, settings, _BY_IDENTIFIER, type=type_,
                                       value=value)]


_CONSENTS: LiteralString = """
UNWIND $ids AS id
MATCH (p:Person {id: id})-[:GAVE]->(c:Consent)
WITH p, c ORDER BY c.at DESC, c.key
WITH p, c.channel AS channel, c.purpose AS purpose, collect(c)[0] AS latest
RETURN p.id AS personId, channel, purpose, latest.status AS status,
       toString(latest.at) AS at, latest.sourceKey AS sourceKey
ORDER BY channel, purpose
"""


@dataclass(frozen=True, slots=True)
class ConsentView:
    """The effective consent of a person for one channel and purpose: its latest event."""

    channel: str
    purpose: str
    status: str
    at: str
    source_key: str | None


def consents_of_people(driver: neo4j.Driver, settings: Settings, ids: Sequence[str]
                       ) -> dict[str, list[ConsentView]]:
    """``{person id: [ConsentView]}``: the latest event per channel and purpose."""
    out: dict[str, list[ConsentView]] = {pid: [] for pid in ids}
    for row in _read(driver, settings, _CONSENTS, ids=list(dict.fromkeys(ids))):
        out[row["personId"]].append(ConsentView(row["channel"], row["purpose"], row["status"],
                                                row["at"], row["sourceKey"]))
    return out


_ORDERS: LiteralString = """
UNWIND $ids AS id
MATCH (p:Person {id: id})-[:HAS_RECORD]->(r:SourceRecord)-[:PLACED]->(o:Order)
WHERE o.placeholder IS NULL
RETURN p.id AS personId, o.key AS key, o.id AS id, o.source AS source, r.key AS recordKey,
       toString(o.placedAt) AS placedAt, o.status AS status, o.total AS total,
       o.currency AS currency,
       [(o)-[c:CONTAINS]->(pr:Product) | {sku: pr.sku, name: pr.name, category: pr.category,
         quantity: c.quantity, unitPrice: c.unitPrice, lineKey: c.lineKey}] AS lines
ORDER BY personId, placedAt DESC, key
"""

_CASES: LiteralString = """
UNWIND $ids AS id
MATCH (p:Person {id: id})-[:HAS_RECORD]->(r:SourceRecord)-[:OPENED]->(c:Case)
WHERE c.placeholder IS NULL
RETURN p.id AS personId, c.key AS key, c.id AS id, c.source AS source, r.key AS recordKey,
       c.subject AS subject, c.status AS status, c.channel AS channel,
       toString(c.openedAt) AS openedAt, toString(c.closedAt) AS closedAt
ORDER BY personId, openedAt DESC, key
"""

_ENGAGEMENTS: LiteralString = """
UNWIND $ids AS id
MATCH (p:Person {id: id})-[:HAS_RECORD]->(r:SourceRecord)-[:ENGAGED]->(e:Engagement)
RETURN p.id AS personId, e.key AS key, e.source AS source, r.key AS recordKey, e.type AS type,
       e.channel AS channel, e.campaign AS campaign, toString(e.at) AS at
ORDER BY personId, at DESC, key
"""

_CARTS: LiteralString = """
UNWIND $ids AS id
MATCH (p:Person {id: id})-[:HAS_RECORD]->(r:SourceRecord)-[:HAS_CART]->(c:Cart)
WHERE c.placeholder IS NULL
RETURN p.id AS personId, c.key AS key, c.id AS id, c.source AS source, r.key AS recordKey,
       c.status AS status, toString(c.updatedAt) AS updatedAt, c.total AS total,
       c.currency AS currency,
       [(c)-[l:CONTAINS]->(pr:Product) | {sku: pr.sku, name: pr.name, category: pr.category,
         quantity: l.quantity, unitPrice: pr.price}] AS lines
ORDER BY personId, updatedAt DESC, key
"""

_CONSENT_HISTORY: LiteralString = """
UNWIND $ids AS id
MATCH (p:Person {id: id})-[:GAVE]->(c:Consent)
RETURN p.id AS personId, c.key AS key, c.channel AS channel, c.purpose AS purpose,
       c.status AS status, toString(c.at) AS at, c.sourceKey AS sourceKey
ORDER BY personId, at DESC, key
"""

#: History kinds, each ``{person id: [row dict]}`` newest first (see ``history_of_people``).
HISTORY_QUERIES: dict[str, LiteralString] = {
    "orders": _ORDERS, "cases": _CASES, "engagements": _ENGAGEMENTS, "carts": _CARTS,
    "consentHistory": _CONSENT_HISTORY,
}


def history_of_people(driver: neo4j.Driver, settings: Settings, kind: str,
                      ids: Sequence[str]) -> dict[str, list[dict[str, Any]]]:
    """``{person id: [row]}`` of one history kind (orders, cases, engagements, carts,
    consentHistory) over all of each person's records, newest first. Times are ISO text."""
    out: dict[str, list[dict[str, Any]]] = {pid: [] for pid in ids}
    for row in _read(driver, settings, HISTORY_QUERIES[kind], ids=list(dict.fromkeys(ids))):
        data = dict(row)
        out[data.pop("personId")].append(data)
    return out


_SEARCH_NAMES: LiteralString = """
CALL db.index.fulltext.queryNodes("person_names", $terms, {limit: $limit})
YIELD node, score
RETURN node.id AS id, node.givenName AS givenName, node.familyName AS familyName, score
"""

_LUCENE_SPECIAL = set('+-&|!(){}[]^"~*?:\\/')


def _lucene_terms(text: str) -> str:
    """Fuzzy Lucene terms for the folded words of ``text`` (special characters dropped, so user
    input can never change the query's syntax)."""
    from graph.resolution.normalize import fold

    words = ["".join(c for c in w if c not in _LUCENE_SPECIAL) for w in fold(text).split()]
    return " ".join(f"{w}~" for w in words if len(w) > 1) or ""


def search_people_by_name(driver: neo4j.Driver, settings: Settings, name: str, limit: int
                          ) -> list[tuple[str, float]]:
    """``[(person id, score 0-100)]`` for a fuzzy name query, best first.

    Candidates come from the full-text index ``person_names`` (Lucene fuzzy terms); they are
    ranked by :func:`graph.resolution.comparisons.score` with the ``person_name`` scorer, so
    accents, order and nicknames count as in resolution.
    """
    from graph.resolution.comparisons import score
    from graph.resolution.normalize import fold

    query = _lucene_terms(name)
    if not query:
        return []
    rows = _read(driver, settings, _SEARCH_NAMES, terms=query, limit=limit * 5)
    words = fold(name).split()
    asked = (words[0], " ".join(words[1:])) if len(words) > 1 else (words[0], "")
    ranked = []
    for row in rows:
        candidate = (fold(row["givenName"]), fold(row["familyName"]))
        value = score("person_name", asked, candidate) if asked[1] else max(
            score("given_name", asked[0], candidate[0]) or 0.0,
            score("jaro_winkler", asked[0], candidate[1]) or 0.0)
        ranked.append((row["id"], float(value or 0.0)))
    ranked.sort(key=lambda item: (-item[1], item[0]))
    return ranked[:limit]


_EVENTS_SINCE: LiteralString = """
MATCH (e:ResolutionEvent)
WHERE (e.at > datetime($since) OR (e.at = datetime($since) AND e.id > $afterId))
  AND ($kinds IS NULL OR e.kind IN $kinds)
RETURN e.id AS id, e.kind AS kind, toString(e.at) AS at, e.personId AS personId,
       coalesce(e.absorbedIds, []) AS absorbedIds, e.splitFrom AS splitFrom,
       coalesce(e.recordKeys, []) AS recordKeys, e.rule AS rule, e.actor AS actor
ORDER BY e.at, e.id
LIMIT $limit
"""


def events_since(driver: neo4j.Driver, settings: Settings, since: str,
                 kinds: Sequence[str] | None = None, limit: int = 500, after_id: str = ""
                 ) -> list[dict[str, Any]]:
    """Resolution events after the cursor (``since`` ISO 8601 time, then ``after_id`` among
    events of that very time), oldest first, at most ``limit``: many events of one batch
    share a time, so the id breaks ties and none is skipped."""
    return [dict(r) for r in _read(driver, settings, _EVENTS_SINCE, since=since,
                                   kinds=list(kinds) if kinds else None, limit=limit,
                                   afterId=after_id)]
