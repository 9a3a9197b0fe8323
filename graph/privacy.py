"""Data-subject requests: everything held about a person, with the source of each fact.

``export_person`` answers a subject access request (GDPR art. 15): the golden record with the
record each value came from, every source record as received (raw row) and normalised, its
identifiers, and the history hanging off each record, plus the resolution audit trail.
"""

from __future__ import annotations

import json
from typing import Any, LiteralString

import neo4j

from graph.db import translate_errors
from graph.errors import NotFound
from graph.settings import Settings
from graph.views import GOLDEN_FIELDS, people_by_ids

__all__ = ["export_person"]

_EXPORT_RECORDS: LiteralString = """
MATCH (p:Person {id: $id})-[h:HAS_RECORD]->(r:SourceRecord)-[:FROM]->(s:Source)
RETURN r.key AS key, s.id AS source, s.kind AS sourceKind, s.name AS sourceName,
       properties(r) AS props, toString(r.birthDate) AS birthDate,
       toString(r.updatedAt) AS updatedAt, toString(r.createdAt) AS createdAt,
       toString(r.ingestedAt) AS ingestedAt,
       h {.rule, .score, .matched, .actor, linkedAt: toString(h.linkedAt)} AS link,
       [(r)-[:HAS_IDENTIFIER]->(i:Identifier) | {type: i.type, value: i.value}] AS identifiers,
       [(r)-[:PLACED]->(o:Order) | {id: o.id, placedAt: toString(o.placedAt), status: o.status,
         total: o.total, currency: o.currency,
         lines: [(o)-[c:CONTAINS]->(pr:Product) | {sku: pr.sku, name: pr.name,
                 quantity: c.quantity, unitPrice: c.unitPrice}]}] AS orders,
       [(r)-[:HAS_CART]->(c:Cart) | {id: c.id, status: c.status,
         updatedAt: toString(c.updatedAt)}] AS carts,
       [(r)-[:OPENED]->(c:Case) | {id: c.id, subject: c.subject, status: c.status,
         openedAt: toString(c.openedAt), closedAt: toString(c.closedAt)}] AS cases,
       [(r)-[:ENGAGED]->(e:Engagement) | {type: e.type, channel: e.channel,
         campaign: e.campaign, at: toString(e.at)}] AS engagements,
       [(r)-[:CAPTURED]->(c:Consent) | {channel: c.channel, purpose: c.purpose,
         status: c.status, at: toString(c.at)}] AS consents
ORDER BY key
"""

_EXPORT_PERSON_LEVEL: LiteralString = """
MATCH (p:Person {id: $id})
RETURN [(p)-[:GAVE]->(c:Consent) WHERE c.source = 'api' |
         {channel: c.channel, purpose: c.purpose, status: c.status, at: toString(c.at),
          capturedBy: c.sourceKey}] AS apiConsents,
       [(e:ResolutionEvent)-[:CONCERNS]->(p) | {kind: e.kind, rule: e.rule, at: toString(e.at),
         actor: e.actor, explanation: e.explanation}] AS events
"""

_HIDDEN = {"raw", "contentHash", "attributes", "key", "source", "sourceId", "placeholder",
           "birthDate", "updatedAt", "createdAt", "ingestedAt", "qualityFlags", "deviceIds",
           "cookieIds"}


def _read(driver: neo4j.Driver, settings: Settings, query: LiteralString, **params: Any
          ) -> list[neo4j.Record]:
    with translate_errors(settings):
        records, _, _ = driver.execute_query(query, params, database_=settings.neo4j_database,
                                             routing_=neo4j.RoutingControl.READ)
    return records


def export_person(driver: neo4j.Driver, settings: Settings, person_id: str) -> dict[str, Any]:
    """All data held about a person (by 360 ID or alias) as a JSON-ready dict::

        {"personId", "aliases", "golden": {attribute: {"value", "source"}},
         "records": [{"key", "source": {...}, "received": raw row, "normalised": {...},
                      "identifiers", "link", "orders", "carts", "cases", "engagements",
                      "consents"}],
         "consentsGivenThroughApi", "resolutionEvents"}

    Raises :class:`NotFound` for an unknown person.
    """
    person = people_by_ids(driver, settings, [person_id]).get(person_id)
    if person is None:
        raise NotFound(f"no person with id {person_id!r}")
    records = []
    for row in _read(driver, settings, _EXPORT_RECORDS, id=person.id):
        props = dict(row["props"])
        normalised = {k: v for k, v in props.items() if k not in _HIDDEN}
        normalised["birthDate"] = row["birthDate"]
        records.append({
            "key": row["key"],
            "source": {"id": row["source"], "kind": row["sourceKind"], "name": row["sourceName"]},
            "received": json.loads(props.get("raw") or "{}"),
            "normalised": normalised,
            "extraAttributes": json.loads(props.get("attributes") or "{}"),
            "deviceIds": props.get("deviceIds") or [], "cookieIds": props.get("cookieIds") or [],
            "updatedAt": row["updatedAt"], "firstSeenAt": row["createdAt"],
            "identifiers": row["identifiers"], "link": row["link"], "orders": row["orders"],
            "carts": row["carts"], "cases": row["cases"], "engagements": row["engagements"],
            "consents": row["consents"],
        })
    level = _read(driver, settings, _EXPORT_PERSON_LEVEL, id=person.id)[0]
    return {
        "personId": person.id,
        "aliases": list(person.aliases),
        "golden": {field: {"value": person.golden.get(field),
                           "source": person.golden_sources.get(field)}
                   for field in GOLDEN_FIELDS if person.golden.get(field) is not None},
        "records": records,
        "consentsGivenThroughApi": level["apiConsents"],
        "resolutionEvents": sorted(level["events"], key=lambda e: e["at"] or ""),
    }
