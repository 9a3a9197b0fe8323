"""The journey outbox: ``(:Action {id, journeyId, version, step, personId, channel, template,
dueAt, status, ...})`` nodes and their life cycle
``SCHEDULED -> CLAIMED -> EMITTED | CANCELLED`` (a CLAIMED action whose lease ran out is
claimable again).

Claiming is lock-then-check in one transaction: the first statement picks due actions and
writes to each (taking its write lock, in id order), the second re-reads their status under
those locks and claims only what is still claimable. A second runner that picked the same
actions waits on the locks, then finds them CLAIMED and leaves them, so two runners never
hold one action with live leases. Every later write checks ``claimedBy``, so a runner whose
lease expired and was taken over changes nothing.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, LiteralString

import neo4j

from graph.db import read, translate_errors
from graph.settings import Settings
from graph.store.journey_rules import ActionFacts

__all__ = [
    "ActionView",
    "ClaimedAction",
    "action_counts",
    "actions_of_person",
    "cancel",
    "claim",
    "due_count",
    "facts",
    "mark_emitted",
    "release",
]


@dataclass(frozen=True, slots=True)
class ActionView:
    """An action as agents see it; times ISO 8601, ``reason`` set when CANCELLED."""

    id: str
    journey_id: str
    version: int
    step: int
    person_id: str | None
    channel: str
    template: str
    status: str
    due_at: str
    trigger_type: str
    trigger_key: str
    scheduled_at: str | None
    emitted_at: str | None
    cancelled_at: str | None
    reason: str | None


@dataclass(frozen=True, slots=True)
class ClaimedAction:
    """A claimed action with what the runner needs; ``reclaimed`` when an expired claim of
    another runner was taken over (that runner may have written it before dying)."""

    id: str
    journey_id: str
    version: int
    step: int
    channel: str
    template: str
    conditions: tuple[dict[str, str], ...]
    due_at: str
    trigger_type: str
    trigger_key: str
    reclaimed: bool


_PICK: LiteralString = """
CALL () {
  MATCH (a:Action) WHERE a.status = 'CLAIMED' AND a.leaseUntil < $clock
  RETURN a ORDER BY a.leaseUntil LIMIT $n
  UNION
  MATCH (a:Action) WHERE a.status = 'SCHEDULED' AND a.dueAt <= $now
  RETURN a ORDER BY a.dueAt LIMIT $n
}
WITH a WHERE NOT a.id IN $skip
WITH a ORDER BY a.id LIMIT $n
SET a.touchedBy = $runner
RETURN a.id AS id
"""

_CLAIM: LiteralString = """
UNWIND $ids AS id
MATCH (a:Action {id: id})
REMOVE a.touchedBy
WITH a
WHERE (a.status = 'SCHEDULED' AND a.dueAt <= $now)
   OR (a.status = 'CLAIMED' AND a.leaseUntil < $clock)
WITH a, a.status = 'CLAIMED' AS reclaimed
SET a.status = 'CLAIMED', a.claimedBy = $runner, a.leaseUntil = $lease,
    a.claims = coalesce(a.claims, 0) + 1
RETURN a.id AS id, a.journeyId AS journeyId, a.version AS version, a.step AS step,
       a.channel AS channel, a.template AS template, a.conditions AS conditions,
       toString(a.dueAt) AS dueAt, a.triggerType AS triggerType, a.triggerKey AS triggerKey,
       reclaimed
ORDER BY a.dueAt, a.id
"""


def claim(
    driver: neo4j.Driver,
    settings: Settings,
    runner: str,
    *,
    now: datetime,
    clock: datetime,
    lease_until: datetime,
    limit: int,
    skip: Sequence[str] = (),
) -> list[ClaimedAction]:
    """Claim up to ``limit`` actions due at ``now`` (or whose lease ran out by ``clock``, the
    wall clock) for ``runner`` until ``lease_until``, leaving out ``skip``. Returns them by
    due time."""

    def work(tx: neo4j.ManagedTransaction) -> list[ClaimedAction]:
        ids = [
            r["id"]
            for r in tx.run(_PICK, now=now, clock=clock, n=limit, skip=list(skip), runner=runner)
        ]
        if not ids:
            return []
        rows = tx.run(_CLAIM, ids=ids, now=now, clock=clock, lease=lease_until, runner=runner)
        return [
            ClaimedAction(
                r["id"],
                r["journeyId"],
                r["version"],
                r["step"],
                r["channel"],
                r["template"],
                tuple(json.loads(r["conditions"] or "[]")),
                r["dueAt"],
                r["triggerType"],
                r["triggerKey"],
                r["reclaimed"],
            )
            for r in rows
        ]

    with translate_errors(settings), driver.session(database=settings.neo4j_database) as s:
        return s.execute_write(work)


_FACTS: LiteralString = """
UNWIND $ids AS id
MATCH (a:Action {id: id})
OPTIONAL MATCH (a)-[:TRIGGERED_BY]->(e)
OPTIONAL MATCH (j:Journey {id: a.journeyId})
CALL (e) {
  OPTIONAL MATCH (p1:Person)-[:HAS_RECORD]->(:SourceRecord)
                 -[:HAS_CART|PLACED|ENGAGED|CAPTURED]->(e)
  OPTIONAL MATCH (p2:Person)-[:GAVE]->(e)
  RETURN coalesce(p1, p2) AS p LIMIT 1
}
CALL (p) {
  OPTIONAL MATCH (p)-[:GAVE]->(c:Consent)
  WITH c ORDER BY c.at DESC, c.key
  WITH c.channel AS channel, c.purpose AS purpose, collect(c.status)[0] AS status
  RETURN collect([channel, purpose, status]) AS consents
}
RETURN a.id AS id, e IS NOT NULL AS triggerExists, e.status AS triggerStatus,
       coalesce(j.active, false) AS journeyActive, p.id AS personId, p.email AS email,
       p.phone AS phone, [c IN consents WHERE c[0] IS NOT NULL] AS consents,
       CASE WHEN p IS NULL THEN 0 ELSE COUNT {
         MATCH (p)-[:HAS_RECORD]->(:SourceRecord)-[:PLACED]->(o:Order)
         WHERE o.placedAt >= a.since AND o <> e } END AS ordersSince
"""


def facts(driver: neo4j.Driver, settings: Settings, ids: Sequence[str]) -> dict[str, ActionFacts]:
    """What holds now for each action id: trigger, journey, person, orders since, consents."""
    found = {}
    for r in read(driver, settings, _FACTS, ids=list(ids)):
        found[r["id"]] = ActionFacts(
            trigger_exists=r["triggerExists"],
            trigger_status=r["triggerStatus"],
            journey_active=r["journeyActive"],
            person_id=r["personId"],
            email=r["email"],
            phone=r["phone"],
            orders_since=r["ordersSince"],
            consents={(c, p): s for c, p, s in r["consents"]},
        )
    return found


_CANCEL: LiteralString = """
UNWIND $rows AS row
MATCH (a:Action {id: row.id})
WHERE a.status = 'CLAIMED' AND a.claimedBy = $runner
SET a.status = 'CANCELLED', a.reason = row.reason, a.cancelledAt = $at,
    a.personId = coalesce(row.personId, a.personId)
REMOVE a.leaseUntil
RETURN count(a) AS n
"""

_EMITTED: LiteralString = """
UNWIND $rows AS row
MATCH (a:Action {id: row.id})
WHERE a.status = 'CLAIMED' AND (a.claimedBy = $runner OR row.recovered)
SET a.status = 'EMITTED', a.emittedAt = coalesce(datetime(row.at), $at), a.emittedBy = $runner,
    a.personId = coalesce(row.personId, a.personId)
REMOVE a.leaseUntil
RETURN count(a) AS n
"""

_RELEASE: LiteralString = """
UNWIND $ids AS id
MATCH (a:Action {id: id})
WHERE a.status = 'CLAIMED' AND a.claimedBy = $runner
SET a.status = 'SCHEDULED'
REMOVE a.leaseUntil, a.claimedBy
RETURN count(a) AS n
"""


def _write(driver: neo4j.Driver, settings: Settings, query: LiteralString, **params: Any) -> int:
    with translate_errors(settings):
        rows, _, _ = driver.execute_query(query, params, database_=settings.neo4j_database)
    return rows[0]["n"]


def cancel(
    driver: neo4j.Driver,
    settings: Settings,
    runner: str,
    rows: Sequence[tuple[str, str, str | None]],
    *,
    at: datetime,
) -> int:
    """Cancel ``[(id, reason, personId)]`` still claimed by ``runner``; returns how many."""
    payload = [{"id": i, "reason": r, "personId": p} for i, r, p in rows]
    return _write(driver, settings, _CANCEL, rows=payload, runner=runner, at=at) if rows else 0


def mark_emitted(
    driver: neo4j.Driver,
    settings: Settings,
    runner: str,
    rows: Sequence[dict[str, Any]],
    *,
    at: datetime,
) -> int:
    """Mark ``[{id, personId, at, recovered}]`` EMITTED (``at``: ISO time written in the
    output, else ``at``). A row with ``recovered`` (found in the output file already) is
    marked whoever claims it; others only while ``runner`` holds them. Returns how many."""
    return _write(driver, settings, _EMITTED, rows=list(rows), runner=runner, at=at) if rows else 0


def release(driver: neo4j.Driver, settings: Settings, runner: str, ids: Sequence[str]) -> int:
    """Give claimed actions back (SCHEDULED), e.g. when their person is not resolved yet."""
    return _write(driver, settings, _RELEASE, ids=list(ids), runner=runner) if ids else 0


_FIELDS: LiteralString = """a.id AS id, a.journeyId AS journeyId, a.version AS version,
       a.step AS step, a.personId AS personId, a.channel AS channel, a.template AS template,
       a.status AS status, toString(a.dueAt) AS dueAt, a.triggerType AS triggerType,
       a.triggerKey AS triggerKey, toString(a.scheduledAt) AS scheduledAt,
       toString(a.emittedAt) AS emittedAt, toString(a.cancelledAt) AS cancelledAt,
       a.reason AS reason"""

_OF_PERSON: LiteralString = (
    """
MATCH (p:Person {id: $personId})
CALL (p) {
  MATCH (p)-[:HAS_RECORD]->(:SourceRecord)-[:HAS_CART|PLACED|ENGAGED|CAPTURED]->(e)
  RETURN e
  UNION
  MATCH (p)-[:GAVE]->(e:Consent)
  RETURN e
}
MATCH (a:Action)-[:TRIGGERED_BY]->(e)
WHERE $statuses IS NULL OR a.status IN $statuses
WITH DISTINCT a
ORDER BY a.dueAt DESC, a.id
WITH collect(a) AS found
RETURN size(found) AS total, [a IN found[$offset..$offset + $n] | a {"""
    + """.id, .journeyId, .version, .step, .personId, .channel, .template, .status,
       .triggerType, .triggerKey, .reason, dueAt: toString(a.dueAt),
       scheduledAt: toString(a.scheduledAt), emittedAt: toString(a.emittedAt),
       cancelledAt: toString(a.cancelledAt)}] AS page"""
)


def actions_of_person(
    driver: neo4j.Driver,
    settings: Settings,
    person_id: str,
    *,
    offset: int,
    limit: int,
    statuses: Sequence[str] | None = None,
) -> tuple[int, list[ActionView]]:
    """The journey actions fired by a person's events (through their records now, so they
    follow merges and splits), latest due first: ``(total, page)`` from ``offset``."""
    rows = read(
        driver,
        settings,
        _OF_PERSON,
        personId=person_id,
        offset=offset,
        n=limit,
        statuses=list(statuses) if statuses else None,
    )
    if not rows:
        return 0, []
    page = [
        ActionView(
            a["id"],
            a["journeyId"],
            a["version"],
            a["step"],
            a["personId"],
            a["channel"],
            a["template"],
            a["status"],
            a["dueAt"],
            a["triggerType"],
            a["triggerKey"],
            a["scheduledAt"],
            a["emittedAt"],
            a["cancelledAt"],
            a["reason"],
        )
        for a in rows[0]["page"]
    ]
    return rows[0]["total"], page


_DUE: LiteralString = """
MATCH (a:Action) WHERE a.status = 'SCHEDULED' AND a.dueAt <= $now
RETURN count(a) AS n
"""


def due_count(driver: neo4j.Driver, settings: Settings, now: datetime) -> int:
    """How many SCHEDULED actions are due at ``now``."""
    return read(driver, settings, _DUE, now=now)[0]["n"]


_COUNTS: LiteralString = """
MATCH (a:Action)
WHERE $journeyId IS NULL OR a.journeyId = $journeyId
RETURN a.status AS status, a.reason AS reason, count(*) AS n
ORDER BY status, reason
"""


def action_counts(
    driver: neo4j.Driver, settings: Settings, journey_id: str | None = None
) -> dict[str, int]:
    """Actions by status (``CANCELLED:ORDER_PLACED`` for each cancel reason)."""
    counts: dict[str, int] = {}
    for r in read(driver, settings, _COUNTS, journeyId=journey_id):
        key = r["status"] if r["reason"] is None else f"{r['status']}:{r['reason']}"
        counts[key] = counts.get(key, 0) + r["n"]
    return counts
