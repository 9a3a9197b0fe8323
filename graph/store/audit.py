"""The resolution audit trail: ``(:ResolutionEvent)`` nodes, newest first, a page at a time.

Every create, link, merge, split and forget is one event with its actor, time, rule and the
record keys it touched (see :mod:`graph.store.components`). Lists here are paged by a keyset
cursor on ``(at, id)`` (an index seek on ``ResolutionEvent.at``), so a page costs the same on
the first and on the millionth event, and events written meanwhile never shift a page.
"""

from __future__ import annotations

import base64
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, LiteralString

import neo4j

from graph.db import translate_errors
from graph.errors import FieldError, ValidationError
from graph.normalize import parse_moment
from graph.settings import Settings

__all__ = [
    "EVENT_KINDS",
    "EventPage",
    "decode_cursor",
    "encode_cursor",
    "events_of_people",
    "resolution_events",
]

EVENT_KINDS = ("CREATED", "LINKED", "MERGED", "SPLIT", "FORGOTTEN")

_FIELDS: LiteralString = """
e {.id, .kind, .rule, .score, .explanation, .actor, .personId, .splitFrom, .rulesVersion,
   at: toString(e.at), absorbedIds: coalesce(e.absorbedIds, []),
   recordKeys: coalesce(e.recordKeys, [])}
"""

# Events of one person follow CONCERNS, which merges re-point to the survivor (a person's
# events include those of the people it absorbed), plus its FORGOTTEN event (by personId:
# the person itself is gone). Without a person, the range index on ``at`` is read newest
# first.
_OF_PERSON: LiteralString = """
CALL () {
  MATCH (e:ResolutionEvent)-[:CONCERNS]->(:Person {id: $personId})
  RETURN e
  UNION
  MATCH (e:ResolutionEvent {personId: $personId}) WHERE e.kind = 'FORGOTTEN'
  RETURN e
}
WITH e
"""

_ALL: LiteralString = """
MATCH (e:ResolutionEvent)
"""

_FILTERS: LiteralString = """
WHERE e.at >= datetime($since) AND e.at < datetime($until)
  AND ($kinds IS NULL OR e.kind IN $kinds)
  AND ($actor IS NULL OR e.actor = $actor)
  AND ($recordKey IS NULL OR $recordKey IN e.recordKeys)
"""

_PAGE: LiteralString = (
    """
  AND e.at <= datetime(coalesce($afterAt, $until))
  AND ($afterAt IS NULL OR e.at < datetime($afterAt)
       OR (e.at = datetime($afterAt) AND e.id < $afterId))
WITH e ORDER BY e.at DESC, e.id DESC LIMIT $limit
RETURN """
    + _FIELDS
    + """ AS e
"""
)

_COUNT: LiteralString = "RETURN count(e) AS n"

_QUERIES: dict[bool, tuple[LiteralString, LiteralString]] = {
    True: (_OF_PERSON + _FILTERS + _PAGE, _OF_PERSON + _FILTERS + _COUNT),
    False: (_ALL + _FILTERS + _PAGE, _ALL + _FILTERS + _COUNT),
}

_OF_PEOPLE: LiteralString = (
    """
UNWIND $ids AS id
MATCH (e:ResolutionEvent)-[:CONCERNS]->(:Person {id: id})
WITH id, e ORDER BY e.at DESC, e.id DESC
RETURN id, collect("""
    + _FIELDS
    + """) AS events
"""
)

_EARLIEST = "0001-01-01T00:00:00Z"
_LATEST = "9999-12-31T23:59:59Z"


@dataclass(frozen=True, slots=True)
class EventPage:
    """One page of events newest first (dicts: id, kind, at (ISO), actor, personId, rule,
    score, explanation, absorbedIds, splitFrom, recordKeys, rulesVersion); ``total`` counts
    every event matching the filters, ``has_next`` whether more follow the page."""

    events: list[dict[str, Any]]
    total: int
    has_next: bool


def encode_cursor(event: dict[str, Any]) -> str:
    """The opaque cursor of an event of a page (its time and id)."""
    return base64.b64encode(f"event:{event['at']}|{event['id']}".encode()).decode()


def decode_cursor(cursor: str) -> tuple[str, str]:
    """``(at, id)`` of a cursor from :func:`encode_cursor`; raises :class:`ValidationError`
    on field ``after`` for anything else."""
    try:
        kind, _, value = base64.b64decode(cursor.encode(), validate=True).decode().partition(":")
        at, sep, event_id = value.rpartition("|")
        if kind != "event" or not sep or not event_id:
            raise ValueError(cursor)
        datetime.fromisoformat(at.replace("Z", "+00:00"))
    except (ValueError, UnicodeDecodeError):
        raise ValidationError(FieldError("after", "is not a cursor of this list")) from None
    return at, event_id


def _bound(name: str, value: str | None, default: str) -> str:
    if value is None or not value.strip():
        return default
    try:
        return parse_moment(value).isoformat()
    except ValueError as exc:
        raise ValidationError(FieldError(name, str(exc))) from None


def resolution_events(
    driver: neo4j.Driver,
    settings: Settings,
    *,
    person_id: str | None = None,
    kinds: Sequence[str] | None = None,
    actor: str | None = None,
    record_key: str | None = None,
    since: str | None = None,
    until: str | None = None,
    first: int = 20,
    after: str | None = None,
) -> EventPage:
    """A page of resolution events, newest first, filtered by any of: the person they concern
    (its current ID: a merged person's events include those of the people it absorbed), kinds
    (:data:`EVENT_KINDS`), actor, a record key they touched, and a time window
    ``[since, until)`` (ISO 8601; dates mean midnight UTC). ``first`` (>= 0) events after the
    cursor ``after`` (from :func:`encode_cursor`).

    Raises :class:`ValidationError` naming ``first``, ``kinds``, ``since``, ``until`` or
    ``after`` when one is malformed; :class:`graph.errors.Neo4jError` when Neo4j fails.
    """
    if first < 0:
        raise ValidationError(FieldError("first", "must not be negative"))
    wanted = None
    if kinds:
        wanted = sorted({k.strip().upper() for k in kinds})
        unknown = [k for k in wanted if k not in EVENT_KINDS]
        if unknown:
            raise ValidationError(
                FieldError(
                    "kinds", f"unknown kind {', '.join(unknown)}; use {', '.join(EVENT_KINDS)}"
                )
            )
    params: dict[str, Any] = {
        "personId": person_id,
        "kinds": wanted,
        "actor": actor,
        "recordKey": record_key,
        "since": _bound("since", since, _EARLIEST),
        "until": _bound("until", until, _LATEST),
    }
    after_at, after_id = decode_cursor(after) if after else (None, None)
    page, count = _QUERIES[person_id is not None]
    with translate_errors(settings):
        rows, _, _ = driver.execute_query(
            page,
            params,
            afterAt=after_at,
            afterId=after_id,
            limit=first + 1,
            database_=settings.neo4j_database,
            routing_=neo4j.RoutingControl.READ,
        )
        counted, _, _ = driver.execute_query(
            count, params, database_=settings.neo4j_database, routing_=neo4j.RoutingControl.READ
        )
    events = [dict(r["e"]) for r in rows]
    return EventPage(events[:first], int(counted[0]["n"]), len(events) > first)


def events_of_people(
    driver: neo4j.Driver, settings: Settings, ids: Sequence[str]
) -> dict[str, list[dict[str, Any]]]:
    """Every event concerning each person (current IDs), newest first, in one query:
    ``{person id: [event]}`` (people without events are left out)."""
    with translate_errors(settings):
        rows, _, _ = driver.execute_query(
            _OF_PEOPLE,
            ids=list(ids),
            database_=settings.neo4j_database,
            routing_=neo4j.RoutingControl.READ,
        )
    return {r["id"]: [dict(e) for e in r["events"]] for r in rows}
