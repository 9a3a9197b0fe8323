"""Unit tests for graph.resolution.comparisons: a pair of field values in, a score out.

Values are given as the rules see them: folded by graph.resolution.features (lower-case ASCII,
hyphens as spaces), full names as (given, family) pairs. Names marked "case NN" come from the
shared resolution cases (/work/shared/cases/NN-*.json).
"""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from graph.normalize import fold
from graph.resolution.comparisons import SCORERS, score

TEXT_SCORERS = sorted(set(SCORERS) - {"person_name"})


def present(scorer: str) -> object:
    """A non-empty value of the shape ``scorer`` compares."""
    return ("ann", "lee") if scorer == "person_name" else "ann"


# --- missing values are never evidence ----------------------------------------------------------


@pytest.mark.parametrize("scorer", sorted(SCORERS))
@pytest.mark.parametrize("missing", [None, "", ()], ids=["none", "empty-text", "empty-tuple"])
def test_missing_value_on_either_side_scores_none(scorer, missing):
    assert score(scorer, missing, present(scorer)) is None
    assert score(scorer, present(scorer), missing) is None
    assert score(scorer, missing, missing) is None


@pytest.mark.parametrize("blank_name", [("", ""), (None, None), ("", None)])
def test_full_name_without_any_part_scores_none(blank_name):
    assert score("person_name", blank_name, ("ann", "lee")) is None
    assert score("exact", blank_name, blank_name) is None


@pytest.mark.parametrize("scorer", sorted(SCORERS))
def test_whitespace_only_value_scores_none(scorer):
    blank = (" ", " ") if scorer == "person_name" else " "
    assert score(scorer, blank, blank) is None
    assert score(scorer, blank, present(scorer)) is None
    assert score(scorer, present(scorer), blank) is None


@pytest.mark.parametrize("blank_name", [(" ", ""), ("\t", None), (" ", " ")])
def test_full_name_of_whitespace_only_parts_scores_none(blank_name):
    assert score("person_name", blank_name, ("ann", "lee")) is None
    assert score("exact", blank_name, blank_name) is None


# --- pair in, score out -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("scorer", "a", "b", "expected"),
    [
        # exact: equal or not, any value shape
        ("exact", "imogenf@example.co.uk", "imogenf@example.co.uk", 100.0),
        ("exact", "imogenf@example.co.uk", "imogen@example.co.uk", 0.0),
        ("exact", "+441225000111", "+441225000111", 100.0),
        ("exact", ("rowan", "ashby"), ("rowan", "ashby"), 100.0),
        ("exact", ("rowan", "ashby"), ("ashby", "rowan"), 0.0),
        # ratio: normalised Indel similarity, 2 * matches / total length
        ("ratio", "abcd", "abce", 75.0),
        ("ratio", "smith", "smyth", 80.0),
        # jaro_winkler: Winkler's (1990) worked examples
        ("jaro_winkler", "martha", "marhta", 96.11),
        ("jaro_winkler", "dwayne", "duane", 84.0),
        ("jaro_winkler", "dixon", "dicksonx", 81.33),
        ("jaro_winkler", "smith", "jones", 0.0),
        # token_sort: word order ignored (case 03)
        ("token_sort", "rowan ashby", "ashby rowan", 100.0),
        ("token_sort", "rowan ashby", "rowan ashley", 86.96),
        # token_set: one name a subset of the other (case 02)
        ("token_set", "salvatierra ruiz", "salvatierra", 100.0),
        ("token_set", "ines salvatierra ruiz", "ines ruiz", 100.0),
        ("token_set", "ines salvatierra", "ines ruiz", 61.54),
        # partial: best matching substring, either way round
        ("partial", "smith", "smithson", 100.0),
        ("partial", "smithson", "smith", 100.0),
        # given_name: equal, nickname, initial, else Jaro-Winkler
        ("given_name", "robert", "robert", 100.0),
        ("given_name", "bob", "robert", 95.0),
        ("given_name", "robert", "bob", 95.0),
        ("given_name", "bill", "william", 95.0),
        ("given_name", "william", "bill", 95.0),
        ("given_name", "liz", "elizabeth", 95.0),
        ("given_name", "y", "yusuf", 90.0),
        ("given_name", "yusuf", "y", 90.0),
        ("given_name", "j", "yusuf", 0.0),
        ("given_name", "bob", "william", 0.0),
        ("given_name", "martha", "marhta", 96.11),
        # person_name: swapped fields, or nickname/initial plus similar family name
        ("person_name", ("rowan", "ashby"), ("ashby", "rowan"), 100.0),
        ("person_name", ("bob", "smith"), ("robert", "smith"), 95.0),
        ("person_name", ("y", "osei"), ("yusuf", "osei"), 90.0),
        ("person_name", ("bill", "smyth"), ("william", "smith"), 89.33),
        ("person_name", ("malik", "osei"), ("nadia", "osei"), 70.0),
    ],
)
def test_scorer_gives_expected_score(scorer, a, b, expected):
    assert score(scorer, a, b) == expected


# given_name and person_name fold their inputs themselves: case, accents and punctuation aside.
@pytest.mark.parametrize(
    ("scorer", "a", "b", "expected"),
    [
        ("given_name", "Bob", "Robert", 95.0),
        ("given_name", "Bob", "bob", 100.0),
        ("given_name", "Zoë", "ZOE", 100.0),
        ("given_name", "Y.", "Yusuf", 90.0),
        ("given_name", " Bill ", "William", 95.0),
        ("person_name", ("Bob", "Smith"), ("robert", "SMITH"), 95.0),
        ("person_name", ("Rowan", "Ashby"), ("ashby", "rowan"), 100.0),
        ("person_name", ("Anaïs", "Lefrançois"), ("anais", "lefrancois"), 100.0),
        ("person_name", ("Ann", " "), ("ann", None), 100.0),
    ],
)
def test_name_scorers_fold_their_inputs(scorer, a, b, expected):
    assert score(scorer, a, b) == expected


# Thresholds as in default_rules.toml: what each rule is meant to let through, and not.
@pytest.mark.parametrize(
    ("scorer", "a", "b", "threshold", "passes"),
    [
        # typos in family names pass phone_name's jaro_winkler at 88
        ("jaro_winkler", "smith", "smyth", 88, True),
        ("jaro_winkler", "fairweather", "fairwether", 88, True),
        ("jaro_winkler", "lefrancois", "lefrancios", 88, True),
        ("jaro_winkler", "johnson", "jonson", 88, True),
        ("jaro_winkler", "lindqvist", "halvorsen", 88, False),
        ("jaro_winkler", "dwayne", "duane", 88, False),
        # nicknames and initials pass phone_name's given_name at 85
        ("given_name", "bob", "robert", 85, True),
        ("given_name", "bill", "william", 85, True),
        ("given_name", "y", "yusuf", 85, True),
        ("given_name", "priya", "owen", 85, False),
        # swapped and nicknamed full names pass name_birth_date's person_name at 90 (case 03)
        ("person_name", ("ashby", "rowan"), ("rowan", "ashby"), 90, True),
        ("person_name", ("bob", "smith"), ("robert", "smith"), 90, True),
        ("person_name", ("anais", "lefrancois"), ("anaelle", "lefrancois"), 90, False),  # case 01 F
        ("person_name", ("priya", "lindqvist"), ("owen", "lindqvist"), 90, False),  # case 05
        # compound surnames pass name_address's token_set at 90 (case 02)
        ("token_set", "ines salvatierra ruiz", "ines salvatierra ruiz", 90, True),
        ("token_set", "ines salvatierra ruiz", "ines salvatierra", 90, True),
        ("token_set", "ines salvatierra", "ines ruiz", 90, False),
    ],
)
def test_scorer_passes_rule_threshold_only_for_intended_pairs(scorer, a, b, threshold, passes):
    assert (score(scorer, a, b) >= threshold) is passes


def test_unknown_scorer_raises_key_error():
    with pytest.raises(KeyError):
        score("fuzzy", "ann", "ann")


def test_scores_are_rounded_to_two_decimals():
    assert score("ratio", "abc", "abd") == 66.67


# --- properties ---------------------------------------------------------------------------------

_names = st.text(alphabet="abeilnorsty ", min_size=1, max_size=14).filter(str.strip)


def _values(scorer: str) -> st.SearchStrategy[object]:
    return st.tuples(_names, _names) if scorer == "person_name" else _names


@given(data=st.data(), scorer=st.sampled_from(sorted(SCORERS)))
def test_every_scorer_is_symmetric_bounded_and_100_on_identical_values(data, scorer):
    a, b = data.draw(_values(scorer)), data.draw(_values(scorer))
    ab = score(scorer, a, b)
    assert ab is not None and 0.0 <= ab <= 100.0
    assert score(scorer, b, a) == ab
    assert score(scorer, a, a) == 100.0


# given_name folds its inputs, so compare it with jaro_winkler on names already folded.
_folded_names = _names.map(fold).filter(bool)


@given(a=_folded_names, b=_folded_names)
def test_given_name_never_scores_below_jaro_winkler(a, b):
    assert score("given_name", a, b) >= score("jaro_winkler", a, b)
