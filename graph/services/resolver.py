"""Identity resolution against the graph: real-time, batch, steward decisions, explanations.

* :meth:`Resolver.resolve` (real time): in one write transaction, derive the blocking keys of
  the changed records, lock their identifiers and blocking keys, read the component around
  them (candidates plus every record of every person involved), re-cluster it and write only
  the differences. Cost grows with the component, not with the database.
* :meth:`Resolver.resolve_all` (batch): read every record once, build candidate pairs in memory
  from shared identifiers and blocking keys, cluster with the same algorithm and write the
  differences in batches. Used after a bulk load and after a rule change.
* :meth:`Resolver.resolve_pending`: resolve the records stored but not resolved yet
  (``:Pending``, see :mod:`graph.store.records`): what every ingest run, ``c360 resolve`` and
  the API's start do first, so a process killed between its write and its resolution leaves
  nothing stuck.
* :meth:`Resolver.merge_people` / :meth:`Resolver.split_record`: a steward's decision, stored as
  ``MUST_LINK`` / ``CANNOT_LINK`` between records so later automatic resolution respects it.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, LiteralString

import neo4j
from tqdm import tqdm

from graph.db import read, translate_errors
from graph.errors import Conflict, FieldError, NotFound, ValidationError
from graph.ingest.pipeline import RecordOutcome, ingest_and_resolve
from graph.resolution.blocking import probabilistic_keys
from graph.resolution.fs_score import CompiledModel, compile_model, tf_from_json
from graph.resolution.model import load_model, model_from_json
from graph.resolution.plan import Plan, RecordData, candidate_pairs, focus, make_plan
from graph.resolution.rules import RuleSet, load_rules
from graph.services import explain
from graph.settings import Settings
from graph.store import components, match_models, records, review

__all__ = [
    "BatchReport",
    "RecordResolution",
    "ResolutionResult",
    "Resolver",
    "new_person_id",
    "resolve_after_ingest",
]


def new_person_id() -> str:
    """A new 360 ID: ``p-`` and 16 random hex digits (64 bits; collisions negligible)."""
    return "p-" + secrets.token_hex(8)


@dataclass(frozen=True, slots=True)
class RecordResolution:
    """What happened to one record: ``decision`` is created (a new person), linked (to an
    existing person), merged (it bridged people, ``absorbed`` lists their old IDs), moved,
    unchanged or unresolved (a placeholder or unknown record)."""

    key: str
    person_id: str | None
    decision: str
    rule: str | None = None
    score: float | None = None
    absorbed: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class ResolutionResult:
    """The outcome of one resolution transaction."""

    records: tuple[RecordResolution, ...]
    event_ids: tuple[str, ...] = ()
    created: int = 0
    merged: int = 0
    split: int = 0
    people: tuple[str, ...] = ()  # every person the resolution created or changed

    def of(self, key: str) -> RecordResolution:
        return next(r for r in self.records if r.key == key)


@dataclass
class BatchReport:
    """Counts of a batch resolution; ``seconds`` wall time."""

    records: int = 0
    candidate_pairs: int = 0
    matched_pairs: int = 0
    people: int = 0
    created: int = 0
    merged: int = 0
    split: int = 0
    relinked: int = 0
    seconds: float = 0.0
    phases: dict[str, float] = field(default_factory=dict)

    def __str__(self) -> str:
        return (
            f"{self.records} records -> {self.people} people in {self.seconds:.1f} s "
            f"({self.records / self.seconds if self.seconds else 0:,.0f} records/s): "
            f"{self.candidate_pairs} candidate pairs, {self.created} people created, "
            f"{self.merged} merged, {self.split} split, {self.relinked} links written"
        )


_ADD_LINK: LiteralString = """
MATCH (a:SourceRecord {key: $a}), (b:SourceRecord {key: $b})
CALL (a, b) {
  MATCH (a)-[x:MUST_LINK|CANNOT_LINK]-(b)
  DELETE x
}
WITH a, b
CALL (a, b) {
  WITH a, b WHERE $type = 'MUST_LINK'
  CREATE (a)-[:MUST_LINK {actor: $actor, at: datetime(), reason: $reason}]->(b)
}
CALL (a, b) {
  WITH a, b WHERE $type = 'CANNOT_LINK'
  CREATE (a)-[:CANNOT_LINK {actor: $actor, at: datetime(), reason: $reason}]->(b)
}
"""

_PERSON_RECORDS: LiteralString = """
MATCH (p:Person {id: $id})-[:HAS_RECORD]->(r:SourceRecord)
RETURN r.key AS key ORDER BY r.createdAt, r.key
"""

_RECORD_PERSON: LiteralString = """
MATCH (r:SourceRecord {key: $key})
OPTIONAL MATCH (p:Person)-[:HAS_RECORD]->(r)
RETURN r.key AS key, p.id AS person
"""

_DECIDED: LiteralString = """
MATCH (:SourceRecord {key: $a})-[l:MUST_LINK|CANNOT_LINK]-(:SourceRecord {key: $b})
RETURN type(l) AS type, l.actor AS actor, toString(l.at) AS at
"""

_CANNOT_BETWEEN: LiteralString = """
MATCH (:Person {id: $a})-[:HAS_RECORD]->(x)-[:CANNOT_LINK]-(y)<-[:HAS_RECORD]-(:Person {id: $b})
RETURN x.key AS a, y.key AS b
"""


class Resolver:
    """Resolves source records into people with one rule set (default: the packaged rules).

    All methods raise :class:`graph.errors.Neo4jError` when Neo4j fails; a failed
    transaction leaves nothing half-written, and transient errors (deadlocks) are retried by
    the driver's managed transactions.
    """

    def __init__(
        self,
        driver: neo4j.Driver,
        settings: Settings,
        rules: RuleSet | None = None,
        *,
        actor: str = "system",
    ) -> None:
        self.driver = driver
        self.settings = settings
        self.rules = rules or load_rules(settings.rules_file)
        self.actor = actor
        self._model_key: str | None = None
        self._model: CompiledModel | None = None

    @property
    def model(self) -> CompiledModel:
        """The match model resolution scores with: the active stored model (``c360 model
        train``), else the packaged default; re-read when another process activates one (see
        :data:`graph.store.match_models.CACHE_TTL_S`)."""
        stored = match_models.active_model(self.driver, self.settings)
        key = stored.version if stored else None
        if self._model is None or key != self._model_key:
            if stored is not None and stored.json:
                tf = tf_from_json(stored.tf) if stored.tf else None
                self._model = compile_model(model_from_json(stored.json), tf)
            else:
                self._model = compile_model(load_model())
            self._model_key = key
        return self._model

    # -- real time -------------------------------------------------------------------------
    def warm_up(self) -> None:
        """Prepare real-time resolution: Neo4j plans its statements (0.5-1.5 s, once per
        server) and the active model is loaded, so the first ingested record does not pay
        for either. Writes nothing; raises :class:`graph.errors.Neo4jError` when Neo4j
        fails."""
        self._write(components.warm_up)
        _ = self.model

    def resolve(self, keys: Sequence[str], *, actor: str | None = None) -> ResolutionResult:
        """Resolve the records ``keys`` (just ingested or changed) in one transaction."""
        return self._write(lambda tx: self.resolve_in(tx, keys, actor=actor))

    def resolve_pending(
        self, *, actor: str | None = None, batch_size: int = 1000, show_progress: bool = True
    ) -> int:
        """Resolve every record pending resolution (``:Pending``), ``batch_size`` records per
        transaction, in key order; returns how many were pending. A progress bar on stderr
        shows records resolved. Records stored while it runs are their own writer's to
        resolve, so it always ends. Raises :class:`graph.errors.Neo4jError` when Neo4j fails
        (what is resolved stays resolved; the rest stays pending)."""
        keys = records.pending_keys(self.driver, self.settings)
        if not keys:
            return 0
        with tqdm(
            total=len(keys),
            desc="resolve pending",
            unit=" records",
            disable=None if show_progress else True,
            mininterval=0.5,
        ) as bar:
            for i in range(0, len(keys), batch_size):
                chunk = keys[i : i + batch_size]
                self.resolve(chunk, actor=actor)
                bar.update(len(chunk))
        return len(keys)

    def resolve_in(
        self, tx: neo4j.ManagedTransaction, keys: Sequence[str], *, actor: str | None = None
    ) -> ResolutionResult:
        """Resolve the records ``keys`` inside the caller's write transaction ``tx``."""
        keys = sorted(set(keys))
        limits = self.rules.limits
        component = components.read_component(
            tx, keys, limits.max_identifier_records, limits.max_block_records
        )
        return self._apply(tx, component, keys, actor or self.actor)

    def ingest_record(
        self, source_id: str, record: Mapping[str, Any], *, actor: str | None = None
    ) -> tuple[RecordOutcome, RecordResolution]:
        """Ingest one source record (native or canonical field names) and resolve it, in one
        transaction: ``(outcome, resolution)``. The real-time path of the API.

        A record sent again unchanged (a client retrying after an uncertain commit) gets the
        decision stored for it the first time (created, linked or merged, with its rule and
        score), never a second person. Raises :class:`ValidationError` naming every bad
        field and :class:`NotFound` for an unregistered source; nothing is written then.
        """

        def resolve(tx: neo4j.ManagedTransaction, keys: list[str]) -> RecordResolution:
            resolution = self.resolve_in(tx, keys, actor=actor).of(keys[0])
            if resolution.decision != "unchanged":
                return resolution
            stored = components.stored_decision(tx, keys[0])
            if stored is None or stored["kind"] is None:
                return resolution
            return RecordResolution(
                resolution.key,
                stored["person"],
                stored["kind"].lower(),
                stored["rule"],
                stored["score"],
                tuple(stored["absorbed"]),
            )

        return ingest_and_resolve(self.driver, self.settings, source_id, record, resolve)

    def _apply(
        self,
        tx: neo4j.ManagedTransaction,
        component: components.Component,
        keys: Sequence[str],
        actor: str,
    ) -> ResolutionResult:
        new_ids: list[str] = []

        def new_id() -> str:
            new_ids.append(new_person_id())
            return new_ids[-1]

        model = self.model
        features = {r.key: r.features() for r in component.records}
        records = focus(
            component.records,
            keys,
            self.rules,
            model,
            features=features,
            regroup=component.regroup,
        )
        inside = {r.key for r in records}
        plan = make_plan(
            records,
            self.rules,
            new_id=new_id,
            must_links=[(a, b) for a, b in component.must if a in inside and b in inside],
            cannot_links=[(a, b) for a, b in component.cannot if a in inside and b in inside],
            features=features,
            refresh=keys,
            model=model,
        )
        event_ids = components.apply_plan(
            tx,
            plan,
            actor=actor,
            rules_version=self.rules.version,
            new_people=new_ids,
            model_version=model.model.version,
        )
        return _result(plan, records, keys, event_ids)

    def _write(self, work: Callable[[neo4j.ManagedTransaction], Any]) -> Any:
        with (
            translate_errors(self.settings),
            self.driver.session(database=self.settings.neo4j_database) as session,
        ):
            return session.execute_write(work)

    # -- explanations ------------------------------------------------------------------------
    def explain_pair(self, a: str, b: str) -> explain.PairExplanation:
        """Why records ``a`` and ``b`` are or are not one person (every rule's scores)."""
        return explain.explain_pair(self.driver, self.settings, self.rules, a, b, self.model)

    def explain_person(self, person_or_alias: str) -> explain.PersonExplanation:
        """Why a person (found by ID or alias) holds each of its records."""
        return explain.explain_person(self.driver, self.settings, self.person_id(person_or_alias))

    # -- steward decisions -----------------------------------------------------------------
    def person_id(self, person_or_alias: str) -> str:
        """The current ID for a person ID or an absorbed alias; raises :class:`NotFound`."""
        with (
            translate_errors(self.settings),
            self.driver.session(database=self.settings.neo4j_database) as session,
        ):
            found = session.execute_read(components.find_person_id, person_or_alias)
        if found is None:
            raise NotFound(f"no person with id {person_or_alias!r}")
        return found

    def merge_people(
        self, a: str, b: str, *, actor: str | None = None, reason: str = "", override: bool = False
    ) -> ResolutionResult:
        """Merge two people by a steward's decision (a must-link between their oldest records).

        The oldest 360 ID survives; the other becomes an alias. Raises :class:`NotFound` for an
        unknown ID and :class:`Conflict` when a steward's cannot-link (an earlier split)
        separates them, unless ``override``: then those cannot-links are replaced.
        """
        pa, pb = self.person_id(a), self.person_id(b)
        if pa == pb:
            raise Conflict(f"{a} and {b} are already the same person ({pa})")
        separated = read(self.driver, self.settings, _CANNOT_BETWEEN, a=pa, b=pb)
        if separated and not override:
            raise Conflict(
                f"a steward's cannot-link (an earlier split) keeps {pa} and {pb} "
                "apart; merge with override (`c360 merge --override`, or mergePeople with "
                "override: true) to replace it"
            )
        ka = read(self.driver, self.settings, _PERSON_RECORDS, id=pa)[0]["key"]
        kb = read(self.driver, self.settings, _PERSON_RECORDS, id=pb)[0]["key"]
        pairs = [(ka, kb)] + [(r["a"], r["b"]) for r in separated]
        return self._decide("MUST_LINK", pairs, actor, reason)

    def split_record(
        self, key: str, *, actor: str | None = None, reason: str = ""
    ) -> ResolutionResult:
        """Split record ``key`` out of its person by a steward's decision.

        Stores a cannot-link between the record and every other record of the person, so the
        same evidence never re-merges them (also after ``resolve_all``). The part holding the
        person's oldest record keeps its ID. Raises :class:`NotFound` for an unknown or
        unresolved record and :class:`Conflict` when the record is alone in its person.
        """
        if ":" not in key:
            raise ValidationError(FieldError("recordKey", "must be source:id, e.g. shop:C1"))
        rows = read(self.driver, self.settings, _RECORD_PERSON, key=key)
        if not rows:
            raise NotFound(f"no source record {key!r}")
        person_id = rows[0]["person"]
        if person_id is None:
            raise NotFound(f"source record {key!r} is not resolved to a person yet")
        others = [
            r["key"]
            for r in read(self.driver, self.settings, _PERSON_RECORDS, id=person_id)
            if r["key"] != key
        ]
        if not others:
            raise Conflict(f"{key} is the only record of {person_id}: nothing to split")
        return self._decide("CANNOT_LINK", [(key, o) for o in others], actor, reason)

    def decide_possible_match(
        self, key: str, *, accept: bool, actor: str | None = None, reason: str = ""
    ) -> ResolutionResult:
        """A steward's answer to a possible match (``a|b``, see :mod:`graph.store.review`):
        accept stores a must-link between its two records (their people merge), reject a
        cannot-link (they stay apart, also after ``resolve_all``); either way it leaves the
        queue. Raises :class:`Conflict` for a pair a steward has decided already (it left the
        queue then) and :class:`NotFound` for a key not in the queue."""
        found = review.possible_match(self.driver, self.settings, key)
        if found is None:
            a, _, b = key.partition("|")
            decided = read(self.driver, self.settings, _DECIDED, a=a, b=b) if b else []
            if decided:
                d = decided[0]
                verb = "accepted (must-link)" if d["type"] == "MUST_LINK" else "rejected"
                raise Conflict(
                    f"possible match {key!r} was already {verb} by {d['actor']} at {d['at']}; "
                    "a merge or a split changes a decision (`c360 merge` / `c360 split`, or the "
                    "mergePeople / splitRecord mutations)"
                )
            raise NotFound(f"no possible match {key!r} in the review queue")
        link = "MUST_LINK" if accept else "CANNOT_LINK"
        return self._decide(link, [(found.a, found.b)], actor, reason)

    def _decide(
        self, link_type: str, pairs: list[tuple[str, str]], actor: str | None, reason: str
    ) -> ResolutionResult:
        actor = actor or self.actor
        keys = sorted({k for pair in pairs for k in pair})

        def work(tx: neo4j.ManagedTransaction) -> ResolutionResult:
            for a, b in pairs:
                tx.run(_ADD_LINK, a=a, b=b, type=link_type, actor=actor, reason=reason).consume()
            limits = self.rules.limits
            component = components.read_component(
                tx, keys, limits.max_identifier_records, limits.max_block_records
            )
            return self._apply(tx, component, keys, actor)

        return self._write(work)

    # -- batch -----------------------------------------------------------------------------
    def resolve_all(
        self, *, actor: str | None = None, batch_size: int = 5000, show_progress: bool = True
    ) -> BatchReport:
        """Re-resolve every record in memory and write the differences in batches.

        Same clustering as :meth:`resolve`; people whose records do not change are not
        touched, and IDs follow the same policy, so running it twice changes nothing. The
        records read stop being pending once every write is done (a run killed before
        leaves them pending).
        """
        import time

        actor = actor or self.actor
        report = BatchReport()
        started = time.monotonic()
        limits = self.rules.limits
        records: list[RecordData] = []
        stored_blocks: dict[str, list[str]] = {}
        with (
            translate_errors(self.settings),
            self.driver.session(
                database=self.settings.neo4j_database, default_access_mode=neo4j.READ_ACCESS
            ) as session,
        ):
            with tqdm(
                desc="read records",
                unit=" records",
                disable=None if show_progress else True,
                mininterval=0.5,
            ) as bar:

                def read(tx: neo4j.ManagedTransaction) -> None:
                    records.clear()
                    for record, blocks in components.read_all_records(
                        tx, limits.max_identifier_records
                    ):
                        records.append(record)
                        stored_blocks[record.key] = blocks
                        bar.update(1)

                session.execute_read(read)
            must, cannot = session.execute_read(components.read_links)
            stored_golden = session.execute_read(components.read_golden)
        report.records = len(records)
        report.phases["read"] = time.monotonic() - started
        features = {r.key: r.features() for r in records}
        block_rows = [
            {"key": k, "blocks": b}
            for k, f in features.items()
            if (b := probabilistic_keys(f)) != sorted(stored_blocks.get(k, []))
        ]
        pairs = candidate_pairs(records, features, limits.max_block_records)
        report.candidate_pairs = len(pairs)
        new_ids: list[str] = []

        def new_id() -> str:
            new_ids.append(new_person_id())
            return new_ids[-1]

        model = self.model
        plan = make_plan(
            records,
            self.rules,
            new_id=new_id,
            must_links=must,
            cannot_links=cannot,
            pairs=pairs,
            features=features,
            stored_golden=stored_golden,
            model=model,
        )
        report.phases["cluster"] = time.monotonic() - started - report.phases["read"]
        steps: list[tuple[LiteralString, str, list[Any], dict[str, Any]]] = [
            (components.SET_BLOCKS, "blocks", block_rows, {})
        ] + components.plan_steps(
            plan,
            actor=actor,
            rules_version=self.rules.version,
            new_people=new_ids,
            model_version=model.model.version,
        )
        # last, once their people are written: the records read here are resolved
        steps.append((components.UNMARK_PENDING, "resolved", sorted(features), {}))
        total = sum(len(rows) for _, _, rows, _ in steps)
        with tqdm(
            total=total,
            desc="write",
            unit=" rows",
            disable=None if show_progress else True,
            mininterval=0.5,
        ) as bar:
            for query, name, rows, params in steps:
                step_started = time.monotonic()
                for i in range(0, len(rows), batch_size):
                    chunk = rows[i : i + batch_size]
                    self._write(_run_step(query, {name: chunk, **params}))
                    bar.update(len(chunk))
                report.phases[f"write {name}"] = (
                    report.phases.get(f"write {name}", 0.0) + time.monotonic() - step_started
                )
        report.people = len(plan.assignments)
        report.created = sum(1 for e in plan.events if e.kind == "CREATED")
        report.merged = sum(1 for e in plan.events if e.kind == "MERGED")
        report.split = sum(1 for e in plan.events if e.kind == "SPLIT")
        report.relinked = len(plan.links)
        report.seconds = time.monotonic() - started
        report.phases["write"] = report.seconds - report.phases["read"] - report.phases["cluster"]
        return report


def _run_step(
    query: LiteralString, params: dict[str, Any]
) -> Callable[[neo4j.ManagedTransaction], None]:
    def work(tx: neo4j.ManagedTransaction) -> None:
        tx.run(query, params).consume()

    return work


def _result(
    plan: Plan, component: list[RecordData], keys: Sequence[str], event_ids: list[str]
) -> ResolutionResult:
    before = {r.key: r.person for r in component}
    person_of = {k: a for a in plan.assignments for k in a.keys}
    links = {link.key: link for link in plan.links}
    out = []
    for key in keys:
        a = person_of.get(key)
        if a is None:
            out.append(RecordResolution(key, None, "unresolved"))
            continue
        was = before.get(key)
        if was == a.person_id:
            decision = "unchanged"
        elif a.absorbed and (was is None or was in a.absorbed):
            decision = "merged"
        elif was is None:
            decision = "created" if a.is_new else "linked"
        else:
            decision = "moved"
        link = links.get(key)
        out.append(
            RecordResolution(
                key,
                a.person_id,
                decision,
                link.rule if link else None,
                link.score if link else None,
                a.absorbed,
            )
        )
    return ResolutionResult(
        tuple(out),
        tuple(event_ids),
        created=sum(1 for e in plan.events if e.kind == "CREATED"),
        merged=sum(1 for e in plan.events if e.kind == "MERGED"),
        split=sum(1 for e in plan.events if e.kind == "SPLIT"),
        people=tuple(sorted({a.person_id for a in plan.assignments if a.person_id in plan.golden})),
    )


def resolve_after_ingest(resolver: Resolver) -> Callable[[str, list[tuple[str, str]]], None]:
    """An ``after_batch`` hook for :mod:`graph.ingest` that resolves every record a batch
    created or updated, in real time (one resolution transaction per batch), and those it
    found unchanged but still pending (stored by a run that died before resolving them)."""

    def hook(file_type: str, outcomes: list[tuple[str, str]]) -> None:
        if file_type != "records":
            return
        keys = [key for key, outcome in outcomes if outcome in ("created", "updated")]
        unchanged = [key for key, outcome in outcomes if outcome == "unchanged"]
        if unchanged:
            keys += records.pending_among(resolver.driver, resolver.settings, unchanged)
        if keys:
            resolver.resolve(keys)

    return hook
