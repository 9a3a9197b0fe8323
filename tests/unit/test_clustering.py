"""Unit tests for graph.resolution.clustering: constrained union-find and the 360 ID policy."""

from __future__ import annotations

import itertools
import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from graph.resolution.clustering import (
    MODEL_RANK,
    MODEL_RULE,
    Assignment,
    Edge,
    assign_ids,
    cluster,
)
from graph.resolution.features import Features
from graph.resolution.scoring import Evidence

DOB = ("birthDate",)


def records(*keys: str, **births: str) -> dict[str, Features]:
    """Features keyed by record key; ``births`` gives some of them a birth date."""
    return {k: Features(key=k, birthDate=births.get(k)) for k in keys}


def edge(a: str, b: str, score: float = 100.0, rule: str = "email", rank: int = 0) -> Edge:
    return Edge(a, b, Evidence(rule, score, {"email": score}), rank)


def pair(e: Edge) -> frozenset[str]:
    return frozenset((e.a, e.b))


# --- joining order and constraints -----------------------------------------------------------


@pytest.mark.parametrize(
    ("edges", "cannot", "expected"),
    [
        pytest.param(
            [edge("a", "b", 100), edge("b", "c", 90)],
            [("a", "c")],
            [["a", "b"], ["c"], ["d"]],
            id="stronger-edge-joins-weaker-one-left-out",
        ),
        pytest.param(
            [edge("a", "b", 90), edge("b", "c", 100)],
            [("a", "c")],
            [["a"], ["b", "c"], ["d"]],
            id="stronger-edge-wins-whichever-side-it-is-on",
        ),
        pytest.param(
            [edge("a", "b", 95, "phone_name", 2), edge("b", "c", 95, "email", 0)],
            [("c", "a")],
            [["a"], ["b", "c"], ["d"]],
            id="equal-scores-earlier-rule-wins",
        ),
        pytest.param(
            [edge("a", "b"), edge("b", "c"), edge("c", "d")],
            [("a", "d")],
            [["a", "b", "c"], ["d"]],
            id="cannot-link-holds-through-a-chain",
        ),
        pytest.param(
            [edge("a", "b"), edge("b", "c")],
            [],
            [["a", "b", "c"], ["d"]],
            id="without-constraints-edges-chain",
        ),
    ],
)
def test_a_cannot_link_is_never_crossed_even_transitively(edges, cannot, expected):
    result = cluster(records("a", "b", "c", "d"), edges, cannot_links=cannot)

    assert result.clusters == expected


@pytest.mark.parametrize(
    ("strong", "weak", "expected"),
    [
        pytest.param(("a", "c"), ("c", "b"), [["a", "c"], ["b"]], id="bridge-joins-a-first"),
        pytest.param(("c", "b"), ("a", "c"), [["a"], ["b", "c"]], id="bridge-joins-b-first"),
    ],
)
def test_conflicting_birth_dates_never_share_a_cluster_through_a_bridge_without_one(
    strong, weak, expected
):
    recs = records("a", "b", "c", a="1980-01-01", b="1990-02-02")  # c has no birth date

    result = cluster(recs, [edge(*strong, 100), edge(*weak, 90)], conflict_fields=DOB)

    assert result.clusters == expected


def test_without_conflict_fields_the_bridge_joins_everyone():
    recs = records("a", "b", "c", a="1980-01-01", b="1990-02-02")

    result = cluster(recs, [edge("a", "c", 100), edge("c", "b", 90)])

    assert result.clusters == [["a", "b", "c"]]


def test_must_links_join_before_any_edge():
    # The strong a-b edge would come first if must-links did not: then b-c could not join.
    recs = records("a", "b", "c")

    result = cluster(
        recs, [edge("a", "b", 100)], must_links=[("c", "b")], cannot_links=[("a", "c")]
    )

    assert result.clusters == [["a"], ["b", "c"]]
    assert result.link["c"].evidence.rule == "must_link"


def test_a_must_link_joins_records_no_rule_links_even_with_different_birth_dates():
    recs = records("a", "b", a="1980-01-01", b="1990-02-02")

    result = cluster(recs, [], must_links=[("a", "b")], conflict_fields=DOB)

    assert result.clusters == [["a", "b"]]


def test_a_must_link_does_not_override_a_cannot_link():
    result = cluster(records("a", "b"), [], must_links=[("a", "b")], cannot_links=[("b", "a")])

    assert result.clusters == [["a"], ["b"]]


def test_a_steward_merge_of_conflicting_records_still_takes_their_matching_records_along():
    # a1-a2 share email and birth date; b1 is the same customer with a typo in the date,
    # merged by a steward (must-link a1-b1).
    recs = records("a1", "a2", "b1", a1="1980-01-01", a2="1980-01-01", b1="1980-01-10")

    result = cluster(recs, [edge("a1", "a2")], must_links=[("a1", "b1")], conflict_fields=DOB)

    assert result.clusters == [["a1", "a2", "b1"]]


def test_edges_and_links_naming_unknown_records_are_ignored():
    result = cluster(
        records("a", "b"),
        [edge("a", "zz"), edge("a", "b")],
        must_links=[("b", "yy")],
        cannot_links=[("a", "xx")],
    )

    assert result.clusters == [["a", "b"]]


def test_clusters_and_their_members_are_sorted():
    result = cluster(records("d", "c", "b", "a"), [edge("d", "b"), edge("c", "a")])

    assert result.clusters == [["a", "c"], ["b", "d"]]


# --- link: which edge joined each record --------------------------------------------------------


def test_link_names_the_edge_that_joined_each_record():
    ab, bc, de = edge("a", "b", 100), edge("c", "b", 90, "phone_name", 2), edge("d", "e", 80)

    result = cluster(records("a", "b", "c", "d", "e", "f"), [bc, de, ab])

    assert result.link["c"] is bc  # c came in through b
    assert result.link["a"] is ab and result.link["b"] is ab
    assert result.link["d"] is de and result.link["e"] is de
    assert "f" not in result.link  # alone: nothing joined it


def test_an_edge_refused_by_a_constraint_is_no_records_link():
    refused = edge("b", "c", 90)

    result = cluster(records("a", "b", "c"), [edge("a", "b"), refused], cannot_links=[("a", "c")])

    assert "c" not in result.link
    assert all(e is not refused for e in result.link.values())


# --- order independence (property) ----------------------------------------------------------

KEYS = [f"r{n}" for n in range(7)]
_pairs = list(itertools.combinations(KEYS, 2))


@st.composite
def problems(draw):
    births = {k: draw(st.sampled_from([None, "1980-01-01", "1990-02-02"])) for k in KEYS}
    chosen = draw(st.lists(st.sampled_from(_pairs), unique=True, max_size=12))
    edges = [
        edge(a, b, draw(st.sampled_from([80.0, 90.0, 100.0])), "rule", draw(st.integers(0, 2)))
        for a, b in chosen
    ]
    cannot = draw(st.lists(st.sampled_from(_pairs), unique=True, max_size=3))
    must = draw(st.lists(st.sampled_from(_pairs), unique=True, max_size=2))
    return ({k: Features(key=k, birthDate=v) for k, v in births.items()}, edges, cannot, must)


def _normal(result):
    return result.clusters, {k: (pair(e), e.evidence.score) for k, e in result.link.items()}


@settings(max_examples=200, deadline=None)
@given(problems(), st.randoms(use_true_random=False), st.booleans())
def test_the_result_does_not_depend_on_the_order_or_orientation_of_edges(problem, rnd, flip):
    recs, edges, cannot, must = problem
    expected = _normal(
        cluster(recs, edges, must_links=must, cannot_links=cannot, conflict_fields=DOB)
    )
    shuffled = list(edges)
    rnd.shuffle(shuffled)
    if flip:
        shuffled = [Edge(e.b, e.a, e.evidence, e.rank) for e in shuffled]
        must = [(b, a) for a, b in reversed(must)]
        cannot = [(b, a) for a, b in cannot]

    got = _normal(
        cluster(recs, shuffled, must_links=must, cannot_links=cannot, conflict_fields=DOB)
    )

    assert got == expected


@settings(max_examples=200, deadline=None)
@given(problems())
def test_no_cluster_holds_a_cannot_linked_pair_or_unrequested_conflicting_birth_dates(problem):
    recs, edges, cannot, _ = problem  # without must-links, which may override birth dates

    result = cluster(recs, edges, cannot_links=cannot, conflict_fields=DOB)

    assert sorted(k for c in result.clusters for k in c) == sorted(recs)
    for members in result.clusters:
        assert len({recs[k].birthDate for k in members} - {None}) <= 1
        for a, b in cannot:
            assert not (a in members and b in members)
        for k in members:
            if len(members) > 1:
                assert k in pair(result.link[k]) and pair(result.link[k]) <= set(members)


def test_edge_order_does_not_matter_on_a_fixed_tricky_input():
    recs = records("a", "b", "c", "d", "e", a="1980-01-01", e="1990-02-02")
    edges = [
        edge("a", "b", 90),
        edge("b", "c", 90),
        edge("c", "d", 95, "x", 1),
        edge("d", "e", 95, "x", 1),
        edge("a", "e", 100),
        edge("b", "d", 80),
    ]
    rng = random.Random(20250601)
    outcomes = set()
    for _ in range(50):
        rng.shuffle(edges)
        result = cluster(recs, edges, cannot_links=[("c", "e")], conflict_fields=DOB)
        outcomes.add(repr(_normal(result)))

    assert len(outcomes) == 1


# --- assign_ids -------------------------------------------------------------------------------


def counter(prefix: str = "new"):
    numbers = itertools.count(1)
    return lambda: f"{prefix}-{next(numbers)}"


def test_a_cluster_of_new_records_gets_a_new_id():
    result = assign_ids([["a", "b"]], {"a": None, "b": None}, {}, {}, counter())

    assert result == [Assignment("new-1", ("a", "b"), True, (), None)]


def test_a_new_record_joining_a_person_keeps_its_id():
    result = assign_ids(
        [["a", "b"]],
        {"a": "p-1", "b": None},
        {"p-1": "2024-01-01"},
        {"a": "2024-01-01", "b": "2025-01-01"},
        counter(),
    )

    assert result == [Assignment("p-1", ("a", "b"), False)]


@pytest.mark.parametrize(
    ("created", "survivor", "absorbed"),
    [
        pytest.param(
            {"p-1": "2024-05-01", "p-2": "2024-01-01"},
            "p-2",
            ("p-1",),
            id="oldest-created-survives",
        ),
        pytest.param(
            {"p-1": "2024-01-01", "p-2": "2024-05-01"},
            "p-1",
            ("p-2",),
            id="oldest-created-survives-other-way",
        ),
        pytest.param(
            {"p-2": "2024-01-01", "p-1": "2024-01-01"},
            "p-1",
            ("p-2",),
            id="same-creation-time-smallest-id-survives",
        ),
    ],
)
def test_a_merge_keeps_the_oldest_person_and_lists_the_absorbed(created, survivor, absorbed):
    current = {"a": "p-1", "b": "p-2", "c": None}
    age = {"a": "2025-01-01", "b": "2023-01-01", "c": "2025-02-01"}  # age of records is no matter

    result = assign_ids([["a", "b", "c"]], current, created, age, counter())

    assert result == [Assignment(survivor, ("a", "b", "c"), False, absorbed)]


def test_a_merge_of_three_people_absorbs_both_younger_ones_oldest_first():
    current = {"a": "p-c", "b": "p-a", "c": "p-b"}
    created = {"p-a": "2024-03-01", "p-b": "2024-02-01", "p-c": "2024-01-01"}

    result = assign_ids([["a", "b", "c"]], current, created, {}, counter())

    assert result == [Assignment("p-c", ("a", "b", "c"), False, ("p-b", "p-a"))]


@pytest.mark.parametrize(
    ("age", "kept", "moved"),
    [
        pytest.param({"a": "2024-01-01", "b": "2024-06-01"}, ("a",), ("b",), id="oldest-record-a"),
        pytest.param({"a": "2024-06-01", "b": "2024-01-01"}, ("b",), ("a",), id="oldest-record-b"),
        pytest.param(
            {"a": "2024-01-01", "b": "2024-01-01"},
            ("a",),
            ("b",),
            id="same-age-smallest-key-is-anchor",
        ),
    ],
)
def test_a_split_leaves_the_id_with_the_part_holding_the_oldest_record(age, kept, moved):
    current = {"a": "p-1", "b": "p-1"}

    result = assign_ids([["a"], ["b"]], current, {"p-1": "2024-01-01"}, age, counter())

    by_keys = {r.keys: r for r in result}
    assert by_keys[kept] == Assignment("p-1", kept, False)
    assert by_keys[moved] == Assignment("new-1", moved, True, (), "p-1")


def test_a_person_whose_records_all_moved_into_another_persons_cluster_is_absorbed():
    # p-2's only records join p-1's anchor; the younger p-2 disappears into p-1.
    current = {"a": "p-1", "b": "p-1", "c": "p-2", "d": "p-2"}
    created = {"p-1": "2024-01-01", "p-2": "2024-02-01"}
    age = {"a": "2024-01-01", "b": "2024-01-02", "c": "2024-02-01", "d": "2024-02-02"}

    result = assign_ids([["a", "b", "c", "d"]], current, created, age, counter())

    assert result == [Assignment("p-1", ("a", "b", "c", "d"), False, ("p-2",))]
    assert all(r.person_id != "p-2" for r in result)


def test_a_person_losing_its_anchor_to_another_cluster_is_absorbed_and_its_rest_is_new():
    current = {"a": "p-1", "c": "p-2", "d": "p-2"}
    created = {"p-1": "2024-01-01", "p-2": "2024-02-01"}
    age = {"a": "2024-01-01", "c": "2024-02-01", "d": "2024-02-02"}  # c anchors p-2

    result = assign_ids([["a", "c"], ["d"]], current, created, age, counter())

    assert result[0] == Assignment("p-1", ("a", "c"), False, ("p-2",))
    assert result[1].is_new and result[1].keys == ("d",) and result[1].split_from == "p-2"


def test_every_cluster_gets_exactly_one_distinct_id():
    current = {k: None for k in "abcdef"}

    result = assign_ids([["a"], ["b", "c"], ["d", "e", "f"]], current, {}, {}, counter())

    assert [r.person_id for r in result] == ["new-1", "new-2", "new-3"]


def model_edge(a: str, b: str, weight: float) -> Edge:
    return Edge(a, b, Evidence(MODEL_RULE, weight, {}), MODEL_RANK)


def test_a_weak_model_link_does_not_glue_two_strong_groups():
    # A1-A2-A3 and B1-B2-B3 each hold together by strong model links; one A3-B1 pair just
    # above the threshold would chain six records into one person under transitive closure
    keys = ["A1", "A2", "A3", "B1", "B2", "B3"]
    strong = [("A1", "A2"), ("A2", "A3"), ("A1", "A3"), ("B1", "B2"), ("B2", "B3"), ("B1", "B3")]
    weights = {p: 30.0 for p in strong} | {("A3", "B1"): 7.0, ("A2", "B1"): -10.0}
    edges = [model_edge(a, b, w) for (a, b), w in weights.items() if w >= 6.0]

    result = cluster(records(*keys), edges, weights=weights, threshold=6.0, margin=10.0)

    assert result.clusters == [["A1", "A2", "A3"], ["B1", "B2", "B3"]]


def test_two_supporting_model_links_join_two_groups():
    keys = ["A1", "A2", "B1", "B2"]
    weights = {("A1", "A2"): 30.0, ("B1", "B2"): 30.0, ("A1", "B1"): 8.0, ("A2", "B2"): 9.0}
    edges = [model_edge(a, b, w) for (a, b), w in weights.items()]

    result = cluster(records(*keys), edges, weights=weights, threshold=6.0, margin=10.0)

    assert result.clusters == [["A1", "A2", "B1", "B2"]]


def test_rule_edges_join_before_model_edges_and_skip_the_guard():
    # a rule (same email) is a deterministic link: no support needed, and it wins over a
    # stronger-looking model edge
    keys = ["A1", "A2", "B1", "B2"]
    weights = {("A1", "A2"): 30.0, ("B1", "B2"): 30.0}
    edges = [model_edge(a, b, w) for (a, b), w in weights.items()] + [edge("A2", "B1")]

    result = cluster(records(*keys), edges, weights=weights, threshold=6.0, margin=10.0)

    assert result.clusters == [["A1", "A2", "B1", "B2"]]
    assert result.link["B1"].evidence.rule == "email"
