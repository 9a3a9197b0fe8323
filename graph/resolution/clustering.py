"""Clustering: records and match edges in, clusters (people) and stable 360 IDs out. Pure.

Constrained union-find. Must-links are joined first, then match edges from the strongest
down (score, then rule order, then keys, so the result does not depend on arrival order).
Two clusters are never joined when that would put cannot-linked records together or when a
conflict field (birth date, loyalty id) would hold two different values: transitive closure
cannot chain strangers through a bridge record.

ID policy (:func:`assign_ids`), explicit and deterministic:

* each existing person is anchored at its oldest record (first ingested, then key);
* a cluster holding the anchors of several people keeps the ID of the oldest person (created
  first, then ID); the others become aliases of it (a merge);
* the part of a split person that holds its anchor keeps the ID; another part whose records a
  merge took from one absorbed person (an alias now) takes that person's ID back, so undoing a
  wrong merge gives every system that stored the absorbed ID its own person again (the
  "unmerge" of MDM hubs); other parts get new IDs;
* a cluster with no anchor is a new person.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field

from graph.resolution.features import Features
from graph.resolution.linkage import may_join
from graph.resolution.scoring import Evidence

__all__ = [
    "MODEL_RANK",
    "MODEL_RULE",
    "Assignment",
    "Clustering",
    "Edge",
    "assign_ids",
    "cluster",
]

MUST_LINK = "must_link"
#: The rule name of a link the Fellegi-Sunter model made (its score is the match weight).
MODEL_RULE = "match_model"
#: The rank of model edges: after every rule, so deterministic rules join first.
MODEL_RANK = 1_000_000


@dataclass(frozen=True, slots=True)
class Edge:
    """A reason to put records ``a`` and ``b`` in one person; ``rank`` is the rule's order."""

    a: str
    b: str
    evidence: Evidence
    rank: int = 0

    @property
    def is_model(self) -> bool:
        """A link of the match model (its score is a match weight in bits), not of a rule."""
        return self.rank == MODEL_RANK

    def sort_key(self) -> tuple:
        return (
            self.is_model,
            -self.evidence.score,
            self.rank,
            min(self.a, self.b),
            max(self.a, self.b),
        )


@dataclass(slots=True)
class _Group:
    members: set[str]
    values: dict[str, AbstractSet[str]]
    forbidden: AbstractSet[str]


# Empty values and forbidden sets are shared: merging groups rebinds them (``|=`` on a
# frozenset makes a new set), so none is ever changed in place.
_NONE: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class Clustering:
    """``clusters``: sorted lists of record keys; ``link``: per record, the edge that joined
    it to its cluster (absent for a record alone or the first of its cluster's tree)."""

    clusters: list[list[str]]
    link: dict[str, Edge] = field(default_factory=dict)


def cluster(
    records: Mapping[str, Features],
    edges: Iterable[Edge],
    *,
    must_links: Iterable[tuple[str, str]] = (),
    cannot_links: Iterable[tuple[str, str]] = (),
    conflict_fields: Sequence[str] = (),
    hard_fields: Sequence[str] | None = None,
    weights: Mapping[tuple[str, str], float] | None = None,
    threshold: float = 0.0,
    margin: float = 0.0,
) -> Clustering:
    """Cluster ``records`` (key -> features) by ``edges`` under the constraints above.

    Rule edges join first, then model edges (:data:`MODEL_RULE`) strongest first. A rule edge
    never joins groups holding different values of a ``conflict_fields`` field; a model edge
    only checks ``hard_fields`` (default: all conflict fields), since the model weighed the
    differences already, and must pass :func:`graph.resolution.linkage.may_join` over
    ``weights`` (every scored pair -> match weight, bits) with ``threshold`` and ``margin``:
    one weak link never glues two groups of several records. Edges or links naming records
    not in ``records`` are ignored.
    """
    hard = list(conflict_fields if hard_fields is None else hard_fields)
    neighbours: dict[str, dict[str, float]] = {}
    for (a, b), w in (weights or {}).items():
        neighbours.setdefault(a, {})[b] = w
        neighbours.setdefault(b, {})[a] = w
    forbidden: dict[str, set[str]] = {}
    for a, b in cannot_links:
        if a in records and b in records:
            forbidden.setdefault(a, set()).add(b)
            forbidden.setdefault(b, set()).add(a)
    # Records are their own root and group until an edge reaches them: most never are, so
    # parents and groups are made on first use, and the untouched stay single.
    parent: dict[str, str] = {}
    groups: dict[str, _Group] = {}
    link: dict[str, Edge] = {}

    def find(k: str) -> str:
        while (up := parent.get(k, k)) != k:
            parent[k] = parent.get(up, up)
            k = parent[k]
        return k

    def group(root: str) -> _Group:
        g = groups.get(root)
        if g is None:
            features = records[root]
            g = groups[root] = _Group(
                {root},
                {f: {v} if (v := f_value(features, f)) else _NONE for f in conflict_fields},
                set(forbidden[root]) if root in forbidden else _NONE,
            )
        return g

    def supported(edge: Edge, ga: _Group, gb: _Group) -> bool:
        small, large = (ga, gb) if len(ga.members) <= len(gb.members) else (gb, ga)
        cross = [
            w
            for k in small.members
            for other, w in neighbours.get(k, {}).items()
            if other in large.members
        ]
        return may_join(
            edge.evidence.score,
            cross,
            len(small.members),
            len(large.members),
            threshold=threshold,
            margin=margin,
        )

    def join(edge: Edge, *, check_values: bool) -> None:
        ra, rb = find(edge.a), find(edge.b)
        if ra == rb:
            return
        ga, gb = group(ra), group(rb)
        if ga.forbidden & gb.members:
            return
        checked = hard if edge.is_model else conflict_fields
        if check_values and any(_clash(ga.values[f], gb.values[f]) for f in checked):
            return
        if edge.is_model and not supported(edge, ga, gb):
            return
        if len(ga.members) < len(gb.members):
            ra, rb, ga, gb = rb, ra, gb, ga
        parent[rb] = ra
        ga.members |= gb.members
        ga.forbidden |= gb.forbidden
        for f in conflict_fields:
            ga.values[f] |= gb.values[f]
        del groups[rb]
        for end in (edge.a, edge.b):
            link.setdefault(end, edge)

    for a, b in sorted((min(a, b), max(a, b)) for a, b in must_links):
        if a in records and b in records:
            join(Edge(a, b, Evidence(MUST_LINK, 100.0, {}), -1), check_values=False)
    for edge in sorted((e for e in edges if e.a in records and e.b in records), key=Edge.sort_key):
        join(edge, check_values=True)
    grouped = {k for g in groups.values() for k in g.members}
    clusters = sorted(
        [*(sorted(g.members) for g in groups.values()), *([k] for k in records if k not in grouped)]
    )
    for members in clusters:  # a record's own link is the edge that brought the other side
        if len(members) == 1:
            link.pop(members[0], None)
    return Clustering(clusters, link)


def _clash(a: AbstractSet[str], b: AbstractSet[str]) -> bool:
    """Joining would add a value one side does not hold. A group may hold two birth dates
    after a steward's must-link; records agreeing with either may still join it."""
    return bool(a) and bool(b) and not (a <= b or b <= a)


def f_value(features: Features, field_name: str) -> str | None:
    value = features.get(field_name)
    return str(value) if value else None


@dataclass(frozen=True, slots=True)
class Assignment:
    """One resulting person: its ID, its record keys, whether the ID is new, the IDs of the
    people it absorbed (merge), and the ID it was split from (when new after a split)."""

    person_id: str
    keys: tuple[str, ...]
    is_new: bool
    absorbed: tuple[str, ...] = ()
    split_from: str | None = None
    reclaimed: bool = False  # the ID is an absorbed person's, taken back from its alias


def assign_ids(
    clusters: Sequence[Sequence[str]],
    current: Mapping[str, str | None],
    person_created: Mapping[str, str],
    record_age: Mapping[str, str],
    new_id: Callable[[], str],
    former: Mapping[str, str] | None = None,
) -> list[Assignment]:
    """Give every cluster a person ID by the policy in the module docstring.

    ``current``: record key -> its person ID now (or None); ``person_created``: person ID ->
    creation time (ISO, sortable); ``record_age``: record key -> first-ingested time (ISO);
    ``former``: record key -> the absorbed person (an alias now) a merge took it from.
    """
    former = former or {}
    taken = {pid for pid in current.values() if pid}
    members: dict[str, list[str]] = {}
    for key, pid in current.items():
        if pid is not None:
            members.setdefault(pid, []).append(key)
    anchor = {
        pid: min(keys, key=lambda k: (record_age.get(k, ""), k)) for pid, keys in members.items()
    }
    cluster_of = {key: n for n, keys in enumerate(clusters) for key in keys}
    claims: dict[int, list[str]] = {}
    for pid, key in anchor.items():
        if key in cluster_of:
            claims.setdefault(cluster_of[key], []).append(pid)
    result = []
    for n, keys in enumerate(clusters):
        owners = sorted(claims.get(n, []), key=lambda p: (person_created.get(p, ""), p))
        if owners:
            result.append(Assignment(owners[0], tuple(keys), False, tuple(owners[1:])))
        else:
            previous = sorted({pid for k in keys if (pid := current.get(k))})
            split_from = previous[0] if previous else None
            back = {former[k] for k in keys if k in former}
            if split_from and len(back) == 1 and not (back & taken):
                (pid,) = back
                taken.add(pid)
                result.append(Assignment(pid, tuple(keys), True, (), split_from, reclaimed=True))
            else:
                result.append(Assignment(new_id(), tuple(keys), True, (), split_from))
    return result
