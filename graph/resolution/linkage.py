"""Clustering scored pairs without chaining: a weak link never glues two strong groups. Pure.

Single-linkage (transitive closure) lets one pair just above the link threshold merge two
people of several records each. Here pairs are joined strongest first, as in
:mod:`graph.resolution.clustering`, but a join of two groups must also hold at group level
(:func:`may_join`):

* average linkage: the mean match weight over every *scored* cross pair (the candidate pairs
  between the groups, below-threshold ones included) reaches the link threshold, so a record
  strongly contradicting the other group keeps it out;
* support: when both groups hold two or more records, the join needs a second cross pair at
  the threshold, or one link at least ``margin`` bits above it.

Unscored cross pairs (not candidates: they share no blocking key) count as no evidence either
way. Weights are Fellegi-Sunter match weights in bits (:mod:`graph.resolution.fs_score`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

__all__ = ["cluster_scored", "may_join"]


def may_join(
    link_weight: float,
    cross_weights: Sequence[float],
    size_a: int,
    size_b: int,
    *,
    threshold: float,
    margin: float,
) -> bool:
    """Whether two groups of ``size_a`` and ``size_b`` records may join through a pair of
    weight ``link_weight`` (bits), ``cross_weights`` being the weights of every scored pair
    between the groups (that pair included)."""
    if link_weight < threshold:
        return False
    if cross_weights and sum(cross_weights) / len(cross_weights) < threshold:
        return False
    if min(size_a, size_b) < 2:
        return True
    supporting = sum(1 for w in cross_weights if w >= threshold)
    return supporting >= 2 or link_weight >= threshold + margin


def cluster_scored(
    keys: Iterable[str],
    weights: Mapping[tuple[str, str], float],
    *,
    threshold: float,
    margin: float,
) -> list[list[str]]:
    """Clusters (sorted lists of keys, sorted) of ``keys`` from scored pairs ``weights``
    (``(a, b)`` -> match weight), joining pairs at ``threshold`` or above, strongest first
    (ties by keys, so the result does not depend on input order), each join checked by
    :func:`may_join`. Pairs naming unknown keys are ignored."""
    members: dict[str, list[str]] = {k: [k] for k in keys}
    root = {k: k for k in members}
    neighbours: dict[str, dict[str, float]] = {}
    for (a, b), w in weights.items():
        if a in root and b in root and a != b:
            neighbours.setdefault(a, {})[b] = w
            neighbours.setdefault(b, {})[a] = w
    links = sorted(
        (
            (-w, min(a, b), max(a, b))
            for (a, b), w in weights.items()
            if w >= threshold and a in root and b in root and a != b
        )
    )
    for negative, a, b in links:
        ra, rb = root[a], root[b]
        if ra == rb:
            continue
        small, large = (ra, rb) if len(members[ra]) <= len(members[rb]) else (rb, ra)
        cross = [
            w
            for k in members[small]
            for other, w in neighbours.get(k, {}).items()
            if root[other] == large
        ]
        if not may_join(
            -negative,
            cross,
            len(members[small]),
            len(members[large]),
            threshold=threshold,
            margin=margin,
        ):
            continue
        for k in members[small]:
            root[k] = large
        members[large].extend(members.pop(small))
    return sorted(sorted(group) for group in members.values())
