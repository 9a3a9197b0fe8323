"""Unit tests for graph.resolution.evaluate: clusterings in, pairwise quality out."""

from __future__ import annotations

import itertools
import random
import time
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from graph.errors import ValidationError
from graph.resolution.evaluate import Evaluation, evaluate, format_evaluation, read_truth

# Six records of three people: P has three records, Q two, R one; 3 + 1 = 4 true pairs.
TRUTH = {"a:1": "P", "a:2": "P", "a:3": "P", "b:1": "Q", "b:2": "Q", "c:1": "R"}


def clusters(*groups: str) -> dict[str, str]:
    """``clusters("a:1 a:2", "b:1")`` -> each record key mapped to its group's number."""
    return {key: f"cluster-{n}" for n, group in enumerate(groups) for key in group.split()}


# --- hand-computed examples ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("predicted", "pairs", "measures"),
    [
        pytest.param(
            clusters("a:1 a:2 a:3", "b:1 b:2", "c:1"), (4, 4), (1.0, 1.0, 1.0), id="perfect"
        ),
        pytest.param(
            clusters("a:1 a:2 a:3 b:1 b:2 c:1"), (15, 4), (4 / 15, 1.0, 8 / 19), id="all-merged"
        ),
        pytest.param(
            clusters("a:1", "a:2", "a:3", "b:1", "b:2", "c:1"),
            (0, 0),
            (1.0, 0.0, 0.0),
            id="all-split-precision-is-one-without-predicted-pairs",
        ),
        pytest.param(
            clusters("a:1 a:2 a:3", "b:1 b:2 c:1"), (6, 4), (2 / 3, 1.0, 0.8), id="one-wrong-merge"
        ),
        pytest.param(
            clusters("a:1 a:2", "a:3", "b:1 b:2", "c:1"),
            (2, 2),
            (1.0, 0.5, 2 / 3),
            id="one-missed-link",
        ),
        pytest.param(
            clusters("a:1 a:2 b:1", "a:3 b:2", "c:1"), (4, 1), (0.25, 0.25, 0.25), id="mixed-up"
        ),
    ],
)
def test_pairwise_measures_match_hand_computed_values(predicted, pairs, measures):
    result = evaluate(predicted, TRUTH)
    assert (result.predicted_pairs, result.correct_pairs) == pairs
    assert (result.records, result.true_entities, result.true_pairs) == (6, 3, 4)
    assert (result.precision, result.recall, result.f1) == pytest.approx(measures)


def test_recall_is_one_when_there_are_no_true_pairs():
    truth = {"a:1": "P", "b:1": "Q"}
    assert evaluate(clusters("a:1", "b:1"), truth).f1 == 1.0
    merged = evaluate(clusters("a:1 b:1"), truth)
    assert (merged.precision, merged.recall, merged.f1) == (0.0, 1.0, 0.0)


@pytest.mark.parametrize(
    ("predicted", "truth", "field"),
    [
        pytest.param({}, TRUTH, "prediction", id="empty-database"),
        pytest.param(clusters("a:1 a:2"), {}, "truth", id="empty-truth"),
        pytest.param(clusters("x:1 x:2", "y:1"), TRUTH, "truth", id="disjoint"),
    ],
)
def test_nothing_to_compare_is_refused_not_scored_one(predicted, truth, field):
    with pytest.raises(ValidationError) as info:
        evaluate(predicted, truth)
    assert [e.field for e in info.value.errors] == [field]


def test_the_disjoint_refusal_shows_a_key_of_each_side():
    with pytest.raises(ValidationError, match="'a:1'.*'x:1'"):
        evaluate(clusters("x:1"), TRUTH)


def test_cluster_ids_are_labels_not_entity_ids():
    # The prediction reuses the truth's ids for other groups: only co-membership counts.
    predicted = {"a:1": "Q", "a:2": "Q", "a:3": "Q", "b:1": "P", "b:2": "P", "c:1": "x"}
    assert evaluate(predicted, TRUTH).f1 == 1.0


def test_truth_records_missing_from_the_prediction_count_as_unresolved():
    predicted = clusters("a:1 a:2", "b:1 b:2", "c:1")  # a:3 never made it into the database
    result = evaluate(predicted, TRUTH)
    assert result.missing_in_prediction == 1
    assert (result.records, result.true_entities, result.predicted_clusters) == (6, 3, 4)
    assert (result.true_pairs, result.predicted_pairs, result.correct_pairs) == (4, 2, 2)
    assert (result.precision, result.recall) == (1.0, 0.5)


def test_missing_records_are_each_alone_never_together():
    # a:1..a:3 all missing: they must not form a cluster of "missing" records
    result = evaluate(clusters("b:1 b:2", "c:1"), TRUTH)
    assert result.predicted_clusters == 5 and result.correct_pairs == 1
    assert result.recall == pytest.approx(1 / 4)


def test_predicted_records_unknown_to_the_truth_are_counted_and_left_out():
    predicted = clusters("a:1 a:2 a:3 x:1", "b:1 b:2", "c:1")
    result = evaluate(predicted, TRUTH)
    assert (result.missing_in_prediction, result.missing_in_truth) == (0, 1)
    assert (result.records, result.predicted_clusters) == (6, 3)
    assert result.f1 == 1.0


# --- agreement with brute force -----------------------------------------------------------------


def brute_force(predicted: dict[str, str], truth: dict[str, str]) -> tuple[int, int, int]:
    """(true, predicted, correct) pairs by enumerating every pair of truth records: the O(n^2)
    definition, a record missing from the prediction being in no cluster with anyone."""
    true = found = correct = 0
    for x, y in itertools.combinations(sorted(truth), 2):
        same_entity = truth[x] == truth[y]
        same_cluster = x in predicted and y in predicted and predicted[x] == predicted[y]
        true += same_entity
        found += same_cluster
        correct += same_entity and same_cluster
    return true, found, correct


def assert_agrees_with_brute_force(predicted: dict[str, str], truth: dict[str, str]) -> None:
    if not predicted.keys() & truth.keys():
        with pytest.raises(ValidationError):
            evaluate(predicted, truth)
        return
    result = evaluate(predicted, truth)
    true, found, correct = brute_force(predicted, truth)
    assert (result.true_pairs, result.predicted_pairs, result.correct_pairs) == (
        true,
        found,
        correct,
    )
    assert result.precision == (correct / found if found else 1.0)
    assert result.recall == (correct / true if true else 1.0)
    assert result.records == len(truth)
    assert result.missing_in_prediction == len(truth.keys() - predicted.keys())


@pytest.mark.parametrize("seed", range(20))
def test_agrees_with_brute_force_on_random_clusterings(seed):
    rng = random.Random(seed)
    keys = [f"s:{i}" for i in range(rng.randint(1, 120))]
    truth = {key: f"e{rng.randrange(1 + len(keys) // 3)}" for key in keys}
    predicted = {key: f"c{rng.randrange(1 + len(keys) // 2)}" for key in keys if rng.random() < 0.9}
    predicted |= {f"extra:{i}": "c0" for i in range(rng.randint(0, 3))}
    assert_agrees_with_brute_force(predicted, truth)


_labelling = st.dictionaries(
    st.sampled_from([f"s:{i}" for i in range(25)]), st.sampled_from("abcde"), max_size=25
)


@given(predicted=_labelling, truth=_labelling)
def test_agrees_with_brute_force_on_any_clustering(predicted, truth):
    assert_agrees_with_brute_force(predicted, truth)
    if not predicted.keys() & truth.keys():
        return
    result = evaluate(predicted, truth)
    assert 0.0 <= min(result.precision, result.recall, result.f1) <= 1.0
    assert result.correct_pairs <= min(result.true_pairs, result.predicted_pairs)


def test_a_million_records_evaluate_in_seconds():
    n = 1_000_000
    keys = [f"s:{i}" for i in range(n)]
    truth = dict(zip(keys, (i // 3 for i in range(n)), strict=True))
    predicted = dict(zip(keys, (i // 6 if i % 20 else -i for i in range(n)), strict=True))
    started = time.perf_counter()
    result = evaluate(predicted, truth)
    # About 2 s on a busy two-core machine, where an O(n^2) pass over all 5 * 10^11 pairs
    # would take days; the bound leaves room for slow CI.
    assert time.perf_counter() - started < 30
    assert (result.records, result.true_pairs) == (n, n // 3 * 3)


# --- read_truth ---------------------------------------------------------------------------------


def write(tmp_path: Path, text: str, encoding: str = "utf-8") -> Path:
    path = tmp_path / "truth.csv"
    path.write_bytes(text.encode(encoding))
    return path


@pytest.mark.parametrize(
    ("text", "options", "expected"),
    [
        pytest.param(
            "key,personId\ncommerce:C1,P1\nmarketing:M1,P1\n",
            {},
            {"commerce:C1": "P1", "marketing:M1": "P1"},
            id="key-column",
        ),
        pytest.param(
            "source,sourceId,entityId\ncommerce,C1,P1\nstore_db,S:9,P2\n",
            {},
            {"commerce:C1": "P1", "store_db:S:9": "P2"},
            id="source-and-source-id-columns",
        ),
        pytest.param(
            "key,source,sourceId,truth\ncommerce:C1,x,y,P1\n",
            {},
            {"commerce:C1": "P1"},
            id="key-column-wins-over-source-columns",
        ),
        pytest.param(
            "key,cluster,entity_id,personId\ncommerce:C1,c,e,P1\n",
            {},
            {"commerce:C1": "P1"},
            id="personId-is-the-first-entity-column-tried",
        ),
        pytest.param(
            "key,entity_id,cluster\ncommerce:C1,E1,c\n",
            {},
            {"commerce:C1": "E1"},
            id="then-entity_id-before-cluster",
        ),
        pytest.param(
            "key,personId,gold\ncommerce:C1,P1,G1\n",
            {"entity_column": "gold"},
            {"commerce:C1": "G1"},
            id="entity-column-given",
        ),
        pytest.param(
            "system,id,personId\ncommerce,C1,P1\n",
            {"key_columns": ("system", "id")},
            {"commerce:C1": "P1"},
            id="key-columns-given",
        ),
        pytest.param(
            "\ufeff key , personId \n commerce:C1 , P1 \n\n\ncommerce:C2,P2\n",
            {},
            {"commerce:C1": "P1", "commerce:C2": "P2"},
            id="bom-spaces-and-blank-lines-ignored",
        ),
        pytest.param(
            "key,personId\ncommerce:C1,P1\ncommerce:C1,P1\n",
            {},
            {"commerce:C1": "P1"},
            id="a-key-repeated-with-the-same-entity",
        ),
        pytest.param("key,personId\n", {}, {}, id="header-only"),
    ],
)
def test_read_truth_accepts_both_column_styles(tmp_path, text, options, expected):
    assert read_truth(write(tmp_path, text), **options) == expected


@pytest.mark.parametrize(
    ("text", "options", "errors"),
    [
        pytest.param("", {}, {("header", 1)}, id="empty-file"),
        pytest.param("key,name\ncommerce:C1,Ann\n", {}, {("personId", 1)}, id="no-entity-column"),
        pytest.param(
            "key,personId\ncommerce:C1,P1\n",
            {"entity_column": "gold"},
            {("gold", 1)},
            id="given-entity-column-absent",
        ),
        pytest.param("source,id,personId\ncommerce,C1,P1\n", {}, {("key", 1)}, id="no-key-columns"),
        pytest.param(
            "source,name\ncommerce,Ann\n",
            {},
            {("key", 1), ("personId", 1)},
            id="both-missing-reported-at-once",
        ),
        pytest.param(
            "key,personId\ncommerce-C1,P1\n:C2,P2\ncommerce:,P3\n",
            {},
            {("key", 2), ("key", 3), ("key", 4)},
            id="keys-not-source-colon-id",
        ),
        pytest.param(
            "source,sourceId,personId\n,C1,P1\ncommerce, ,P2\n",
            {},
            {("source", 2), ("sourceId", 3)},
            id="empty-key-parts",
        ),
        pytest.param(
            "key,personId\ncommerce:C1,\ncommerce:C2\n",
            {},
            {("personId", 2), ("personId", 3)},
            id="empty-or-absent-entity",
        ),
        pytest.param("key,personId\ncommerce:C1,P1,oops\n", {}, {("row", 2)}, id="extra-cells"),
        pytest.param(
            "key,personId\ncommerce:C1,P1\ncommerce:C2,P2\ncommerce:C1,P9\n",
            {},
            {("personId", 4)},
            id="one-key-two-entities",
        ),
        pytest.param(
            'key,note,personId\ncommerce:C1,"two\nlines",P1\n\ncommerce:C2,x,\n',
            {},
            {("personId", 5)},
            id="line-numbers-count-quoted-newlines-and-blank-lines",
        ),
    ],
)
def test_read_truth_names_missing_columns_and_bad_lines(tmp_path, text, options, errors):
    with pytest.raises(ValidationError) as info:
        read_truth(write(tmp_path, text), **options)
    assert {(e.field, e.line) for e in info.value.errors} == errors


def test_read_truth_explains_a_conflicting_key(tmp_path):
    path = write(tmp_path, "key,personId\ncommerce:C1,P1\ncommerce:C1,P9\n")
    with pytest.raises(ValidationError, match="commerce:C1 is 'P1' on line 2 and 'P9' here"):
        read_truth(path)


def test_read_truth_reports_the_first_twenty_bad_lines_and_counts_the_rest(tmp_path):
    path = write(tmp_path, "key,personId\n" + "bad,P1\n" * 25)
    with pytest.raises(ValidationError) as info:
        read_truth(path)
    assert [e.line for e in info.value.errors[:20]] == list(range(2, 22))
    assert str(info.value.errors[-1]) == "file: 5 more bad lines not shown"


@pytest.mark.parametrize(
    "make",
    [
        pytest.param(lambda tmp: tmp / "absent.csv", id="missing-file"),
        pytest.param(lambda tmp: tmp, id="a-directory"),
        pytest.param(
            lambda tmp: write(tmp, "key,personId\ncommerce:Zoë,P1\n", "latin-1"), id="not-utf8"
        ),
    ],
)
def test_read_truth_turns_unreadable_files_into_validation_errors(tmp_path, make):
    with pytest.raises(ValidationError) as info:
        read_truth(make(tmp_path))
    assert [e.field for e in info.value.errors] == ["truth"]


# --- format_evaluation --------------------------------------------------------------------------


def test_format_evaluation_aligns_measures_to_four_decimals_and_counts():
    result = Evaluation(
        records=12345,
        true_entities=4000,
        predicted_clusters=4100,
        true_pairs=9000,
        predicted_pairs=8000,
        correct_pairs=7000,
        precision=0.875,
        recall=7000 / 9000,
        f1=0.8235294,
        missing_in_prediction=2,
        missing_in_truth=0,
    )
    lines = format_evaluation(result).splitlines()
    assert lines[:3] == ["precision  0.8750", "recall     0.7778", "F1         0.8235"]
    assert len({line.index(line.split()[1]) for line in lines}) == 1  # one value column
    text = "\n".join(lines)
    for figure in (
        "12,345",
        "4,000 true entities",
        "4,100 predicted clusters",
        "9,000",
        "8,000",
        "7,000",
        "2 truth records not in the database (scored as unresolved)",
        "0 records not in the truth",
    ):
        assert figure in text
