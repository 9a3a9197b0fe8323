"""Read models for front ends: people and their source records, fetched in batches.

Every function takes many keys and answers in one query (``UNWIND $ids``), so the API's
DataLoaders cost one round trip per request, whatever the number of people on a page.
:func:`people_with` fetches people together with the parts of them a request needs (records,
consents, history kinds) in one statement; each part is one ``CALL`` subquery that runs only
when asked for, and the other functions here are that statement with one part. Dates come
back as ISO strings (``toString`` in Cypher): the API returns text, and letting the driver
build native temporal objects is measurably slower (DESIGN.md).
"""

from __future__ import annotations

import json
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Any, LiteralString

import neo4j

from graph.db import read, read_once
from graph.resolution.rules import RECONCILED_ATTRIBUTES
from graph.settings import Settings

__all__ = [
    "HISTORY_KINDS",
    "PERSON_PARTS",
    "ConsentView",
    "PersonData",
    "Person360",
    "PersonView",
    "RecordView",
    "consents_of_people",
    "events_since",
    "history_of_people",
    "people_by_ids",
    "people_with",
    "person_360",
    "records_by_keys",
    "records_of_people",
    "search_people_by_name",
]

#: The golden attributes of a person (reconciled from its records).
GOLDEN_FIELDS = RECONCILED_ATTRIBUTES

#: History kinds, each a list of row dicts newest first (see :func:`history_of_people`).
HISTORY_KINDS = ("orders", "cases", "engagements", "carts", "consentHistory")
#: What :func:`people_with` can fetch with each person.
PERSON_PARTS = frozenset({"records", "consents", *HISTORY_KINDS})


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
    """A source record with its source and identifiers, and why it belongs to its person.
    ``attributes``: the canonical fields (normalised) plus ``attributes``, the row's other
    fields as a JSON object text (None when there were none), and ``invalidFields``, JSON
    text of ``{field: {"value", "reason"}}``: malformed values kept as received (None when
    there were none). ``nationalId`` is there too: callers decide who may see it."""

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


@dataclass(frozen=True, slots=True)
class ConsentView:
    """The effective consent of a person for one channel and purpose: its latest event."""

    channel: str
    purpose: str
    status: str
    at: str
    source_key: str | None


@dataclass(frozen=True, slots=True)
class PersonData:
    """A person with the parts asked of :func:`people_with`: ``records`` ordered by key,
    effective ``consents``, and ``history`` ``{kind: [row]}`` newest first. A part not asked
    for is None (records, consents) or absent (history)."""

    person: PersonView
    records: list[RecordView] | None
    consents: list[ConsentView] | None
    history: dict[str, list[dict[str, Any]]]


_RECORD: LiteralString = """{
  key: r.key, sourceId: s.id, sourceKind: s.kind, recordId: r.sourceId,
  attributes: r {.givenName, .familyName, .email, .phone, .addressLine1, .addressLine2, .city,
                 .postcode, .country, .loyaltyId, .nationalId, .attributes, .invalidFields,
                 birthDate: toString(r.birthDate)},
  identifiers: [(r)-[:HAS_IDENTIFIER]->(i:Identifier) | [i.type, i.value]],
  qualityFlags: coalesce(r.qualityFlags, []), updatedAt: toString(r.updatedAt),
  createdAt: toString(r.createdAt), raw: r.raw, personId: p.id,
  link: CASE WHEN h IS NULL THEN null ELSE h {.rule, .score, .scores, .matched, .actor,
        .rulesVersion, .modelVersion,
        linkedAt: toString(h.linkedAt), explainedAt: toString(h.explainedAt)} END}"""

# One person per asked id (an absorbed alias finds the survivor), then one CALL per part: a
# part not in $parts filters its only row away before matching anything.
# A person's effective consent per channel and purpose (the latest event), when asked for.
_EFFECTIVE_CONSENTS: LiteralString = """
CALL (p) {
  WITH p WHERE 'consents' IN $parts
  MATCH (p)-[:GAVE]->(c:Consent)
  WITH c ORDER BY c.at DESC, c.key
  WITH c.channel AS channel, c.purpose AS purpose, collect(c)[0] AS latest
  ORDER BY channel, purpose
  RETURN collect({channel: channel, purpose: purpose, status: latest.status,
                  at: toString(latest.at), sourceKey: latest.sourceKey}) AS consents
}
"""

_PEOPLE_WITH: LiteralString = (
    """
UNWIND $ids AS asked
OPTIONAL MATCH (direct:Person {id: asked})
OPTIONAL MATCH (:PersonAlias {id: asked})-[:ALIAS_OF]->(aliased:Person)
WITH asked, coalesce(direct, aliased) AS p
WHERE p IS NOT NULL
CALL (p) {
  WITH p WHERE 'records' IN $parts
  MATCH (p)-[h:HAS_RECORD]->(r:SourceRecord)-[:FROM]->(s:Source)
  WHERE $kind IS NULL OR s.kind = $kind
  WITH p, h, r, s ORDER BY r.key
  RETURN collect("""
    + _RECORD
    + """) AS records
}
"""
    + _EFFECTIVE_CONSENTS
    + """CALL (p) {
  WITH p WHERE 'orders' IN $parts
  MATCH (p)-[:HAS_RECORD]->(r:SourceRecord)-[:PLACED]->(x:Order)
  WHERE x.placeholder IS NULL
  WITH r, x, toString(x.placedAt) AS placedAt ORDER BY x.placedAt DESC, x.key
  RETURN collect({key: x.key, id: x.id, source: x.source, recordKey: r.key,
                  placedAt: placedAt, status: x.status, total: x.total, currency: x.currency,
                  lines: [(x)-[l:CONTAINS]->(pr:Product) | {sku: pr.sku, name: pr.name,
                          category: pr.category, quantity: l.quantity,
                          unitPrice: l.unitPrice, lineKey: l.lineKey}]}) AS orders
}
CALL (p) {
  WITH p WHERE 'cases' IN $parts
  MATCH (p)-[:HAS_RECORD]->(r:SourceRecord)-[:OPENED]->(x:Case)
  WHERE x.placeholder IS NULL
  WITH r, x, toString(x.openedAt) AS openedAt ORDER BY x.openedAt DESC, x.key
  RETURN collect({key: x.key, id: x.id, source: x.source, recordKey: r.key,
                  subject: x.subject, status: x.status, channel: x.channel,
                  openedAt: openedAt, closedAt: toString(x.closedAt)}) AS cases
}
CALL (p) {
  WITH p WHERE 'engagements' IN $parts
  MATCH (p)-[:HAS_RECORD]->(r:SourceRecord)-[:ENGAGED]->(x:Engagement)
  WITH r, x, toString(x.at) AS at ORDER BY x.at DESC, x.key
  RETURN collect({key: x.key, source: x.source, recordKey: r.key, type: x.type,
                  channel: x.channel, campaign: x.campaign, at: at}) AS engagements
}
CALL (p) {
  WITH p WHERE 'carts' IN $parts
  MATCH (p)-[:HAS_RECORD]->(r:SourceRecord)-[:HAS_CART]->(x:Cart)
  WHERE x.placeholder IS NULL
  WITH r, x, toString(x.updatedAt) AS updatedAt ORDER BY x.updatedAt DESC, x.key
  RETURN collect({key: x.key, id: x.id, source: x.source, recordKey: r.key,
                  status: x.status, updatedAt: updatedAt, total: x.total,
                  currency: x.currency,
                  lines: [(x)-[l:CONTAINS]->(pr:Product) | {sku: pr.sku, name: pr.name,
                          category: pr.category, quantity: l.quantity,
                          unitPrice: pr.price}]}) AS carts
}
CALL (p) {
  WITH p WHERE 'consentHistory' IN $parts
  MATCH (p)-[:GAVE]->(x:Consent)
  WITH x, toString(x.at) AS at ORDER BY x.at DESC, x.key
  RETURN collect({key: x.key, channel: x.channel, purpose: x.purpose, status: x.status,
                  at: at, sourceKey: x.sourceKey}) AS consentHistory
}
RETURN asked, p.id AS id, toString(p.createdAt) AS createdAt,
       toString(p.updatedAt) AS updatedAt,
       p {.givenName, .familyName, .email, .phone, .addressLine1, .addressLine2, .city,
          .postcode, .country, .loyaltyId, birthDate: toString(p.birthDate)} AS golden,
       p.goldenSources AS goldenSources, p.sources AS sources, p.recordCount AS recordCount,
       [(a:PersonAlias)-[:ALIAS_OF]->(p) | a.id] AS aliases,
       records, consents, orders, cases, engagements, carts, consentHistory
"""
)

_RECORDS_BY_KEYS: LiteralString = (
    """
UNWIND $keys AS key
MATCH (r:SourceRecord {key: key})-[:FROM]->(s:Source)
OPTIONAL MATCH (p:Person)-[h:HAS_RECORD]->(r)
RETURN """
    + _RECORD
    + """ AS record
"""
)


def people_with(
    driver: neo4j.Driver,
    settings: Settings,
    ids: Sequence[str],
    parts: Collection[str] = (),
    kind: str | None = None,
) -> dict[str, PersonData]:
    """``{asked id: PersonData}`` for ids and absorbed aliases that exist (others absent), with
    the ``parts`` (of :data:`PERSON_PARTS`) fetched in the same query; ``kind`` keeps only
    records of that source kind."""
    unknown = set(parts) - PERSON_PARTS
    if unknown:
        raise ValueError(f"unknown person parts: {sorted(unknown)}")
    out = {}
    for row in read(
        driver, settings, _PEOPLE_WITH, ids=list(dict.fromkeys(ids)), parts=list(parts), kind=kind
    ):
        person = PersonView(
            id=row["id"],
            created_at=row["createdAt"],
            updated_at=row["updatedAt"],
            golden=dict(row["golden"]),
            golden_sources=json.loads(row["goldenSources"] or "{}"),
            sources=tuple(row["sources"] or ()),
            record_count=int(row["recordCount"] or 0),
            aliases=tuple(sorted(row["aliases"])),
        )
        out[row["asked"]] = PersonData(
            person=person,
            records=[_record_view(r) for r in row["records"]] if "records" in parts else None,
            consents=[
                ConsentView(c["channel"], c["purpose"], c["status"], c["at"], c["sourceKey"])
                for c in row["consents"]
            ]
            if "consents" in parts
            else None,
            history={k: row[k] for k in HISTORY_KINDS if k in parts},
        )
    return out


# The person-360 read in one statement, every list paged in Cypher (only the page is sent):
# the golden record, its records (by key), its effective consents, its orders (newest first)
# and the merged timeline, each part only when in $parts. Timeline ties keep the order of
# the API's merge: orders, cases, engagements, consents (rank), then by key.
_PERSON_360: LiteralString = (
    """
OPTIONAL MATCH (direct:Person {id: $id})
OPTIONAL MATCH (:PersonAlias {id: $id})-[:ALIAS_OF]->(aliased:Person)
WITH coalesce(direct, aliased) AS p
WHERE p IS NOT NULL
CALL (p) {
  WITH p WHERE 'records' IN $parts
  MATCH (p)-[h:HAS_RECORD]->(r:SourceRecord)-[:FROM]->(s:Source)
  WHERE $kind IS NULL OR s.kind = $kind
  WITH p, h, r, s ORDER BY r.key
  WITH collect("""
    + _RECORD
    + """) AS records
  RETURN size(records) AS recordTotal, records[$recordsFrom..$recordsTo] AS records
}
"""
    + _EFFECTIVE_CONSENTS
    + """CALL (p) {
  WITH p WHERE 'orders' IN $parts
  MATCH (p)-[:HAS_RECORD]->(r:SourceRecord)-[:PLACED]->(x:Order)
  WHERE x.placeholder IS NULL
  WITH r, x ORDER BY x.placedAt DESC, x.key
  WITH collect([r, x]) AS pairs
  WITH size(pairs) AS orderTotal, pairs[$ordersFrom..$ordersTo] AS page
  CALL (page) {
    UNWIND page AS pair
    WITH pair[0] AS r, pair[1] AS x
    RETURN collect({key: x.key, id: x.id, source: x.source, recordKey: r.key,
                    placedAt: toString(x.placedAt), status: x.status, total: x.total,
                    currency: x.currency,
                    lines: [(x)-[l:CONTAINS]->(pr:Product) | {sku: pr.sku, name: pr.name,
                            category: pr.category, quantity: l.quantity,
                            unitPrice: l.unitPrice, lineKey: l.lineKey}]}) AS orders
  }
  RETURN orderTotal, orders
}
CALL (p) {
  WITH p WHERE 'timeline' IN $parts
  CALL (p) {
    MATCH (p)-[:HAS_RECORD]->(r:SourceRecord)-[:PLACED]->(x:Order)
    WHERE 'ORDER' IN $timelineTypes AND x.placeholder IS NULL AND x.placedAt IS NOT NULL
    RETURN x.placedAt AS at, 'ORDER' AS type, 0 AS rank, x.key AS key, r.key AS record,
           {id: x.id, status: x.status, total: x.total, currency: x.currency} AS row
    UNION ALL
    MATCH (p)-[:HAS_RECORD]->(r:SourceRecord)-[:OPENED]->(x:Case)
    WHERE 'CASE' IN $timelineTypes AND x.placeholder IS NULL AND x.openedAt IS NOT NULL
    RETURN x.openedAt AS at, 'CASE' AS type, 1 AS rank, x.key AS key, r.key AS record,
           {id: x.id, subject: x.subject, status: x.status} AS row
    UNION ALL
    MATCH (p)-[:HAS_RECORD]->(r:SourceRecord)-[:ENGAGED]->(x:Engagement)
    WHERE 'ENGAGEMENT' IN $timelineTypes AND x.at IS NOT NULL
    RETURN x.at AS at, 'ENGAGEMENT' AS type, 2 AS rank, x.key AS key, r.key AS record,
           {type: x.type, channel: x.channel, campaign: x.campaign} AS row
    UNION ALL
    MATCH (p)-[:GAVE]->(x:Consent)
    WHERE 'CONSENT' IN $timelineTypes AND x.at IS NOT NULL
    RETURN x.at AS at, 'CONSENT' AS type, 3 AS rank, x.key AS key, x.sourceKey AS record,
           {channel: x.channel, purpose: x.purpose, status: x.status} AS row
  }
  WITH at, type, rank, key, record, row ORDER BY at DESC, rank, key
  WITH collect({at: toString(at), type: type, sourceRecord: record, row: row}) AS entries
  RETURN size(entries) AS timelineTotal, entries[$timelineFrom..$timelineTo] AS timeline
}
RETURN p.id AS id, toString(p.createdAt) AS createdAt, toString(p.updatedAt) AS updatedAt,
       p {.givenName, .familyName, .email, .phone, .addressLine1, .addressLine2, .city,
          .postcode, .country, .loyaltyId, birthDate: toString(p.birthDate)} AS golden,
       p.goldenSources AS goldenSources, p.sources AS sources, p.recordCount AS recordCount,
       [(a:PersonAlias)-[:ALIAS_OF]->(p) | a.id] AS aliases,
       recordTotal, records, consents, orderTotal, orders, timelineTotal, timeline
"""
)

#: What :func:`person_360` can fetch with the person.
PERSON_360_PARTS = frozenset({"records", "consents", "orders", "timeline"})
#: Kinds of timeline entries, in the order of the API's merge (ties keep it).
TIMELINE_TYPES = ("ORDER", "CASE", "ENGAGEMENT", "CONSENT")


@dataclass(frozen=True, slots=True)
class Person360:
    """One page of each part of a person's 360 view (:func:`person_360`): ``*_total`` counts
    the whole list, the lists hold the page only. ``orders`` rows are those of
    :func:`history_of_people`; ``timeline`` rows are ``{at, type, sourceRecord, row}`` with
    ``row`` the fields its summary is made of (an order's id, status, total, currency; a
    case's id, subject, status; an engagement's type, channel, campaign; a consent's
    channel, purpose, status). A part not asked for is empty with a total of 0."""

    person: PersonView
    records: list[RecordView]
    record_total: int
    consents: list[ConsentView]
    orders: list[dict[str, Any]]
    order_total: int
    timeline: list[dict[str, Any]]
    timeline_total: int


def person_360(
    driver: neo4j.Driver,
    settings: Settings,
    id: str,
    parts: Collection[str],
    *,
    records: tuple[int, int] = (0, 0),
    record_kind: str | None = None,
    orders: tuple[int, int] = (0, 0),
    timeline: tuple[int, int] = (0, 0),
    timeline_types: Collection[str] = TIMELINE_TYPES,
) -> Person360 | None:
    """The person with 360 ID (or absorbed alias) ``id`` and one page of each of ``parts``
    (of :data:`PERSON_360_PARTS`) in one statement, or None when no one has that id.

    ``records``, ``orders`` and ``timeline`` are the pages as ``(start, end)`` positions
    (end exclusive); ``record_kind`` keeps only records of that source kind and
    ``timeline_types`` only those entry types (of :data:`TIMELINE_TYPES`). The orders are
    :func:`history_of_people`'s order (newest first, then by key), the timeline the API's
    merge of orders, cases, engagements and consent events (newest first, ties in that order
    of kinds, then by key). One auto-commit round trip, not retried
    (:func:`graph.db.read_once`). Raises ``ValueError`` for an unknown part or a bad page,
    :class:`graph.errors.Neo4jError` or the driver's error when Neo4j fails.
    """
    unknown = set(parts) - PERSON_360_PARTS
    if unknown:
        raise ValueError(f"unknown person-360 parts: {sorted(unknown)}")
    for name, (start, end) in (("records", records), ("orders", orders), ("timeline", timeline)):
        if not 0 <= start <= end:
            raise ValueError(f"{name} page {start}..{end} is not a page")
    rows = read_once(  # one round trip; the API falls back to people_with when this fails
        driver,
        settings,
        _PERSON_360,
        id=id,
        parts=list(parts),
        kind=record_kind,
        recordsFrom=records[0],
        recordsTo=records[1],
        ordersFrom=orders[0],
        ordersTo=orders[1],
        timelineFrom=timeline[0],
        timelineTo=timeline[1],
        timelineTypes=list(timeline_types),
    )
    if not rows:
        return None
    row = rows[0]
    return Person360(
        person=PersonView(
            id=row["id"],
            created_at=row["createdAt"],
            updated_at=row["updatedAt"],
            golden=dict(row["golden"]),
            golden_sources=json.loads(row["goldenSources"] or "{}"),
            sources=tuple(row["sources"] or ()),
            record_count=int(row["recordCount"] or 0),
            aliases=tuple(sorted(row["aliases"])),
        ),
        records=[_record_view(r) for r in row["records"]],
        record_total=row["recordTotal"],
        consents=[
            ConsentView(c["channel"], c["purpose"], c["status"], c["at"], c["sourceKey"])
            for c in row["consents"]
        ],
        orders=row["orders"],
        order_total=row["orderTotal"],
        timeline=row["timeline"],
        timeline_total=row["timelineTotal"],
    )


def people_by_ids(
    driver: neo4j.Driver, settings: Settings, ids: Sequence[str]
) -> dict[str, PersonView]:
    """``{asked id: PersonView}`` for ids and absorbed aliases that exist (others absent)."""
    return {asked: data.person for asked, data in people_with(driver, settings, ids).items()}


def _own(
    driver: neo4j.Driver, settings: Settings, ids: Sequence[str], part: str, kind: str | None = None
) -> dict[str, PersonData]:
    """people_with for one part, keeping only ids that are a person's own (not aliases)."""
    return {
        asked: data
        for asked, data in people_with(driver, settings, ids, (part,), kind).items()
        if data.person.id == asked
    }


def _record_view(row: dict[str, Any]) -> RecordView:
    link = dict(row["link"]) if row["link"] is not None else None
    if link is not None:
        link["scores"] = json.loads(link.get("scores") or "{}")
    return RecordView(
        key=row["key"],
        source_id=row["sourceId"],
        source_kind=row["sourceKind"],
        source_record_id=row["recordId"],
        attributes=dict(row["attributes"]),
        identifiers=tuple((t, v) for t, v in row["identifiers"]),
        quality_flags=tuple(row["qualityFlags"]),
        updated_at=row["updatedAt"],
        created_at=row["createdAt"],
        raw=row["raw"],
        person_id=row["personId"],
        link=link,
    )


def records_of_people(
    driver: neo4j.Driver, settings: Settings, ids: Sequence[str], kind: str | None = None
) -> dict[str, list[RecordView]]:
    """``{person id: [RecordView]}`` ordered by record key; ``kind`` filters by source kind."""
    found = _own(driver, settings, ids, "records", kind)
    return {pid: found[pid].records or [] if pid in found else [] for pid in ids}


def records_by_keys(
    driver: neo4j.Driver, settings: Settings, keys: Sequence[str]
) -> dict[str, RecordView]:
    """``{record key: RecordView}`` for the keys that exist."""
    return {
        row["record"]["key"]: _record_view(row["record"])
        for row in read(driver, settings, _RECORDS_BY_KEYS, keys=list(dict.fromkeys(keys)))
    }


def consents_of_people(
    driver: neo4j.Driver, settings: Settings, ids: Sequence[str]
) -> dict[str, list[ConsentView]]:
    """``{person id: [ConsentView]}``: the latest event per channel and purpose."""
    found = _own(driver, settings, ids, "consents")
    return {pid: found[pid].consents or [] if pid in found else [] for pid in ids}


def history_of_people(
    driver: neo4j.Driver, settings: Settings, kind: str, ids: Sequence[str]
) -> dict[str, list[dict[str, Any]]]:
    """``{person id: [row]}`` of one history kind (orders, cases, engagements, carts,
    consentHistory) over all of each person's records, newest first. Times are ISO text."""
    if kind not in HISTORY_KINDS:
        raise ValueError(f"unknown history kind {kind!r}")
    found = _own(driver, settings, ids, kind)
    return {pid: found[pid].history[kind] if pid in found else [] for pid in ids}


_SEARCH_NAMES: LiteralString = """
CALL db.index.fulltext.queryNodes("person_names", $terms, {limit: $limit})
YIELD node, score
RETURN node.id AS id, node.givenName AS givenName, node.familyName AS familyName, score
"""

_LUCENE_SPECIAL = set('+-&|!(){}[]^"~*?:\\/')


def _lucene_terms(text: str) -> str:
    """Fuzzy Lucene terms for the folded words of ``text`` (special characters dropped, so user
    input can never change the query's syntax)."""
    from graph.normalize import fold

    words = ["".join(c for c in w if c not in _LUCENE_SPECIAL) for w in fold(text).split()]
    return " ".join(f"{w}~" for w in words if len(w) > 1) or ""


def search_people_by_name(
    driver: neo4j.Driver, settings: Settings, name: str, limit: int
) -> list[tuple[str, float]]:
    """``[(person id, score 0-100)]`` for a fuzzy name query, best first.

    Candidates come from the full-text index ``person_names`` (Lucene fuzzy terms); they are
    ranked by :func:`graph.resolution.comparisons.score` with the ``person_name`` scorer, so
    accents, order and nicknames count as in resolution.
    """
    from graph.normalize import fold
    from graph.resolution.comparisons import score

    query = _lucene_terms(name)
    if not query:
        return []
    rows = read(driver, settings, _SEARCH_NAMES, terms=query, limit=limit * 5)
    words = fold(name).split()
    asked = (words[0], " ".join(words[1:])) if len(words) > 1 else (words[0], "")
    ranked = []
    for row in rows:
        candidate = (fold(row["givenName"]), fold(row["familyName"]))
        value = (
            score("person_name", asked, candidate)
            if asked[1]
            else max(
                score("given_name", asked[0], candidate[0]) or 0.0,
                score("jaro_winkler", asked[0], candidate[1]) or 0.0,
            )
        )
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


def events_since(
    driver: neo4j.Driver,
    settings: Settings,
    since: str,
    kinds: Sequence[str] | None = None,
    limit: int = 500,
    after_id: str = "",
) -> list[dict[str, Any]]:
    """Resolution events after the cursor (``since`` ISO 8601 time, then ``after_id`` among
    events of that very time), oldest first, at most ``limit``: many events of one batch
    share a time, so the id breaks ties and none is skipped."""
    return [
        dict(r)
        for r in read(
            driver,
            settings,
            _EVENTS_SINCE,
            since=since,
            kinds=list(kinds) if kinds else None,
            limit=limit,
            afterId=after_id,
        )
    ]
