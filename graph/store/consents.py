"""Consent events: ``(:SourceRecord)-[:CAPTURED]->(:Consent {channel, purpose, status, at,
sourceKey})``; once the record belongs to a person, ``(:Person)-[:GAVE]->(:Consent)`` too.

Consent events are immutable history: the effective consent per channel and purpose is the
latest event (by ``at``) over every record of the person.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, LiteralString

import neo4j

from graph.db import translate_errors
from graph.errors import FieldError, NotFound, ValidationError
from graph.models import event_key
from graph.normalize import parse_datetime
from graph.settings import Settings
from graph.store.records import ENSURE_RECORD

__all__ = ["CHANNELS", "STATUSES", "set_consent", "upsert_consents"]

_CONSENTS: LiteralString = (
    "MATCH (s:Source {id: $source}) UNWIND $rows AS row "
    + ENSURE_RECORD
    + """
MERGE (c:Consent {key: row.key})
ON CREATE SET c.channel = row.channel, c.purpose = row.purpose, c.status = row.status,
              c.at = row.at, c.sourceKey = row.recordKey, c.source = $source, c.new = true
MERGE (r)-[:CAPTURED]->(c)
WITH r, c, row, CASE WHEN c.new THEN 'created' ELSE 'unchanged' END AS outcome
REMOVE c.new
WITH r, c, row, outcome
CALL (r, c) {
  MATCH (p:Person)-[:HAS_RECORD]->(r)
  MERGE (p)-[:GAVE]->(c)
}
RETURN row.key AS key, outcome
"""
)


def upsert_consents(
    tx: neo4j.ManagedTransaction, source_id: str, rows: list[dict[str, Any]]
) -> list[tuple[str, str]]:
    """Add consent events once each; returns ``[(key, created|unchanged)]``."""
    rows = sorted(rows, key=lambda r: r["key"])
    return [(r["key"], r["outcome"]) for r in tx.run(_CONSENTS, source=source_id, rows=rows)]


CHANNELS = frozenset({"EMAIL", "SMS", "PHONE", "POST", "PUSH", "WEB"})
STATUSES = frozenset({"GRANTED", "WITHDRAWN"})

_SET: LiteralString = """
MATCH (p:Person {id: $personId})
MERGE (c:Consent {key: $key})
ON CREATE SET c.channel = $channel, c.purpose = $purpose, c.status = $status,
              c.at = datetime($at), c.sourceKey = $sourceKey, c.source = 'api'
MERGE (p)-[:GAVE]->(c)
RETURN p.id AS id
"""


def set_consent(
    driver: neo4j.Driver,
    settings: Settings,
    person_id: str,
    channel: str,
    purpose: str,
    status: str,
    *,
    actor: str,
    at: str | None = None,
) -> str:
    """Record a consent event given to the API for a person (channel EMAIL, SMS, PHONE, POST,
    PUSH or WEB; status GRANTED or WITHDRAWN; ``at`` ISO 8601, default now). The event is
    keyed by person, channel, purpose, status and time, so a retry with the same ``at`` adds
    nothing. Returns the event key. Raises :class:`ValidationError` naming each bad field and
    :class:`NotFound` for an unknown person.
    """
    errors: list[FieldError] = []
    channel, purpose, status = (
        (channel or "").strip().upper(),
        (purpose or "").strip().upper(),
        (status or "").strip().upper(),
    )
    if channel not in CHANNELS:
        errors.append(FieldError("channel", f"must be one of {', '.join(sorted(CHANNELS))}"))
    if not purpose or not purpose.replace("_", "").isalnum():
        errors.append(FieldError("purpose", "must be a word such as MARKETING or PROFILING"))
    if status not in STATUSES:
        errors.append(FieldError("status", "must be GRANTED or WITHDRAWN"))
    try:
        moment = parse_datetime(at) if at else datetime.now(UTC)
    except ValueError as exc:
        errors.append(FieldError("at", str(exc)))
        moment = None
    if errors:
        raise ValidationError(errors)
    assert moment is not None
    key = event_key("api", person_id, channel, purpose, status, moment.isoformat())
    with translate_errors(settings):
        records, _, _ = driver.execute_query(
            _SET,
            personId=person_id,
            key=key,
            channel=channel,
            purpose=purpose,
            status=status,
            at=moment.isoformat(),
            sourceKey=f"api:{actor}",
            database_=settings.neo4j_database,
        )
    if not records:
        raise NotFound(f"no person with id {person_id!r}")
    return key
