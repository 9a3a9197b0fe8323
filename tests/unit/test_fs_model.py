"""Unit tests for graph.resolution.model and fs_score: levels per comparison, weights, TF."""

from __future__ import annotations

import math

import pytest

from graph.errors import ValidationError
from graph.resolution.features import Features
from graph.resolution.fs_score import (
    MIN_TF_VALUES,
    compile_model,
    match_probability,
    score_pair,
    term_frequencies,
)
from graph.resolution.model import load_model, model_from_json, model_to_json, parse_model

MODEL = load_model()


def level(comparison: str, a: object, b: object) -> str:
    """The level of comparison ``comparison`` for two records differing only in its field."""
    field = MODEL.comparison(comparison).field
    ra, rb = Features(key="a", **{field: a}), Features(key="b", **{field: b})
    result = score_pair(ra, rb, MODEL)
    return result.levels[result.comparisons.index(comparison)]


@pytest.mark.parametrize(
    ("comparison", "a", "b", "expected"),
    [
        ("givenName", "", "john", "null"),
        ("givenName", "john", "john", "exact"),
        ("givenName", "jonathan", "jonathon", "jaro_winkler_92"),
        ("givenName", "bob", "robert", "nickname"),
        ("givenName", "katherine", "kathleen", "jaro_winkler_80"),
        ("givenName", "j", "john", "initial"),
        ("givenName", "john", "mary", "else"),
        ("familyName", "smith", "smith", "exact"),
        ("familyName", "zabrocki", "zabrocky", "jaro_winkler_92"),
        ("familyName", "smith jones", "jones", "one_name_of_two"),
        ("familyName", "smith", "miller", "else"),
        ("birthDate", None, "1980-01-02", "null"),
        ("birthDate", "1980-01-02", "1980-01-02", "exact"),
        ("birthDate", "1980-01-02", "1980-01-03", "one_typo"),
        ("birthDate", "1980-01-02", "1908-01-02", "one_typo"),
        ("birthDate", "1980-03-04", "1980-04-03", "day_month_swapped"),
        ("birthDate", "1980-03-04", "1980-03-28", "year_month"),
        ("birthDate", "1980-03-04", "1975-11-28", "else"),
        ("email", "ann@example.com", "ann@example.com", "exact"),
        ("email", "annsmith@example.com", "annsmith@example.co", "jaro_winkler_92"),
        ("email", "ann@example.com", "zed@other.org", "else"),
        ("phone", "+441234567890", "+441234567890", "exact"),
        ("phone", "+441234567890", "+441234567809", "one_typo"),
        ("phone", "+441234567890", "+449999999999", "else"),
        ("loyaltyId", "L1", "L1", "exact"),
        ("loyaltyId", "L1", "L2", "else"),
        ("nationalId", "1234567", "1234567", "exact"),
        ("nationalId", "1234567", "1234577", "one_typo"),
        ("nationalId", "1234567", "123467", "one_typo"),
        ("nationalId", "1234567", "7654321", "else"),
        ("address", "12 miller pl", "12 miller pl", "exact"),
        ("address", "12 miller pl", "12 miler pl", "jaro_winkler_92"),
        ("address", "12 miller pl kooralbyn", "kooralbyn 12 miller pl", "token_set_80"),
        ("address", "12 miller pl", "4 oak st", "else"),
        ("postcode", "4011", "4011", "exact"),
        ("postcode", "4011", "4012", "one_typo"),
        ("postcode", "4011", "2600", "else"),
        ("city", "bundaberg", "bundaberg", "exact"),
        ("city", "bundaberg", "bundaebrg", "jaro_winkler_90"),
        ("city", "bundaberg", "canberra", "else"),
    ],
)
def test_each_comparison_level_is_the_first_that_holds(comparison, a, b, expected):
    assert level(comparison, a, b) == expected


def test_swapped_given_and_family_names_compare_exchanged():
    a = Features(key="a", givenName="zabrocki", familyName="anna")
    b = Features(key="b", givenName="anna", familyName="zabrocki")
    result = score_pair(a, b, MODEL)
    assert result.swapped
    assert result.levels[:2] == ("exact", "exact")


def test_swap_with_a_typo_still_compares_exchanged():
    a = Features(key="a", givenName="zabrocky", familyName="anna")
    b = Features(key="b", givenName="anne", familyName="zabrocki")
    assert score_pair(a, b, MODEL).swapped


def test_match_weight_is_prior_plus_level_weights_in_bits():
    a = Features(key="a", givenName="anna", familyName="zabrocki", birthDate="1980-01-02")
    b = Features(key="b", givenName="anna", familyName="zabrocki", birthDate="1980-01-02")
    result = score_pair(a, b, MODEL)
    expected = MODEL.prior_weight + sum(
        c.levels[c.level_names().index("exact")].weight for c in MODEL.comparisons[:3]
    )
    assert result.weight == pytest.approx(expected)
    assert sum(result.weights[3:]) == 0.0  # null levels: no evidence
    assert result.probability == pytest.approx(match_probability(expected))
    assert compile_model(MODEL).weight(a, b) == pytest.approx(expected)


def test_shared_common_name_weighs_less_than_shared_rare_name():
    people = (
        [Features(key=f"s{i}", familyName="smith") for i in range(50)]
        + [Features(key="z", familyName="zabrocki")]
        + [Features(key=f"o{i}", familyName=f"other{i}") for i in range(949)]
    )
    tf = term_frequencies(people, ["familyName"])
    smith = score_pair(people[0], people[1], MODEL, tf)
    zabrocki = score_pair(people[50], Features(key="z2", familyName="zabrocki"), MODEL, tf)
    assert zabrocki.weight - smith.weight == pytest.approx(math.log2(50), rel=1e-6)


@pytest.mark.parametrize("counted", [0, 1, MIN_TF_VALUES - 1])
def test_a_field_counted_on_few_values_weighs_its_level_not_its_frequency(counted):
    """Trained on data without national ids (or with a handful), a shared id later weighs
    the exact level's own weight, as in the untrained model; not log2(m / 1)."""
    people = [Features(key=f"n{i}", nationalId=f"{i:09d}") for i in range(counted)]
    tf = term_frequencies(people, ["nationalId"])
    a, b = Features(key="a", nationalId="536228914"), Features(key="b", nationalId="536228914")
    assert score_pair(a, b, MODEL, tf).weight == pytest.approx(score_pair(a, b, MODEL).weight)
    assert compile_model(MODEL, tf).weight(a, b) == pytest.approx(score_pair(a, b, MODEL).weight)


def test_a_field_counted_on_enough_values_weighs_the_frequency():
    people = [Features(key=f"n{i}", nationalId=f"{i:09d}") for i in range(MIN_TF_VALUES)]
    tf = term_frequencies(people, ["nationalId"])
    a, b = people[0], Features(key="b", nationalId=people[0].nationalId)
    level = MODEL.comparison("nationalId").levels[1]
    expected = MODEL.prior_weight + math.log2(level.m * MIN_TF_VALUES)
    assert score_pair(a, b, MODEL, tf).weight == pytest.approx(expected)


def test_model_survives_a_json_round_trip_with_its_version():
    text = model_to_json(MODEL)
    again = model_from_json(text)
    assert again == MODEL
    assert again.version == MODEL.version
    trained = MODEL.with_parameters(prior=0.001)
    assert trained.version != MODEL.version


def test_bad_model_reports_every_problem_by_place():
    with pytest.raises(ValidationError) as caught:
        parse_model(
            {
                "model": {"prior": 2},
                "thresholds": {"link": "high"},
                "comparisons": [
                    {
                        "name": "x",
                        "field": "shoeSize",
                        "levels": [{"name": "exact", "kind": "exact", "m": 0, "u": 0.1}],
                    }
                ],
            }
        )
    fields = {e.field for e in caught.value.errors}
    assert {
        "model.prior",
        "thresholds.link",
        "comparisons[0].field",
        "comparisons[0].levels[0].m",
        "comparisons[0].levels",
    } <= fields


def conditional_level(comparison: str, a: str, b: str, postcode_a: str, postcode_b: str) -> str:
    """The level of ``comparison`` (address or city) for two records with these postcodes."""
    field = MODEL.comparison(comparison).field
    ra = Features(key="a", postcode=postcode_a or None, **{field: a})
    rb = Features(key="b", postcode=postcode_b or None, **{field: b})
    result = score_pair(ra, rb, MODEL)
    return result.levels[result.comparisons.index(comparison)]


@pytest.mark.parametrize(
    ("comparison", "a", "b", "postcodes", "expected"),
    [
        ("address", "12 miller pl", "12 miller pl", ("4011", "4011"), "exact_same_postcode"),
        (
            "address",
            "12 miller pl",
            "12 miler pl",
            ("4011", "4011"),
            "jaro_winkler_92_same_postcode",
        ),
        (
            "address",
            "12 miller pl kooralbyn",
            "kooralbyn 12 miller pl",
            ("4011", "4011"),
            "token_set_80_same_postcode",
        ),
        ("address", "12 miller pl", "4 oak st", ("4011", "4011"), "else_same_postcode"),
        ("address", "12 miller pl", "12 miller pl", ("4011", "4012"), "exact"),
        ("address", "12 miller pl", "12 miller pl", ("4011", ""), "exact"),
        ("address", "12 miller pl", "4 oak st", ("4011", "2600"), "else"),
        ("address", "", "12 miller pl", ("4011", "4011"), "null"),
        ("city", "bundaberg", "bundaberg", ("4670", "4670"), "exact_same_postcode"),
        ("city", "bundaberg", "bundaebrg", ("4670", "4670"), "jaro_winkler_90_same_postcode"),
        ("city", "bundaberg", "canberra", ("4670", "4670"), "else_same_postcode"),
        ("city", "bundaberg", "bundaberg", ("4670", "2600"), "exact"),
        ("city", "bundaberg", "bundaebrg", ("", "4670"), "jaro_winkler_90"),
    ],
)
def test_conditional_levels_hold_only_when_their_field_agrees(
    comparison, a, b, postcodes, expected
):
    assert conditional_level(comparison, a, b, *postcodes) == expected


def national_id_level(a: str, b: str, id_a: str, id_b: str) -> str:
    ra = Features(key="a", birthDate=a or None, nationalId=id_a or None)
    rb = Features(key="b", birthDate=b or None, nationalId=id_b or None)
    result = score_pair(ra, rb, MODEL)
    return result.levels[result.comparisons.index("birthDate")]


@pytest.mark.parametrize(
    ("a", "b", "ids", "expected"),
    [
        ("1980-03-04", "1980-03-04", ("123", "123"), "exact_same_national_id"),
        ("1980-03-04", "1980-03-07", ("123", "123"), "one_typo_same_national_id"),
        ("1980-03-04", "1980-04-03", ("123", "123"), "day_month_swapped_same_national_id"),
        ("1980-03-04", "1980-03-28", ("123", "123"), "year_month_same_national_id"),
        ("1980-03-04", "1935-11-28", ("123", "123"), "else_same_national_id"),
        ("1980-03-04", "1935-11-28", ("123", "124"), "else"),
        ("1980-03-04", "1935-11-28", ("123", ""), "else"),
        ("1980-03-04", "1980-03-04", ("", ""), "exact"),
        ("", "1980-03-04", ("123", "123"), "null"),
    ],
)
def test_birth_date_levels_given_the_national_id(a, b, ids, expected):
    assert national_id_level(a, b, *ids) == expected


def test_a_household_address_counts_once_with_the_postcode():
    """Same street, postcode and city: the street and city add less once the postcode
    agrees than each would alone (a household shares all three)."""
    a = Features(key="a", address="12 miller pl", postcode="4011", city="bundaberg")
    b = Features(key="b", address="12 miller pl", postcode="4011", city="bundaberg")
    moved = Features(key="c", address="12 miller pl", postcode="4012", city="bundaberg")
    same = score_pair(a, b, MODEL)
    apart = score_pair(a, moved, MODEL)
    address = MODEL.comparisons.index(MODEL.comparison("address"))
    assert same.levels[address] == "exact_same_postcode"
    assert same.weights[address] < apart.weights[address]


def test_weight_and_score_agree_on_conditional_and_tf_levels():
    people = [
        Features(key=f"r{i}", address=f"{i % 7} oak st", postcode=f"{i % 3}", city="x")
        for i in range(30)
    ]
    tf = term_frequencies(people, ["address", "postcode", "city"])
    compiled = compile_model(MODEL, tf)
    for a in people[:6]:
        for b in people[6:12]:
            assert compiled.weight(a, b) == pytest.approx(compiled.score(a, b).weight)


def test_conditional_levels_survive_a_json_round_trip():
    again = model_from_json(model_to_json(MODEL))
    assert again.comparison("city").when == "postcode"
    assert again.comparison("city").groups() == MODEL.comparison("city").groups()


@pytest.mark.parametrize(
    ("levels", "problem"),
    [
        (
            [
                {"name": "exact", "kind": "exact", "m": 0.9, "u": 0.1},
                {"name": "in", "kind": "else", "when": "postcode", "m": 0.1, "u": 0.9},
                {"name": "else", "kind": "else", "m": 0.1, "u": 0.9},
            ],
            "must come first",
        ),
        (
            [
                {"name": "in", "kind": "exact", "when": "postcode", "m": 0.9, "u": 0.1},
                {"name": "else", "kind": "else", "m": 0.1, "u": 0.9},
            ],
            "end with an else",
        ),
        (
            [
                {"name": "in", "kind": "exact", "when": "city", "m": 0.9, "u": 0.1},
                {"name": "in_else", "kind": "else", "when": "city", "m": 0.1, "u": 0.9},
                {"name": "else", "kind": "else", "m": 0.1, "u": 0.9},
            ],
            "its own field",
        ),
        (
            [
                {"name": "in", "kind": "exact", "when": "shoeSize", "m": 0.9, "u": 0.1},
                {"name": "in_else", "kind": "else", "when": "shoeSize", "m": 0.1, "u": 0.9},
                {"name": "else", "kind": "else", "m": 0.1, "u": 0.9},
            ],
            "unknown field",
        ),
        (
            [
                {"name": "in", "kind": "exact", "when": "postcode", "m": 0.9, "u": 0.1, "tf": True},
                {"name": "in_else", "kind": "else", "when": "postcode", "m": 0.1, "u": 0.9},
                {"name": "else", "kind": "else", "m": 0.1, "u": 0.9},
            ],
            "no term frequencies",
        ),
    ],
)
def test_bad_conditional_levels_are_refused(levels, problem):
    with pytest.raises(ValidationError) as caught:
        parse_model(
            {
                "model": {"prior": 0.01},
                "thresholds": {"link": 6},
                "comparisons": [
                    {
                        "name": "city",
                        "field": "city",
                        "levels": [{"name": "null", "kind": "null"}, *levels],
                    }
                ],
            }
        )
    assert any(problem in e.reason for e in caught.value.errors)
