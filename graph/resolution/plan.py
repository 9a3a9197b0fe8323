"""Plan a resolution: the records of a graph component in, the changes to make out. Pure.

Both real-time resolution (the component around a few changed records) and batch resolution
(every record) describe their input as :class:`RecordData` and get a :class:`Plan` back:
which person every record belongs to, which links change and why, the people merged, split or
created, their golden attributes, and the audit events to write. Applying the plan is the job
of :mod:`graph.store.components`.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from itertools import combinations
from typing import Any

from graph.resolution.blocking import probabilistic_keys
from graph.resolution.clustering import (
    MODEL_RANK,
    MODEL_RULE,
    Assignment,
    Edge,
    assign_ids,
    cluster,
)
from graph.resolution.features import Features, record_features
from graph.resolution.fs_score import CompiledModel, PairScore
from graph.resolution.reconcile import RecordValues, reconcile_all
from graph.resolution.rules import RECONCILED_ATTRIBUTES, Conflict, RuleSet
from graph.resolution.scoring import Evidence, match_evidence

__all__ = [
    "EventSpec",
    "LinkSpec",
    "Plan",
    "RecordData",
    "candidate_pairs",
    "conflict_penalty",
    "focus",
    "hard_conflict",
    "make_plan",
]


@dataclass(frozen=True, slots=True)
class RecordData:
    """A source record as resolution reads it from the graph.

    ``props``: stored properties (givenName, email, birthDate as ISO ...); ``identifiers``:
    ``(type, value)`` pairs usable as evidence (placeholders already left out); ``person``
    and ``person_created``: its person now, if any; ``link_rule``: the rule of its current link;
    ``former_person``: the person a merge took it from, while that ID is an alias (a split
    taking the record off again gives that ID back, see
    :func:`~graph.resolution.clustering.assign_ids`).
    """

    key: str
    source: str
    priority: int
    created_at: str  # sortable text: when the record was first ingested
    updated_at: str | None
    props: Mapping[str, Any]
    identifiers: tuple[tuple[str, str], ...] = ()
    person: str | None = None
    person_created: str | None = None
    link_rule: str | None = None
    possible: tuple[str, ...] = ()  # keys of the possible matches it is part of now
    former_person: str | None = None

    def features(self) -> Features:
        """Comparison features; email, phone and loyalty id only when their identifier is
        evidence (left out when shared by too many records)."""
        evidence = dict(self.identifiers)
        return record_features(
            self.key,
            self.source,
            self.props,
            evidence.get("EMAIL") or None,
            evidence.get("PHONE"),
            evidence.get("LOYALTY_ID"),
        )


@dataclass(frozen=True, slots=True)
class LinkSpec:
    """The new ``HAS_RECORD`` of a record: rule, score, scores, and the record it matched."""

    key: str
    person_id: str
    rule: str
    score: float
    scores: str
    matched: str | None


@dataclass(frozen=True, slots=True)
class PossibleSpec:
    """A possible match for a steward: records ``a`` < ``b`` (in different people), their
    match weight (bits) and each comparison's ``{level, weight}`` as JSON."""

    key: str
    a: str
    b: str
    weight: float
    comparisons: str


@dataclass(frozen=True, slots=True)
class EventSpec:
    """A ``ResolutionEvent`` to write: CREATED, LINKED, MERGED or SPLIT."""

    kind: str
    person_id: str
    record_keys: tuple[str, ...]
    rule: str | None
    score: float | None
    explanation: str
    absorbed: tuple[str, ...] = ()
    split_from: str | None = None


@dataclass(frozen=True, slots=True)
class Plan:
    """Everything a resolution changes; empty lists when nothing changes."""

    assignments: list[Assignment]
    links: list[LinkSpec]
    golden: dict[str, dict[str, Any]]
    events: list[EventSpec]
    absorbed: dict[str, str] = field(default_factory=dict)  # absorbed id -> survivor id
    possible: list[PossibleSpec] = field(default_factory=list)  # the review queue's pairs
    cleared: list[str] = field(default_factory=list)  # possible-match keys no longer possible

    @property
    def touched(self) -> list[str]:
        return sorted(self.golden)


def candidate_pairs(
    records: Sequence[RecordData],
    features: Mapping[str, Features],
    max_group: int,
    *,
    blocks: Mapping[str, Sequence[str]] | None = None,
) -> set[tuple[str, str]]:
    """Pairs of records sharing an identifier or a blocking key, skipping groups larger than
    ``max_group`` (generic evidence). ``blocks``: each record's
    :func:`~graph.resolution.blocking.probabilistic_keys`, when the caller has them."""
    pairs: set[tuple[str, str]] = set()
    for keys in _groups(records, features, max_group, blocks):
        pairs.update((a, b) if a < b else (b, a) for a, b in combinations(sorted(keys), 2))
    return pairs


def _groups(
    records: Sequence[RecordData],
    features: Mapping[str, Features],
    max_group: int,
    blocks: Mapping[str, Sequence[str]] | None = None,
) -> list[list[str]]:
    """The keys of the records sharing each identifier or blocking key, for the groups of
    2 to ``max_group`` records."""
    groups: dict[str, list[str]] = defaultdict(list)
    for r in records:
        for t, v in r.identifiers:
            groups[f"{t}:{v}"].append(r.key)
        for key in probabilistic_keys(features[r.key]) if blocks is None else blocks[r.key]:
            groups[key].append(r.key)
    return [keys for keys in groups.values() if 1 < len(keys) <= max_group]


def focus(
    records: Sequence[RecordData],
    seeds: Iterable[str],
    rules: RuleSet,
    model: CompiledModel | None,
    *,
    features: Mapping[str, Features] | None = None,
    regroup: Iterable[str] = (),
) -> list[RecordData]:
    """The part of a read component that resolving ``seeds`` can change, for real time.

    A component holds every candidate of the seeds (records sharing an identifier or a blocking
    key, up to a hundred for a common name) and every record of their people. Only people the
    seeds relate to can change: those holding a seed, a candidate some rule matches or the
    model weighs at least its review threshold, a stored possible match of a seed, or a
    ``regroup`` record (the caller's: must- and cannot-link partners, holders of an identifier
    that just became generic; see graph.store.components.Component). The others keep their
    records, links and possible matches, so clustering them again would only cost time:
    :func:`make_plan` on the focus scores the seeds' candidate pairs once more and the pairs
    inside the focused people, instead of every pair of the component. Returns those people's
    records and the related unresolved ones, in ``records`` order; ``features`` (key ->
    Features) may be passed when computed already."""
    seeds = set(seeds)
    if features is None:
        features = {r.key: r.features() for r in records}
    pairs: set[tuple[str, str]] = set()
    for keys in _groups(records, features, rules.limits.max_block_records):
        for seed in seeds.intersection(keys):
            pairs.update((seed, k) if seed < k else (k, seed) for k in keys if k != seed)
    edges, weights = _edges(pairs, features, rules, model)
    related = set(seeds) | set(regroup)
    related.update(k for e in edges for k in (e.a, e.b))
    if model is not None:
        related.update(k for pair, w in weights.items() if w >= model.model.review for k in pair)
    for r in records:
        if r.key in seeds:
            related.update(k for pm in r.possible for k in pm.split("|", 1))
    people = {r.person for r in records if r.key in related and r.person is not None}
    return [r for r in records if r.key in related or (r.person is not None and r.person in people)]


def _edges(
    pairs: Iterable[tuple[str, str]],
    features: Mapping[str, Features],
    rules: RuleSet,
    model: CompiledModel | None,
) -> tuple[list[Edge], dict[tuple[str, str], float]]:
    """Rule edges, model edges (weight at the link threshold, no hard conflict) and the match
    weight of every pair the model scored (the pairs no rule matched)."""
    rank = {rule.name: n for n, rule in enumerate(rules.rules)}
    soft = any(c.penalty and not c.hard for c in rules.conflicts)
    edges = []
    weights: dict[tuple[str, str], float] = {}
    for a, b in pairs:
        fa, fb = features[a], features[b]
        evidence = match_evidence(fa, fb, rules)
        if evidence is not None:
            edges.append(Edge(a, b, evidence, rank[evidence.rule]))
            continue
        if model is None:
            continue
        weight = model.weight(fa, fb)
        if soft and weight >= model.model.review:
            weight += conflict_penalty(model, model.score(fa, fb), fa, fb, rules)
        weights[(a, b)] = weight
        if weight >= model.model.link and not hard_conflict(fa, fb, rules):
            edges.append(Edge(a, b, _model_evidence(model.score(fa, fb), weight), MODEL_RANK))
    return edges, weights


def _penalty(
    score: PairScore,
    fields: Sequence[str],
    fa: Features,
    fb: Features,
    conflicts: Sequence[Conflict],
) -> float:
    """The soft conflicts' penalties (bits) for fields whose values differ and that the model
    put at its ``else`` level (unlike beyond a typo), where their ``when`` fields agree."""
    level = dict(zip(fields, score.levels, strict=True))
    total = 0.0
    for c in conflicts:
        va, vb = getattr(fa, c.field), getattr(fb, c.field)
        if va and vb and va != vb and level.get(c.field) == "else" and _agree(fa, fb, c.when):
            total += c.penalty
    return total


def _agree(fa: Features, fb: Features, fields: Sequence[str]) -> bool:
    """Whether ``fa`` and ``fb`` hold the same, non-empty value in each of ``fields`` (in one
    of an entry's ``|``-separated alternatives)."""
    return all(
        any((v := getattr(fa, f)) and v == getattr(fb, f) for f in entry.split("|"))
        for entry in fields
    )


def conflict_penalty(
    model: CompiledModel, score: PairScore, fa: Features, fb: Features, rules: RuleSet
) -> float:
    """The bits (zero or negative) the rule file's soft conflicts add to the match weight of
    ``fa`` and ``fb`` (``score`` = ``model.score(fa, fb)``), as resolution adds them: only
    from the review threshold up. Resolution links on the sum."""
    soft = [c for c in rules.conflicts if c.penalty and not c.hard]
    if not soft or score.weight < model.model.review:
        return 0.0
    if score.swapped:  # the model compared a's given name with b's family name: so do these
        first, second = model.model.swap
        fb = replace(fb, **{first: getattr(fb, second), second: getattr(fb, first)})
    return _penalty(score, model.fields, fa, fb, soft)


def hard_conflict(fa: Features, fb: Features, rules: RuleSet) -> bool:
    """Whether a conflict the rule file marks hard holds: both values set and different (the
    match model may not link such records either)."""
    return any(
        c.hard and (va := getattr(fa, c.field)) and (vb := getattr(fb, c.field)) and va != vb
        for c in rules.conflicts
    )


def _model_evidence(score: PairScore, weight: float) -> Evidence:
    """A model link's evidence: the match weight (penalties included) as its score, each
    comparison's weight."""
    return Evidence(
        MODEL_RULE,
        round(weight, 2),
        {
            f"{name}:{level}": round(w, 2)
            for name, level, w in zip(score.comparisons, score.levels, score.weights, strict=True)
            if level != "null"
        },
    )


def _comparisons_json(score: PairScore) -> str:
    return _SORTED_JSON.encode(
        {
            name: {"level": level, "weight": round(w, 2)}
            for name, level, w in zip(score.comparisons, score.levels, score.weights, strict=True)
        }
    )


def _possible(
    records: Sequence[RecordData],
    features: Mapping[str, Features],
    weights: Mapping[tuple[str, str], float],
    clusters: Sequence[Sequence[str]],
    model: CompiledModel | None,
    cannot_links: Iterable[tuple[str, str]],
) -> tuple[list[PossibleSpec], list[str]]:
    """The review queue of a component: pairs weighing at least the review threshold whose
    records ended in different people (links the no-chaining guard refused included), except
    pairs between two people a steward kept apart (a cannot-link between any of their
    records: accepting another pair of theirs would undo that decision); and the keys of
    stored possible matches among these records that no longer are."""
    fresh: list[PossibleSpec] = []
    if model is not None:
        cluster_of = {k: n for n, keys in enumerate(clusters) for k in keys}
        apart = {
            (min(ca, cb), max(ca, cb))
            for a, b in cannot_links
            if (ca := cluster_of.get(a)) is not None and (cb := cluster_of.get(b)) is not None
        }
        for (a, b), w in sorted(weights.items()):
            ca, cb = cluster_of.get(a), cluster_of.get(b)
            if w < model.model.review or ca == cb:
                continue
            if ca is not None and cb is not None and (min(ca, cb), max(ca, cb)) in apart:
                continue
            score = model.score(features[a], features[b])
            fresh.append(PossibleSpec(f"{a}|{b}", a, b, round(w, 2), _comparisons_json(score)))
    inside = {r.key for r in records}
    keep = {p.key for p in fresh}
    stored = {key for r in records for key in r.possible}
    cleared = sorted(key for key in stored if key not in keep and set(key.split("|", 1)) <= inside)
    return fresh, cleared


#: Attributes that describe one postal address: taken together from one record.
ADDRESS_BLOCK = ("addressLine1", "addressLine2", "city", "postcode", "country")


# json.dumps(value, sort_keys=True) builds a new encoder on every call; this one is built once.
_SORTED_JSON = json.JSONEncoder(sort_keys=True)


def _golden(records: Sequence[RecordData], rules: RuleSet) -> dict[str, Any]:
    # reconcile reads only the reconciled attributes of ``values``: the props will do
    values = [
        RecordValues(
            r.key, r.priority, r.updated_at, r.props, _attributes(r.props.get("attributes"))
        )
        for r in records
    ]
    chosen, merged = reconcile_all(values, rules)
    golden: dict[str, Any] = dict.fromkeys(RECONCILED_ATTRIBUTES)
    sources: dict[str, str] = {}
    for attribute, (value, record_key, _) in chosen.items():
        golden[attribute] = value
        sources[attribute] = record_key
    if "addressLine1" in chosen:
        # an address is one fact: street, city and postcode come from the record whose street
        # won, never stitched from several records into an address nobody has
        winner = next(r for r in records if r.key == chosen["addressLine1"][1])
        for attribute in ADDRESS_BLOCK:
            value = winner.props.get(attribute)
            if value not in (None, "") or attribute != "country":
                golden[attribute] = value
                sources[attribute] = winner.key
    golden["sources"] = sorted({r.source for r in records})
    golden["recordCount"] = len(records)
    golden["goldenSources"] = _SORTED_JSON.encode(sources)
    golden["attributes"] = _SORTED_JSON.encode(merged) if merged else None
    return golden


def _same_golden(fresh: Mapping[str, Any], stored: Mapping[str, Any]) -> bool:
    def norm(value: Any) -> Any:
        if value is None or value == []:
            return None
        return list(value) if isinstance(value, list | tuple) else str(value)

    return all(norm(v) == norm(stored.get(k)) for k, v in fresh.items())


def _attributes(raw: Any) -> dict[str, Any]:
    if not raw:
        return {}
    try:
        value = json.loads(raw) if isinstance(raw, str) else dict(raw)
    except (ValueError, TypeError):
        return {}
    return value if isinstance(value, dict) else {}


def make_plan(
    records: Sequence[RecordData],
    rules: RuleSet,
    *,
    new_id: Callable[[], str],
    must_links: Iterable[tuple[str, str]] = (),
    cannot_links: Iterable[tuple[str, str]] = (),
    pairs: Iterable[tuple[str, str]] | None = None,
    features: Mapping[str, Features] | None = None,
    refresh: Iterable[str] = (),
    stored_golden: Mapping[str, Mapping[str, Any]] | None = None,
    model: CompiledModel | None = None,
) -> Plan:
    """Re-cluster ``records`` (a whole component: every record of every person involved) and
    return the changes. ``pairs`` limits which pairs are compared (default: every pair sharing
    an identifier or blocking key); ``features`` may be passed when already computed
    (extra keys are ignored).

    Golden attributes are recomputed for every person whose records change, for the people of
    the ``refresh`` record keys (records whose values changed), and, when ``stored_golden``
    (person id -> stored golden attributes) is given, for every person whose stored golden
    record differs from the one its records give now.

    With a ``model`` (:mod:`graph.resolution.fs_score`), pairs no rule matches are scored:
    those at its link threshold link (:func:`graph.resolution.clustering.cluster` keeps weak
    links from chaining groups), those from its review threshold up that end in different
    people become possible matches (``Plan.possible``)."""
    by_key = {r.key: r for r in records}
    if features is None:
        features = {r.key: r.features() for r in records}
    elif len(features) != len(by_key):
        features = {key: features[key] for key in by_key}
    if pairs is None:
        pairs = candidate_pairs(records, features, rules.limits.max_block_records)
    cannot_links = list(cannot_links)
    edges, weights = _edges(pairs, features, rules, model)
    clustering = cluster(
        features,
        edges,
        must_links=must_links,
        cannot_links=cannot_links,
        conflict_fields=[c.field for c in rules.conflicts if not c.when],
        hard_fields=[c.field for c in rules.conflicts if c.hard],
        weights=weights,
        threshold=model.model.link if model else 0.0,
        margin=model.model.join_margin if model else 0.0,
    )
    current = {r.key: r.person for r in records}
    created = {r.person: r.person_created or "" for r in records if r.person}
    age = {r.key: r.created_at for r in records}
    former = {r.key: r.former_person for r in records if r.former_person}
    assignments = assign_ids(clustering.clusters, current, created, age, new_id, former)
    links: list[LinkSpec] = []
    events: list[EventSpec] = []
    golden: dict[str, dict[str, Any]] = {}
    absorbed: dict[str, str] = {}
    refresh = set(refresh)
    size_before: dict[str, int] = defaultdict(int)
    for pid in current.values():
        if pid is not None:
            size_before[pid] += 1
    for a in assignments:
        moved = [k for k in a.keys if current[k] != a.person_id]
        lost = size_before.get(a.person_id, 0) - (len(a.keys) - len(moved))
        changed = bool(moved or a.absorbed or a.is_new or lost)
        # records that stay keep their link, unless the person lost records: then every link
        # is re-explained, since its evidence may be a record that has left
        for key in a.keys if lost else moved:
            edge = clustering.link.get(key)
            matched = None if edge is None else (edge.b if edge.a == key else edge.a)
            links.append(
                LinkSpec(
                    key,
                    a.person_id,
                    edge.evidence.rule if edge else "first_record",
                    edge.evidence.score if edge else 100.0,
                    _SORTED_JSON.encode(edge.evidence.scores if edge else {}),
                    matched,
                )
            )
        for old in a.absorbed:
            absorbed[old] = a.person_id
        if changed:
            golden[a.person_id] = _golden([by_key[k] for k in a.keys], rules)
            events.extend(_events(a, moved, current, clustering.link))
        elif refresh.intersection(a.keys):
            golden[a.person_id] = _golden([by_key[k] for k in a.keys], rules)
        elif stored_golden is not None:
            fresh = _golden([by_key[k] for k in a.keys], rules)
            if not _same_golden(fresh, stored_golden.get(a.person_id, {})):
                golden[a.person_id] = fresh
    possible, cleared = _possible(
        records, features, weights, clustering.clusters, model, cannot_links
    )
    return Plan(assignments, links, golden, events, absorbed, possible, cleared)


def _events(
    a: Assignment, moved: list[str], current: Mapping[str, str | None], link: Mapping[str, Edge]
) -> list[EventSpec]:
    def why(key: str) -> tuple[str | None, float | None, str]:
        edge = link.get(key)
        if edge is None:
            return None, None, f"{key} starts the person"
        other = edge.b if edge.a == key else edge.a
        scores = ", ".join(f"{f} {s:g}" for f, s in edge.evidence.scores.items())
        return (
            edge.evidence.rule,
            edge.evidence.score,
            (
                f"{key} matches {other} by rule {edge.evidence.rule}"
                + (f" ({scores})" if scores else "")
            ),
        )

    events: list[EventSpec] = []
    if a.is_new and a.split_from:
        rule, score, text = why(moved[0]) if moved else (None, None, "")
        events.append(
            EventSpec(
                "SPLIT",
                a.person_id,
                tuple(a.keys),
                rule,
                score,
                f"split from {a.split_from}: " + "; ".join(why(k)[2] for k in a.keys),
                split_from=a.split_from,
            )
        )
        return events
    if a.is_new:
        first = a.keys[0]
        events.append(
            EventSpec(
                "CREATED", a.person_id, (first,), None, None, f"{first} matched no existing person"
            )
        )
        moved = [k for k in moved if k != first]
    if a.absorbed:
        keys = tuple(k for k in a.keys if current.get(k) in a.absorbed)
        bridge = [k for k in moved if current.get(k) is None]
        text = f"merged {', '.join(a.absorbed)} into {a.person_id}"
        if bridge:
            text += "; " + "; ".join(why(k)[2] for k in bridge)
        rule, score, _ = why(bridge[0]) if bridge else why(keys[0]) if keys else (None, None, "")
        events.append(
            EventSpec("MERGED", a.person_id, keys, rule, score, text, absorbed=a.absorbed)
        )
    for key in moved:
        if current.get(key) in a.absorbed:
            continue
        rule, score, text = why(key)
        events.append(EventSpec("LINKED", a.person_id, (key,), rule, score, text))
    return events
