"""Journeys and their scheduling: ``(:Journey {id, name, version, definition, active})`` and
the ``(:Action)`` outbox nodes its trigger schedules, ``(:Action)-[:TRIGGERED_BY]->(e)`` with
``e`` the Cart, Order, Engagement or Consent that fired it.

An action's id is ``journeyId:version:step:triggerKey``, unique by constraint (V0008), and is
written with ``MERGE``: scheduling the same trigger again (a re-ingested cart, a retried
transaction, ``c360 journeys schedule`` over data already scheduled) creates nothing. A
trigger enters a journey once: after an update (a new version) it is not scheduled again if
an earlier version already holds actions for it. Each action keeps its step's channel,
template and conditions as they were when scheduled, so an update changes what new triggers
get, never what was promised to earlier ones. The person is found through the trigger's
source record when the action is due, so merges and splits neither double nor lose actions.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, LiteralString

import neo4j

from graph.db import read, translate_errors
from graph.errors import Conflict, FieldError, NotFound, ValidationError
from graph.settings import Settings
from graph.store.journey_rules import Definition, parse_definition, validate_journey_id

__all__ = [
    "FILE_TRIGGERS",
    "JourneyView",
    "create_journey",
    "deactivate_journey",
    "define_journey",
    "journey_by_id",
    "list_journeys",
    "schedule_batch",
    "schedule_existing",
    "update_journey",
]

#: The trigger type an ingested file type can fire.
FILE_TRIGGERS = {
    "carts": "CART_ABANDONED",
    "orders": "ORDER_PLACED",
    "engagement": "ENGAGEMENT",
    "consents": "CONSENT_CHANGED",
}


@dataclass(frozen=True, slots=True)
class JourneyView:
    """A stored journey; ``definition`` is its canonical JSON text, times ISO 8601."""

    id: str
    name: str
    version: int
    definition: str
    active: bool
    created_at: str
    updated_at: str
    updated_by: str | None


_FIELDS: LiteralString = """j.id AS id, j.name AS name, j.version AS version,
       j.definition AS definition, j.active AS active, toString(j.createdAt) AS createdAt,
       toString(j.updatedAt) AS updatedAt, j.updatedBy AS updatedBy"""

_CREATE: LiteralString = (
    """
MERGE (j:Journey {id: $id})
ON CREATE SET j.name = $name, j.version = 1, j.definition = $definition, j.active = true,
              j.createdAt = datetime(), j.updatedAt = datetime(), j.updatedBy = $actor,
              j.new = true
WITH j, coalesce(j.new, false) AS created
REMOVE j.new
RETURN created, """
    + _FIELDS
)

_UPDATE: LiteralString = (
    """
MATCH (j:Journey {id: $id})
WITH j, $definition IS NOT NULL AND $definition <> j.definition AS changed,
     ($name IS NOT NULL AND $name <> j.name) OR ($active IS NOT NULL AND $active <> j.active)
       AS touched
SET j.version = CASE WHEN changed THEN j.version + 1 ELSE j.version END,
    j.definition = CASE WHEN changed THEN $definition ELSE j.definition END,
    j.name = coalesce($name, j.name), j.active = coalesce($active, j.active),
    j.updatedAt = CASE WHEN changed OR touched THEN datetime() ELSE j.updatedAt END,
    j.updatedBy = CASE WHEN changed OR touched THEN $actor ELSE j.updatedBy END
RETURN """
    + _FIELDS
)

_ONE: LiteralString = "MATCH (j:Journey {id: $id}) RETURN " + _FIELDS
_ALL: LiteralString = "MATCH (j:Journey) RETURN " + _FIELDS + " ORDER BY id"
_ACTIVE: LiteralString = (
    "MATCH (j:Journey) WHERE j.active = true RETURN j.id AS id, j.version AS version, "
    "j.definition AS definition ORDER BY id"
)


def _view(row: neo4j.Record) -> JourneyView:
    return JourneyView(
        row["id"],
        row["name"],
        row["version"],
        row["definition"],
        row["active"],
        row["createdAt"],
        row["updatedAt"],
        row["updatedBy"],
    )


def _name(name: Any) -> str:
    if not isinstance(name, str) or not name.strip() or len(name) > 200:
        raise ValidationError(FieldError("name", "is required: 1-200 characters"))
    return name.strip()


def create_journey(
    driver: neo4j.Driver,
    settings: Settings,
    journey_id: str,
    name: str,
    definition: Any,
    *,
    actor: str,
) -> JourneyView:
    """Store a new active journey at version 1 (``definition``: see
    :mod:`graph.store.journey_rules`). A retry of the same create returns the stored journey;
    another journey with that id raises :class:`Conflict`. Raises :class:`ValidationError`
    naming each fault (``definition.steps[1].channel``)."""
    errors: list[FieldError] = []
    parsed: Definition | None = None
    for check in (
        lambda: validate_journey_id(journey_id),
        lambda: _name(name),
        lambda: parse_definition(definition, prefix="definition."),
    ):
        try:
            result = check()
            if isinstance(result, Definition):
                parsed = result
        except ValidationError as exc:
            errors.extend(exc.errors)
    if errors:
        raise ValidationError(errors)
    assert parsed is not None
    journey_id, name = journey_id.strip(), name.strip()
    with translate_errors(settings):
        rows, _, _ = driver.execute_query(
            _CREATE,
            id=journey_id,
            name=name,
            definition=parsed.as_json,
            actor=actor,
            database_=settings.neo4j_database,
        )
    view = _view(rows[0])
    if not rows[0]["created"] and (view.definition != parsed.as_json or view.name != name):
        raise Conflict(f"journey {journey_id!r} exists (version {view.version}): update it")
    return view


def update_journey(
    driver: neo4j.Driver,
    settings: Settings,
    journey_id: str,
    *,
    actor: str,
    name: str | None = None,
    definition: Any = None,
    active: bool | None = None,
) -> JourneyView:
    """Change a journey's name, definition or active flag; a changed definition is a new
    version (the same one again changes nothing, so a retry is harmless). Raises
    :class:`NotFound` and :class:`ValidationError` (paths under ``definition.``)."""
    text = None
    if definition is not None:
        text = parse_definition(definition, prefix="definition.").as_json
    if name is not None:
        name = _name(name)
    with translate_errors(settings):
        rows, _, _ = driver.execute_query(
            _UPDATE,
            id=journey_id,
            name=name,
            definition=text,
            active=active,
            actor=actor,
            database_=settings.neo4j_database,
        )
    if not rows:
        raise NotFound(f"no journey with id {journey_id!r}")
    return _view(rows[0])


def deactivate_journey(
    driver: neo4j.Driver, settings: Settings, journey_id: str, *, actor: str
) -> JourneyView:
    """Stop a journey: it schedules nothing more and its due actions are cancelled
    (``JOURNEY_INACTIVE``) when a runner meets them. Raises :class:`NotFound`."""
    return update_journey(driver, settings, journey_id, actor=actor, active=False)


def define_journey(
    driver: neo4j.Driver, settings: Settings, document: Any, *, actor: str
) -> tuple[JourneyView, str]:
    """Create or update a journey from a file's document ``{id, name, trigger, steps}``;
    returns the journey and ``created``, ``updated`` or ``unchanged``. Raises
    :class:`ValidationError` naming each fault by its path in the document."""
    if not isinstance(document, dict):
        raise ValidationError(
            FieldError("(document)", "must be an object with id, name, trigger, steps")
        )
    errors: list[FieldError] = []
    for key in sorted(set(document) - {"id", "name", "trigger", "steps"}):
        errors.append(FieldError(key, "unknown field; expected id, name, trigger, steps"))
    body = {k: document[k] for k in ("trigger", "steps") if k in document}
    for check in (
        lambda: validate_journey_id(document.get("id")),
        lambda: _name(document.get("name")),
        lambda: parse_definition(body),
    ):
        try:
            check()
        except ValidationError as exc:
            errors.extend(exc.errors)
    if errors:
        raise ValidationError(errors)
    existing = journey_by_id(driver, settings, document["id"].strip())
    if existing is None:
        return create_journey(
            driver, settings, document["id"], document["name"], body, actor=actor
        ), "created"
    updated = update_journey(
        driver, settings, existing.id, actor=actor, name=document["name"], definition=body
    )
    same = (updated.version, updated.name, updated.active) == (
        existing.version,
        existing.name,
        existing.active,
    )
    return updated, "unchanged" if same else "updated"


def journey_by_id(driver: neo4j.Driver, settings: Settings, journey_id: str) -> JourneyView | None:
    """The journey with this id, or None."""
    rows = read(driver, settings, _ONE, id=journey_id)
    return _view(rows[0]) if rows else None


def list_journeys(driver: neo4j.Driver, settings: Settings) -> list[JourneyView]:
    """Every journey, active or not, by id."""
    return [_view(r) for r in read(driver, settings, _ALL)]


# Scheduling: one head per trigger type yields (e, p, since); the shared tail enters it.
_ENTER: LiteralString = """
WHERE NOT EXISTS {
  MATCH (e)<-[:TRIGGERED_BY]-(x:Action) WHERE x.journeyId = $journeyId AND x.version <> $version
}
WITH e, p, since, since + duration({seconds: $afterSeconds}) AS firedAt
UNWIND $steps AS step
MERGE (a:Action {id: $journeyId + ':' + toString($version) + ':' + toString(step.index) + ':'
                     + e.key})
ON CREATE SET a.journeyId = $journeyId, a.version = $version, a.step = step.index,
              a.channel = step.channel, a.template = step.template,
              a.conditions = step.conditions, a.personId = p.id, a.since = since,
              a.firedAt = firedAt, a.dueAt = firedAt + duration({seconds: step.delaySeconds}),
              a.status = 'SCHEDULED', a.triggerType = $triggerType, a.triggerKey = e.key,
              a.scheduledAt = datetime(), a.new = true
MERGE (a)-[:TRIGGERED_BY]->(e)
WITH a, a.new AS created
REMOVE a.new
RETURN count(created) AS created
"""

_HEADS: dict[str, LiteralString] = {
    "CART_ABANDONED": """
UNWIND $keys AS key
MATCH (e:Cart {key: key})
WHERE e.status IN $statuses AND e.updatedAt IS NOT NULL
MATCH (r:SourceRecord)-[:HAS_CART]->(e)
OPTIONAL MATCH (p:Person)-[:HAS_RECORD]->(r)
WITH e, p, r, e.updatedAt AS since
WHERE NOT EXISTS { MATCH (r)-[:PLACED]->(o:Order) WHERE o.placedAt >= since }
  AND (p IS NULL OR NOT EXISTS {
       MATCH (p)-[:HAS_RECORD]->(:SourceRecord)-[:PLACED]->(o:Order) WHERE o.placedAt >= since })
WITH e, p, since
""",
    "ORDER_PLACED": """
UNWIND $keys AS key
MATCH (e:Order {key: key})
WHERE e.placedAt IS NOT NULL AND ($statuses IS NULL OR e.status IN $statuses)
MATCH (r:SourceRecord)-[:PLACED]->(e)
OPTIONAL MATCH (p:Person)-[:HAS_RECORD]->(r)
WITH e, p, e.placedAt AS since
""",
    "ENGAGEMENT": """
UNWIND $keys AS key
MATCH (e:Engagement {key: key})
WHERE e.type = $eventType AND ($channel IS NULL OR e.channel = $channel)
  AND ($campaign IS NULL OR e.campaign = $campaign)
MATCH (r:SourceRecord)-[:ENGAGED]->(e)
OPTIONAL MATCH (p:Person)-[:HAS_RECORD]->(r)
WITH e, p, e.at AS since
""",
    "CONSENT_CHANGED": """
UNWIND $keys AS key
MATCH (e:Consent {key: key})
WHERE ($channel IS NULL OR e.channel = $channel) AND ($purpose IS NULL OR e.purpose = $purpose)
  AND ($status IS NULL OR e.status = $status)
OPTIONAL MATCH (p:Person)-[:GAVE]->(e)
WITH e, p, e.at AS since
""",
}
_SCHEDULE: dict[str, LiteralString] = {kind: head + _ENTER for kind, head in _HEADS.items()}

#: A page of trigger keys after ``$after`` (by the key's unique index), per trigger type.
_KEYS: dict[str, LiteralString] = {
    "CART_ABANDONED": "MATCH (e:Cart) WHERE e.key > $after "
    "RETURN e.key AS key ORDER BY key LIMIT $n",
    "ORDER_PLACED": "MATCH (e:Order) WHERE e.key > $after "
    "RETURN e.key AS key ORDER BY key LIMIT $n",
    "ENGAGEMENT": "MATCH (e:Engagement) WHERE e.key > $after "
    "RETURN e.key AS key ORDER BY key LIMIT $n",
    "CONSENT_CHANGED": "MATCH (e:Consent) WHERE e.key > $after "
    "RETURN e.key AS key ORDER BY key LIMIT $n",
}
_COUNT: dict[str, LiteralString] = {
    "CART_ABANDONED": "MATCH (e:Cart) RETURN count(e) AS n",
    "ORDER_PLACED": "MATCH (e:Order) RETURN count(e) AS n",
    "ENGAGEMENT": "MATCH (e:Engagement) RETURN count(e) AS n",
    "CONSENT_CHANGED": "MATCH (e:Consent) RETURN count(e) AS n",
}

_PARSED: dict[str, Definition] = {}


def _active(tx: neo4j.ManagedTransaction) -> list[tuple[str, int, Definition]]:
    found = []
    for row in tx.run(_ACTIVE):
        text = row["definition"]  # the cache is keyed by the text: ids and versions recur
        if text not in _PARSED:  # after a wipe or a restore
            _PARSED[text] = parse_definition(json.loads(text))
        found.append((row["id"], row["version"], _PARSED[text]))
    return found


def _params(journey_id: str, version: int, d: Definition) -> dict[str, Any]:
    t = d.trigger
    return {
        "journeyId": journey_id,
        "version": version,
        "triggerType": t.type,
        "afterSeconds": t.after_seconds,
        "statuses": list(t.statuses) if t.statuses else None,
        "eventType": t.event_type,
        "channel": t.channel,
        "campaign": t.campaign,
        "purpose": t.purpose,
        "status": t.status,
        "steps": [
            {
                "index": s.index,
                "delaySeconds": s.delay_seconds,
                "channel": s.channel,
                "template": s.template,
                "conditions": json.dumps(list(s.conditions), sort_keys=True),
            }
            for s in d.steps
        ],
    }


def schedule_batch(
    tx: neo4j.ManagedTransaction, file_type: str, outcomes: Iterable[tuple[str, str]]
) -> int:
    """Schedule the actions of every active journey fired by a just-written ingest batch
    (``[(key, outcome)]`` of ``file_type``), in the batch's own transaction, so an event is
    never stored without its actions. Returns the number of actions created (0 for a file
    type that fires no trigger, or when no active journey listens to it)."""
    kind = FILE_TRIGGERS.get(file_type)
    if kind is None:
        return 0
    keys = sorted({key for key, outcome in outcomes if outcome != "stale"})
    if not keys:
        return 0
    created = 0
    for journey_id, version, definition in _active(tx):
        if definition.trigger.type == kind:
            params = _params(journey_id, version, definition)
            created += _schedule(tx, kind, keys, params)
    return created


def _page(tx: neo4j.ManagedTransaction, kind: str, after: str, n: int) -> list[str]:
    return [r["key"] for r in tx.run(_KEYS[kind], after=after, n=n)]


def _count(tx: neo4j.ManagedTransaction, kind: str) -> int:
    return tx.run(_COUNT[kind]).single(strict=True)["n"]


def _schedule(
    tx: neo4j.ManagedTransaction, kind: str, keys: list[str], params: dict[str, Any]
) -> int:
    return tx.run(_SCHEDULE[kind], keys=keys, **params).single(strict=True)["created"]


def schedule_existing(
    driver: neo4j.Driver,
    settings: Settings,
    *,
    journey_id: str | None = None,
    batch_size: int = 2000,
    progress: Callable[[int, int], None] | None = None,
) -> dict[str, int]:
    """Scan the stored events for every active journey (or only ``journey_id``) and schedule
    what their triggers fire: for demo data and for events ingested before a journey existed.
    Safe to repeat (it creates only what is missing). ``progress(done, total)`` is called
    after each page of trigger entities. Returns ``{journeyId: actions created}``. Raises
    :class:`NotFound` for an unknown or inactive ``journey_id``."""
    with translate_errors(settings), driver.session(database=settings.neo4j_database) as s:
        journeys = s.execute_read(_active)
        if journey_id is not None:
            journeys = [j for j in journeys if j[0] == journey_id]
            if not journeys:
                raise NotFound(f"no active journey with id {journey_id!r}")
        totals = {
            kind: s.execute_read(_count, kind) for kind in {d.trigger.type for _, _, d in journeys}
        }
        grand = sum(totals[d.trigger.type] for _, _, d in journeys)
        done = 0
        created: dict[str, int] = {}
        for jid, version, definition in journeys:
            kind = definition.trigger.type
            params = _params(jid, version, definition)
            created[jid] = 0
            after = ""
            while keys := s.execute_read(_page, kind, after, batch_size):
                created[jid] += s.execute_write(_schedule, kind, keys, params)
                after = keys[-1]
                done += len(keys)
                if progress is not None:
                    progress(done, grand)
    return created
