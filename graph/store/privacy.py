"""Data-subject requests: everything held about a person, with the source of each fact.

``export_person`` answers a subject access request (GDPR art. 15): the golden record with the
record each value came from, every source record as received (raw row) and normalised, its
identifiers, and the history hanging off each record, plus the resolution audit trail.
"""

from __future__ import annotations

import hashlib
import json
import secrets
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, LiteralString

import neo4j

from graph.db import process_cache, read, translate_errors
from graph.errors import NotFound
from graph.normalize import parse_moment
from graph.settings import Settings
from graph.store.people import GOLDEN_FIELDS, people_by_ids

__all__ = ["ForgetReport", "export_person", "forget_person", "forget_salt", "identifier_hash"]

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

_HIDDEN = {
    "raw",
    "contentHash",
    "attributes",
    "key",
    "source",
    "sourceId",
    "placeholder",
    "birthDate",
    "updatedAt",
    "createdAt",
    "ingestedAt",
    "qualityFlags",
    "invalidFields",
    "deviceIds",
    "cookieIds",
}


def export_person(driver: neo4j.Driver, settings: Settings, person_id: str) -> dict[str, Any]:
    """All data held about a person (by 360 ID or alias) as a JSON-ready dict::

        {"personId", "aliases", "golden": {attribute: {"value", "source"}},
         "records": [{"key", "source": {...}, "received": raw row, "normalised": {...}
                      (nationalId included), "invalidFields": {field: {"value", "reason"}},
                      "qualityFlags", "identifiers", "link", "orders", "carts", "cases",
                      "engagements", "consents"}],
         "consentsGivenThroughApi", "resolutionEvents"}

    Raises :class:`NotFound` for an unknown person.
    """
    person = people_by_ids(driver, settings, [person_id]).get(person_id)
    if person is None:
        raise NotFound(f"no person with id {person_id!r}")
    records = []
    for row in read(driver, settings, _EXPORT_RECORDS, id=person.id):
        props = dict(row["props"])
        normalised = {k: v for k, v in props.items() if k not in _HIDDEN}
        normalised["birthDate"] = row["birthDate"]
        records.append(
            {
                "key": row["key"],
                "source": {
                    "id": row["source"],
                    "kind": row["sourceKind"],
                    "name": row["sourceName"],
                },
                "received": json.loads(props.get("raw") or "{}"),
                "normalised": normalised,
                "extraAttributes": json.loads(props.get("attributes") or "{}"),
                "invalidFields": json.loads(props.get("invalidFields") or "{}"),
                "qualityFlags": props.get("qualityFlags") or [],
                "deviceIds": props.get("deviceIds") or [],
                "cookieIds": props.get("cookieIds") or [],
                "updatedAt": row["updatedAt"],
                "firstSeenAt": row["createdAt"],
                "identifiers": row["identifiers"],
                "link": row["link"],
                "orders": row["orders"],
                "carts": row["carts"],
                "cases": row["cases"],
                "engagements": row["engagements"],
                "consents": row["consents"],
            }
        )
    level = read(driver, settings, _EXPORT_PERSON_LEVEL, id=person.id)[0]
    return {
        "personId": person.id,
        "aliases": list(person.aliases),
        "golden": {
            field: {"value": person.golden.get(field), "source": person.golden_sources.get(field)}
            for field in GOLDEN_FIELDS
            if person.golden.get(field) is not None
        },
        "records": records,
        "consentsGivenThroughApi": level["apiConsents"],
        # by time, not by text: Neo4j's ISO text drops trailing zeros ("…09.9Z" is earlier
        # than "…09.918Z" but sorts after it)
        "resolutionEvents": sorted(level["events"], key=lambda e: _moment(e["at"])),
    }


_SALT_READ: LiteralString = "MATCH (c:C360Config {key: 'forgetSalt'}) RETURN c.value AS salt"
_SALT: LiteralString = """
MERGE (c:C360Config {key: 'forgetSalt'})
ON CREATE SET c.value = $candidate
RETURN c.value AS salt
"""

_FORGET_READ: LiteralString = """
MATCH (p:Person {id: $id})
OPTIONAL MATCH (p)-[:HAS_RECORD]->(r:SourceRecord)
OPTIONAL MATCH (r)-[:HAS_IDENTIFIER]->(i:Identifier)
RETURN collect(DISTINCT r.key) AS keys, collect(DISTINCT [i.type, i.value]) AS identifiers,
       collect(DISTINCT r.source) AS sources
"""

_FORGET: LiteralString = """
UNWIND $hashes AS h
MERGE (f:ForgottenIdentifier {hash: h.hash})
ON CREATE SET f.type = h.type, f.forgottenAt = datetime()
WITH count(*) AS remembered
MATCH (p:Person {id: $id})
OPTIONAL MATCH (p)-[:HAS_RECORD]->(r:SourceRecord)
WITH p, collect(r) AS records
CALL (records) {
  UNWIND records AS r
  OPTIONAL MATCH (r)-[:PLACED|HAS_CART|OPENED|ENGAGED|CAPTURED]->(history)
  DETACH DELETE history
}
CALL (records) {
  UNWIND records AS r
  MATCH (r)-[:HAS_IDENTIFIER]->(i:Identifier)
  WITH DISTINCT i
  WHERE COUNT { (i)<-[:HAS_IDENTIFIER]-() } = COUNT {
        (i)<-[:HAS_IDENTIFIER]-(x:SourceRecord) WHERE x IN records }
  DETACH DELETE i
}
CALL (p) {
  OPTIONAL MATCH (p)-[:GAVE]->(c:Consent)
  DETACH DELETE c
}
CALL (p) {
  OPTIONAL MATCH (e:ResolutionEvent)-[:CONCERNS]->(p)
  DETACH DELETE e
}
CALL (p) {
  OPTIONAL MATCH (a:PersonAlias)-[:ALIAS_OF]->(p)
  DETACH DELETE a
}
CALL (records) {
  UNWIND records AS r
  DETACH DELETE r
}
DETACH DELETE p
CREATE (:ResolutionEvent {id: $eventId, kind: 'FORGOTTEN', at: datetime(), actor: $actor,
        reason: $reason, recordCount: size(records), sources: $sources,
        identifiersRemembered: $identifierCount})
"""


_SALTS: dict[tuple[str, str], str] = process_cache()


def forget_salt(driver: neo4j.Driver, settings: Settings, *, create: bool) -> str | None:
    """The installation's salt for hashing forgotten identifiers (created on first forget).

    A salt, once created, never changes, so a found one is remembered per database and every
    later ingest batch skips the look-up (it was one extra query per ingested record).
    Ingestion asks with ``create=True``, so the look-up happens once per process even before
    anything was forgotten.
    """
    where = (settings.uri, settings.neo4j_database)
    if where in _SALTS:
        return _SALTS[where]
    with translate_errors(settings):
        if create:
            rows, _, _ = driver.execute_query(
                _SALT, candidate=secrets.token_hex(32), database_=settings.neo4j_database
            )
        else:
            rows, _, _ = driver.execute_query(
                _SALT_READ, database_=settings.neo4j_database, routing_=neo4j.RoutingControl.READ
            )
    if not rows:
        return None
    _SALTS[where] = rows[0]["salt"]
    return _SALTS[where]


def _moment(text: str | None) -> datetime:
    return parse_moment(text) if text else datetime.min.replace(tzinfo=UTC)


def identifier_hash(salt: str, type_: str, value: str) -> str:
    """SHA-256 of salt, type and normalised value (hex): what is kept of an erased identifier."""
    return hashlib.sha256(f"{salt}\x1f{type_}\x1f{value}".encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class ForgetReport:
    """What ``forget_person`` erased: record count and sources; the audit event's id."""

    records: int
    sources: tuple[str, ...]
    identifiers_remembered: int
    event_id: str


def forget_person(
    driver: neo4j.Driver, settings: Settings, person_id: str, *, actor: str, reason: str = ""
) -> ForgetReport:
    """Erase a person (by 360 ID or alias): its records, their history and identifiers, its
    consents, aliases and resolution events, in one transaction (all or nothing).

    Every identifier type is erased and remembered, ``NATIONAL_ID`` included, and the records'
    own properties (``nationalId``, ``raw``, ``invalidFields`` ...) go with the records.
    Kept: one ``FORGOTTEN`` ResolutionEvent without personal data (actor, time, reason,
    record count, source ids) and a salted SHA-256 hash of each erased identifier, so a
    source sending the same person again is flagged (``forgottenMatch``) and not resolved
    into a new person. Raises :class:`NotFound` for an unknown person.
    """
    person = people_by_ids(driver, settings, [person_id]).get(person_id)
    if person is None:
        raise NotFound(f"no person with id {person_id!r}")
    salt = forget_salt(driver, settings, create=True)
    assert salt is not None
    event_id = str(uuid.uuid4())

    def work(tx: neo4j.ManagedTransaction) -> ForgetReport:
        row = tx.run(_FORGET_READ, id=person.id).single(strict=True)
        identifiers = [(t, v) for t, v in row["identifiers"] if t is not None]
        hashes = [{"hash": identifier_hash(salt, t, v), "type": t} for t, v in identifiers]
        sources = tuple(sorted(s for s in row["sources"] if s))
        tx.run(
            _FORGET,
            id=person.id,
            hashes=hashes,
            eventId=event_id,
            actor=actor,
            reason=reason,
            sources=list(sources),
            identifierCount=len(hashes),
        ).consume()
        return ForgetReport(len(row["keys"]), sources, len(hashes), event_id)

    with translate_errors(settings), driver.session(database=settings.neo4j_database) as s:
        return s.execute_write(work)
