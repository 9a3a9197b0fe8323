"""Journeys and their outbox of actions.

``(:Journey {id, name, version, definition (JSON text), active, createdAt})``: one node per
version, unique on (id, version); at most one version of an id is active.
``(:Person)-[:HAS_ACTION]->(:Action {id, journeyId, journeyVersion, step, personId, channel,
template, triggerKind, triggerKey, triggerAt, dueAt, status, reason, ...})``: ``id`` is
``journeyId:vVERSION:sSTEP:triggerKey`` (unique), so scheduling the same trigger twice adds
nothing. Status moves SCHEDULED -> CLAIMED (a runner's lease: ``claimedBy``, ``claimToken``,
``leaseUntil``) -> EMITTED, or -> CANCELLED with a ``reason``.

The definition is parsed and validated in :mod:`graph.services.journey_rules`; this module
stores what it is given and runs the Cypher of scheduling, claiming and emitting.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, LiteralString

import neo4j

from graph.db import read, translate_errors
from graph.errors import NotFound
from graph.settings import Settings

__all__ = [
    "ActionView",
    "JourneyView",
    "actions_of_person",
    "claim_due",
    "deactivate_journey",
    "get_journey",
    "list_journeys",
    "mark_emitted",
    "reclaim_expired",
    "save_journey",
    "schedule_triggers",
    "trigger_keys",
    "trigger_keys_of_records",
    "work_left",
]

_JOURNEY_FIELDS: LiteralString = """
j {.id, .name, .version, .definition, .active, createdAt: toString(j.createdAt)} AS journey
"""


@dataclass(frozen=True, slots=True)
class JourneyView:
    """One stored journey version; ``definition`` is the parsed JSON document."""

    id: str
    name: str
    version: int
    definition: dict[str, Any]
    active: bool
    created_at: str

    @classmethod
    def of(cls, row: dict[str, Any]) -> JourneyView:
        return cls(
            row["id"],
            row["name"],
            row["version"],
            json.loads(row["definition"]),
            bool(row["active"]),
            row["createdAt"],
        )


@dataclass(frozen=True, slots=True)
class ActionView:
    """An action of the outbox; times are ISO 8601 text."""

    id: str
    journey_id: str
    journey_version: int
    step: int
    person_id: str
    channel: str
    template: str
    trigger_kind: str
    trigger_key: str
    trigger_at: str
    due_at: str
    status: str
    reason: str | None
    emitted_at: str | None

    @classmethod
    def of(cls, row: dict[str, Any]) -> ActionView:
        return cls(
            row["id"],
            row["journeyId"],
            row["journeyVersion"],
            row["step"],
            row["personId"],
            row["channel"],
            row["template"],
            row["triggerKind"],
            row["triggerKey"],
            row["triggerAt"],
            row["dueAt"],
            row["status"],
            row.get("reason"),
            row.get("emittedAt"),
        )


_LATEST: LiteralString = """
MATCH (j:Journey {id: $id})
WITH j ORDER BY j.version DESC LIMIT 1
RETURN j.version AS version, j.definition AS definition, j.active AS active
"""

_CREATE: LiteralString = (
    """
OPTIONAL MATCH (old:Journey {id: $id})
SET old.active = false
WITH count(old) AS older
CREATE (j:Journey {id: $id, name: $name, version: $version, definition: $definition,
                   active: true, createdAt: datetime()})
RETURN """
    + _JOURNEY_FIELDS
)

_REACTIVATE: LiteralString = (
    """
MATCH (old:Journey {id: $id}) SET old.active = (old.version = $version)
WITH old WHERE old.version = $version
WITH old AS j
RETURN """
    + _JOURNEY_FIELDS
)


def save_journey(
    driver: neo4j.Driver, settings: Settings, journey_id: str, name: str, definition: str
) -> tuple[JourneyView, str]:
    """Store a validated definition (canonical JSON text) as the active version of
    ``journey_id``: ``(journey, created|unchanged|reactivated)``. The same definition again
    adds no version (a retry is harmless); a different one adds version N+1 and deactivates
    the older versions."""

    def work(tx: neo4j.ManagedTransaction) -> tuple[JourneyView, str]:
        latest = tx.run(_LATEST, id=journey_id).single()
        if latest is not None and latest["definition"] == definition:
            row = tx.run(_REACTIVATE, id=journey_id, version=latest["version"]).single(strict=True)
            return JourneyView.of(row["journey"]), (
                "unchanged" if latest["active"] else "reactivated"
            )
        version = 1 if latest is None else latest["version"] + 1
        row = tx.run(
            _CREATE, id=journey_id, name=name, version=version, definition=definition
        ).single(strict=True)
        return JourneyView.of(row["journey"]), "created"

    with translate_errors(settings), driver.session(database=settings.neo4j_database) as s:
        return s.execute_write(work)


_LIST: LiteralString = (
    """
MATCH (j:Journey)
WITH j ORDER BY j.id, j.version DESC
WITH j.id AS id, collect(j)[0] AS j
RETURN """
    + _JOURNEY_FIELDS
    + " ORDER BY journey.id"
)

_GET: LiteralString = (
    """
MATCH (j:Journey {id: $id}) WHERE $version IS NULL OR j.version = $version
WITH j ORDER BY j.version DESC LIMIT 1
RETURN """
    + _JOURNEY_FIELDS
)

_ACTIVE: LiteralString = "MATCH (j:Journey {active: true}) RETURN " + _JOURNEY_FIELDS

_DEACTIVATE: LiteralString = """
MATCH (j:Journey {id: $id}) SET j.active = false RETURN count(j) AS versions
"""


def list_journeys(
    driver: neo4j.Driver, settings: Settings, *, active_only: bool = False
) -> list[JourneyView]:
    """The latest version of every journey by id (``active_only``: the active versions)."""
    rows = read(driver, settings, _ACTIVE if active_only else _LIST)
    return sorted((JourneyView.of(r["journey"]) for r in rows), key=lambda j: j.id)


def get_journey(
    driver: neo4j.Driver, settings: Settings, journey_id: str, version: int | None = None
) -> JourneyView | None:
    """A journey's latest version (or ``version``); None when there is none."""
    rows = read(driver, settings, _GET, id=journey_id, version=version)
    return JourneyView.of(rows[0]["journey"]) if rows else None


def deactivate_journey(driver: neo4j.Driver, settings: Settings, journey_id: str) -> int:
    """Deactivate every version of a journey: nothing more is scheduled for it and its
    pending actions are cancelled (``JOURNEY_INACTIVE``) when due. Returns the number of
    versions; raises :class:`NotFound` for an unknown id."""
    with translate_errors(settings):
        rows, _, _ = driver.execute_query(
            _DEACTIVATE, id=journey_id, database_=settings.neo4j_database
        )
    if not rows or rows[0]["versions"] == 0:
        raise NotFound(f"no journey with id {journey_id!r}")
    return int(rows[0]["versions"])


# -- scheduling ------------------------------------------------------------------------------

_CART_KEYS: LiteralString = """
MATCH (c:Cart) WHERE c.updatedAt >= datetime($since) AND c.updatedAt <= datetime($now)
  AND c.status <> 'CONVERTED'
RETURN c.key AS key ORDER BY key
"""

_ORDER_KEYS: LiteralString = """
MATCH (o:Order) WHERE o.placedAt >= datetime($since) AND o.placedAt <= datetime($now)
RETURN o.key AS key ORDER BY key
"""

_CART_KEYS_OF_RECORDS: LiteralString = """
UNWIND $keys AS k
MATCH (:SourceRecord {key: k})<-[:HAS_RECORD]-(p:Person)
MATCH (p)-[:HAS_RECORD]->(:SourceRecord)-[:HAS_CART]->(c:Cart)
WHERE c.updatedAt >= datetime($since) AND c.updatedAt <= datetime($now)
  AND c.status <> 'CONVERTED'
RETURN DISTINCT c.key AS key ORDER BY key
"""

_ORDER_KEYS_OF_RECORDS: LiteralString = """
UNWIND $keys AS k
MATCH (:SourceRecord {key: k})<-[:HAS_RECORD]-(p:Person)
MATCH (p)-[:HAS_RECORD]->(:SourceRecord)-[:PLACED]->(o:Order)
WHERE o.placedAt >= datetime($since) AND o.placedAt <= datetime($now)
RETURN DISTINCT o.key AS key ORDER BY key
"""

_SCHEDULE_TAIL: LiteralString = """
UNWIND $steps AS step
WITH p, triggerKey, triggerAt, step,
     $journeyId + ':v' + toString($version) + ':s' + toString(step.index) + ':' + triggerKey AS id
ORDER BY id
MERGE (a:Action {id: id})
ON CREATE SET a.journeyId = $journeyId, a.journeyVersion = $version, a.step = step.index,
              a.channel = step.channel, a.template = step.template, a.triggerKind = $kind,
              a.triggerKey = triggerKey, a.triggerAt = triggerAt,
              a.dueAt = triggerAt + duration({seconds: step.delay}), a.status = 'SCHEDULED',
              a.createdAt = datetime(), a.personId = p.id, a.new = true
WITH a, p, a.new IS NOT NULL AS created
REMOVE a.new
SET a.personId = p.id
WITH a, p, created
CALL (a, p) {
  MATCH (other:Person)-[r:HAS_ACTION]->(a) WHERE other <> p
  DELETE r
}
MERGE (p)-[:HAS_ACTION]->(a)
RETURN count(CASE WHEN created THEN 1 END) AS created
"""

_SCHEDULE_CARTS: LiteralString = (
    """
UNWIND $keys AS key
MATCH (c:Cart {key: key})<-[:HAS_CART]-(:SourceRecord)<-[:HAS_RECORD]-(p:Person)
WHERE c.status <> 'CONVERTED'
  AND NOT EXISTS { (p)-[:HAS_RECORD]->(:SourceRecord)-[:PLACED]->(o:Order)
                   WHERE o.placedAt >= c.updatedAt }
WITH p, c.key AS triggerKey, c.updatedAt AS triggerAt
"""
    + _SCHEDULE_TAIL
)

_SCHEDULE_ORDERS: LiteralString = (
    """
UNWIND $keys AS key
MATCH (o:Order {key: key})<-[:PLACED]-(:SourceRecord)<-[:HAS_RECORD]-(p:Person)
WHERE o.placedAt IS NOT NULL
WITH p, o.key AS triggerKey, o.placedAt AS triggerAt
"""
    + _SCHEDULE_TAIL
)


def trigger_keys(
    driver: neo4j.Driver, settings: Settings, kind: str, since: str, now: str
) -> list[str]:
    """Keys of the trigger entities of ``kind`` (``cart_abandoned``: carts not CONVERTED;
    ``order_placed``: orders) whose trigger time lies in ``[since, now]`` (ISO 8601)."""
    query = _CART_KEYS if kind == "cart_abandoned" else _ORDER_KEYS
    return [r["key"] for r in read(driver, settings, query, since=since, now=now)]


def trigger_keys_of_records(
    driver: neo4j.Driver,
    settings: Settings,
    kind: str,
    record_keys: list[str],
    since: str,
    now: str,
) -> list[str]:
    """Like :func:`trigger_keys`, only among the people holding ``record_keys``."""
    query = _CART_KEYS_OF_RECORDS if kind == "cart_abandoned" else _ORDER_KEYS_OF_RECORDS
    return [r["key"] for r in read(driver, settings, query, keys=record_keys, since=since, now=now)]


def schedule_triggers(
    driver: neo4j.Driver,
    settings: Settings,
    *,
    journey_id: str,
    version: int,
    kind: str,
    keys: list[str],
    steps: list[dict[str, Any]],
) -> int:
    """Create the actions of ``steps`` (``{index, delay (s), channel, template}``) for the
    trigger entities ``keys`` that still trigger (a cart not CONVERTED without a later order;
    an order), linked to the person holding each; returns how many were new. Idempotent:
    existing actions are only re-linked to the trigger's current person (after a merge)."""
    query = _SCHEDULE_CARTS if kind == "cart_abandoned" else _SCHEDULE_ORDERS

    def work(tx: neo4j.ManagedTransaction) -> int:
        row = tx.run(
            query,
            keys=sorted(keys),
            steps=steps,
            journeyId=journey_id,
            version=version,
            kind=kind,
        ).single()
        return int(row["created"]) if row else 0

    with translate_errors(settings), driver.session(database=settings.neo4j_database) as s:
        return s.execute_write(work)


# -- running ---------------------------------------------------------------------------------

_ACTION_FIELDS: LiteralString = """
a {.id, .journeyId, .journeyVersion, .step, .personId, .channel, .template, .triggerKind,
   .triggerKey, .status, .reason, triggerAt: toString(a.triggerAt),
   dueAt: toString(a.dueAt), emittedAt: toString(a.emittedAt)} AS action
"""

# The SET of a lock property takes the node's write lock; the status read after it sees what a
# concurrent claimer committed, so two runners never both claim one action (Neo4j's
# documented guard against lost updates under read committed isolation).
_CLAIM: LiteralString = """
MATCH (a:Action) WHERE a.status = 'SCHEDULED' AND a.dueAt <= datetime($now)
WITH a ORDER BY a.dueAt, a.id LIMIT $limit
SET a.lockedBy = $token REMOVE a.lockedBy
WITH a WHERE a.status = 'SCHEDULED'
SET a.status = 'CLAIMED', a.claimedBy = $runner, a.claimToken = $token,
    a.claimedAt = datetime(), a.leaseUntil = datetime() + duration({seconds: $lease})
RETURN a.id AS id, a.journeyId AS journeyId, a.journeyVersion AS journeyVersion, a.step AS step
"""

_RECLAIM: LiteralString = """
MATCH (a:Action) WHERE a.status = 'CLAIMED' AND a.leaseUntil < datetime()
WITH a ORDER BY a.leaseUntil, a.id LIMIT $limit
SET a.lockedBy = $token REMOVE a.lockedBy
WITH a WHERE a.status = 'CLAIMED' AND a.leaseUntil < datetime()
SET a.claimedBy = $runner, a.claimToken = $token, a.claimedAt = datetime(),
    a.leaseUntil = datetime() + duration({seconds: $lease})
RETURN a.id AS id
"""

_EVALUATE: LiteralString = """
UNWIND $rows AS row
MATCH (a:Action {id: row.id})
OPTIONAL MATCH (cart:Cart {key: a.triggerKey}) WHERE a.triggerKind = 'cart_abandoned'
OPTIONAL MATCH (ord:Order {key: a.triggerKey}) WHERE a.triggerKind = 'order_placed'
WITH a, row, cart, coalesce(cart, ord) AS t
OPTIONAL MATCH (p:Person)-[:HAS_RECORD]->(:SourceRecord)-[:HAS_CART|PLACED]->(t)
WITH a, row, cart, head(collect(p)) AS p
CALL (p, row) {
  OPTIONAL MATCH (p)-[:GAVE]->(c:Consent)
  WHERE c.channel = row.consentChannel AND c.purpose = row.consentPurpose
  WITH c ORDER BY c.at DESC, c.key
  RETURN collect(c.status)[0] AS consent
}
WITH a, row, cart, p, consent,
     p IS NOT NULL AND row.noOrder AND EXISTS {
       (p)-[:HAS_RECORD]->(:SourceRecord)-[:PLACED]->(o:Order)
       WHERE o.placedAt >= a.triggerAt AND o.key <> a.triggerKey } AS ordered
WITH a, p, CASE
  WHEN NOT row.active THEN 'JOURNEY_INACTIVE'
  WHEN p IS NULL THEN 'PERSON_FORGOTTEN'
  WHEN cart IS NOT NULL AND cart.status = 'CONVERTED' THEN 'CART_CONVERTED'
  WHEN ordered THEN 'ORDER_PLACED'
  WHEN row.consentChannel IS NOT NULL AND coalesce(consent, '') <> 'GRANTED' THEN 'NO_CONSENT'
  ELSE null END AS reason
CALL (a, reason) {
  WITH a, reason WHERE reason IS NOT NULL
  SET a.status = 'CANCELLED', a.reason = reason, a.cancelledAt = datetime()
  REMOVE a.claimToken, a.leaseUntil
}
CALL (a, p) {
  WITH a, p WHERE p IS NOT NULL AND a.personId <> p.id
  SET a.personId = p.id
  WITH a, p
  OPTIONAL MATCH (:Person)-[r:HAS_ACTION]->(a)
  DELETE r
  MERGE (p)-[:HAS_ACTION]->(a)
}
RETURN a.id AS id, reason, p.email AS email, p.phone AS phone
"""

_PAYLOAD: LiteralString = (
    """
UNWIND $ids AS id
MATCH (a:Action {id: id}) WHERE a.status = 'CLAIMED' AND a.claimToken = $token
OPTIONAL MATCH (p:Person {id: a.personId})
RETURN p.email AS email, p.phone AS phone, """
    + _ACTION_FIELDS
)

_EMITTED: LiteralString = """
UNWIND $ids AS id
MATCH (a:Action {id: id}) WHERE a.status = 'CLAIMED' AND a.claimToken = $token
SET a.status = 'EMITTED', a.emittedAt = datetime(), a.emittedBy = $runner, a.output = $output
REMOVE a.claimToken, a.leaseUntil
RETURN count(a) AS marked
"""


def claim_due(
    driver: neo4j.Driver,
    settings: Settings,
    *,
    now: str,
    limit: int,
    runner: str,
    token: str,
    lease_s: int,
    conditions: Any,
) -> tuple[list[dict[str, Any]], dict[str, int]]:
    """In one transaction: claim up to ``limit`` SCHEDULED actions due at ``now`` (ISO 8601)
    for ``runner`` under ``token`` with a lease of ``lease_s`` seconds, check each one's
    conditions and cancel those that no longer hold (reason stored).

    ``conditions(journeyId, version, step)`` returns ``{active, noOrder, consentChannel,
    consentPurpose}`` for a claimed action. Returns ``(claimed and still valid: the action
    payloads with the person's ``email`` and ``phone``, {reason: cancelled count})``.
    """

    def work(tx: neo4j.ManagedTransaction) -> tuple[list[dict[str, Any]], dict[str, int]]:
        claimed = list(
            tx.run(_CLAIM, now=now, limit=limit, runner=runner, token=token, lease=lease_s)
        )
        if not claimed:
            return [], {}
        rows = [
            {"id": r["id"], **conditions(r["journeyId"], r["journeyVersion"], r["step"])}
            for r in claimed
        ]
        cancelled: dict[str, int] = {}
        for r in tx.run(_EVALUATE, rows=rows):
            if r["reason"] is not None:
                cancelled[r["reason"]] = cancelled.get(r["reason"], 0) + 1
        return _payloads(tx, [r["id"] for r in claimed], token), cancelled

    with translate_errors(settings), driver.session(database=settings.neo4j_database) as s:
        return s.execute_write(work)


def reclaim_expired(
    driver: neo4j.Driver, settings: Settings, *, limit: int, runner: str, token: str, lease_s: int
) -> list[dict[str, Any]]:
    """Take over up to ``limit`` CLAIMED actions whose lease expired (their runner died or
    stalled) under ``token``; their conditions were checked when first claimed. Returns their
    payloads as :func:`claim_due` does."""

    def work(tx: neo4j.ManagedTransaction) -> list[dict[str, Any]]:
        ids = [
            r["id"]
            for r in tx.run(_RECLAIM, limit=limit, runner=runner, token=token, lease=lease_s)
        ]
        return _payloads(tx, ids, token) if ids else []

    with translate_errors(settings), driver.session(database=settings.neo4j_database) as s:
        return s.execute_write(work)


_WORK_LEFT: LiteralString = """
RETURN EXISTS { MATCH (a:Action) WHERE a.status = 'SCHEDULED' AND a.dueAt <= datetime($now) }
    OR EXISTS { MATCH (a:Action) WHERE a.status = 'CLAIMED' AND a.leaseUntil < datetime() }
    AS left
"""


def work_left(driver: neo4j.Driver, settings: Settings, *, now: str) -> bool:
    """Whether an action is due at ``now`` and unclaimed, or claimed under an expired lease."""
    return bool(read(driver, settings, _WORK_LEFT, now=now)[0]["left"])


def _payloads(tx: neo4j.ManagedTransaction, ids: list[str], token: str) -> list[dict[str, Any]]:
    out = []
    for r in tx.run(_PAYLOAD, ids=ids, token=token):
        action = dict(r["action"])
        action["email"], action["phone"] = r["email"], r["phone"]
        out.append(action)
    return sorted(out, key=lambda a: (a["dueAt"], a["id"]))


def mark_emitted(
    driver: neo4j.Driver,
    settings: Settings,
    ids: list[str],
    *,
    token: str,
    runner: str,
    output: str,
) -> int:
    """Mark the actions ``ids`` claimed under ``token`` EMITTED (to ``output``); an action
    whose claim another runner took over since is left alone. Returns how many were marked."""

    def work(tx: neo4j.ManagedTransaction) -> int:
        row = tx.run(_EMITTED, ids=sorted(ids), token=token, runner=runner, output=output).single(
            strict=True
        )
        return int(row["marked"])

    with translate_errors(settings), driver.session(database=settings.neo4j_database) as s:
        return s.execute_write(work)


_OF_PERSON: LiteralString = (
    """
OPTIONAL MATCH (p:Person {id: $id})
OPTIONAL MATCH (:PersonAlias {id: $id})-[:ALIAS_OF]->(q:Person)
WITH coalesce(p, q) AS p
MATCH (p)-[:HAS_ACTION]->(a:Action)
WITH a ORDER BY a.dueAt DESC, a.id
RETURN """
    + _ACTION_FIELDS
)


def actions_of_person(driver: neo4j.Driver, settings: Settings, person_id: str) -> list[ActionView]:
    """A person's actions (by 360 ID or alias), latest due first."""
    return [ActionView.of(r["action"]) for r in read(driver, settings, _OF_PERSON, id=person_id)]
