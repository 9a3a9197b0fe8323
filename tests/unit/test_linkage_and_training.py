"""Unit tests for graph.resolution.linkage (no chaining) and training (u sampling, EM)."""

from __future__ import annotations

import random
from collections import Counter

import pytest

from graph.resolution.blocking import pairs_sharing_keys, probabilistic_keys, soundex
from graph.resolution.features import Features
from graph.resolution.linkage import cluster_scored, may_join
from graph.resolution.model import load_model, parse_model
from graph.resolution.training import (
    capped_at_exact,
    estimate_u,
    expectation_maximisation,
    train,
)

LINK, MARGIN = 6.0, 10.0


def test_weak_link_does_not_merge_two_strong_groups():
    strong = {
        ("a1", "a2"): 40.0,
        ("a2", "a3"): 40.0,
        ("a1", "a3"): 38.0,
        ("b1", "b2"): 40.0,
        ("b2", "b3"): 40.0,
        ("b1", "b3"): 38.0,
    }
    weights = {**strong, ("a3", "b1"): LINK + 1.0}
    clusters = cluster_scored(
        ["a1", "a2", "a3", "b1", "b2", "b3"], weights, threshold=LINK, margin=MARGIN
    )
    assert clusters == [["a1", "a2", "a3"], ["b1", "b2", "b3"]]


def test_two_supporting_links_merge_two_groups():
    weights = {
        ("a1", "a2"): 40.0,
        ("b1", "b2"): 40.0,
        ("a1", "b1"): LINK + 1,
        ("a2", "b2"): LINK + 2,
    }
    assert cluster_scored(["a1", "a2", "b1", "b2"], weights, threshold=LINK, margin=MARGIN) == [
        ["a1", "a2", "b1", "b2"]
    ]


def test_record_strongly_contradicting_a_group_stays_out():
    weights = {("a1", "a2"): 40.0, ("a2", "x"): LINK + 1, ("a1", "x"): -30.0}
    assert cluster_scored(["a1", "a2", "x"], weights, threshold=LINK, margin=MARGIN) == [
        ["a1", "a2"],
        ["x"],
    ]


def test_single_record_joins_a_group_through_one_link():
    weights = {("a1", "a2"): 40.0, ("a2", "x"): LINK + 1}
    assert cluster_scored(["a1", "a2", "x"], weights, threshold=LINK, margin=MARGIN) == [
        ["a1", "a2", "x"]
    ]


@pytest.mark.parametrize(
    ("link", "cross", "sizes", "expected"),
    [
        (LINK - 1, [LINK - 1], (1, 1), False),  # below threshold
        (LINK + 1, [LINK + 1], (1, 5), True),  # singleton joins
        (LINK + 1, [LINK + 1, -40.0], (1, 5), False),  # average linkage fails
        (LINK + 1, [LINK + 1], (2, 2), False),  # unsupported between groups
        (LINK + MARGIN, [LINK + MARGIN], (3, 3), True),  # strong enough alone
        (LINK + 1, [LINK + 1, LINK + 3], (2, 3), True),  # two supporting pairs
    ],
)
def test_may_join(link, cross, sizes, expected):
    assert may_join(link, cross, *sizes, threshold=LINK, margin=MARGIN) is expected


def test_order_of_pairs_does_not_change_the_clusters():
    weights = {("a", "b"): 20.0, ("b", "c"): 20.0, ("c", "d"): 7.0, ("d", "e"): 20.0}
    items = list(weights.items())
    random.Random(3).shuffle(items)
    assert cluster_scored("abcde", dict(items), threshold=LINK, margin=MARGIN) == cluster_scored(
        "abcde", weights, threshold=LINK, margin=MARGIN
    )


@pytest.mark.parametrize(
    ("name", "code"),
    [
        ("robert", "r163"),
        ("rupert", "r163"),
        ("ashcraft", "a261"),
        ("tymczak", "t522"),
        ("lee", "l000"),
        ("", ""),
        ("123", ""),
    ],
)
def test_soundex(name, code):
    assert soundex(name) == code


def test_swapped_names_share_a_name_key():
    a = Features(key="a", givenName="anna", familyName="zabrocki")
    b = Features(key="b", givenName="zabrocki", familyName="anna")
    assert set(probabilistic_keys(a)) & set(probabilistic_keys(b))


def _address_keys(**fields: str) -> set[str]:
    f = Features(key="r", givenName="x", familyName="y", address="12 high street", **fields)
    return {k for k in probabilistic_keys(f) if k.startswith("ad:")}


def test_an_address_key_names_the_place_so_one_street_number_is_not_one_block_nationwide():
    home = _address_keys(city="leeds", postcode="ls11aa")
    city_typo = _address_keys(city="leedz", postcode="ls11aa")
    postcode_typo = _address_keys(city="leeds", postcode="ls99zz")
    elsewhere = _address_keys(city="york", postcode="yo11aa")

    assert len(home) == 2
    assert home & city_typo and home & postcode_typo  # one typo in the place still meets
    assert not home & elsewhere
    assert _address_keys() == {"ad:12:h200:"}  # no place at all: the street alone


def test_blocks_larger_than_the_limit_give_no_pairs():
    keys = {f"r{i}": ["big"] for i in range(5)} | {"x": ["small"], "y": ["small"]}
    assert pairs_sharing_keys(keys, 4) == {("x", "y")}


# Two binary comparisons plus one with three levels; known m and u.
TRUE_M = {"a": [0.9, 0.1], "b": [0.8, 0.2], "c": [0.7, 0.2, 0.1]}
TRUE_U = {"a": [0.05, 0.95], "b": [0.1, 0.9], "c": [0.02, 0.08, 0.9]}
TRUE_PRIOR = 0.3


def _model(m: dict[str, list[float]], u: dict[str, list[float]], prior: float):
    def comparison(name: str, fld: str) -> dict:
        inner = [
            {
                "name": f"l{n}",
                "kind": "exact" if n == 0 else "fuzzy",
                "scorer": "exact",
                "threshold": 100,
                "m": m[name][n],
                "u": u[name][n],
            }
            for n in range(len(m[name]) - 1)
        ]
        return {
            "name": name,
            "field": fld,
            "levels": [
                {"name": "null", "kind": "null"},
                *inner,
                {"name": "else", "kind": "else", "m": m[name][-1], "u": u[name][-1]},
            ],
        }

    return parse_model(
        {
            "model": {"prior": prior},
            "thresholds": {"link": 0},
            "comparisons": [
                comparison("a", "email"),
                comparison("b", "phone"),
                comparison("c", "city"),
            ],
        }
    )


def _generated_patterns(n: int, seed: int) -> Counter:
    rng = random.Random(seed)
    counts: Counter = Counter()
    for _ in range(n):
        probabilities = TRUE_M if rng.random() < TRUE_PRIOR else TRUE_U
        pattern = tuple(1 + rng.choices(range(len(p)), p)[0] for p in probabilities.values())
        counts[pattern] += 1
    return counts


def test_em_recovers_known_m_and_u_on_generated_pairs():
    patterns = _generated_patterns(50_000, seed=1)
    start = _model({"a": [0.6, 0.4], "b": [0.6, 0.4], "c": [0.4, 0.3, 0.3]}, TRUE_U, 0.5)
    result = expectation_maximisation(patterns, start, tolerance=1e-7, max_iterations=500)
    assert result.converged
    assert result.prior == pytest.approx(TRUE_PRIOR, abs=0.02)
    for name, m in TRUE_M.items():
        assert result.m[name][1:] == pytest.approx(m, abs=0.03)


def test_em_leaves_deactivated_comparisons_out():
    start = _model(TRUE_M, TRUE_U, 0.3)
    result = expectation_maximisation(_generated_patterns(5_000, 2), start, deactivate={"a"})
    assert set(result.m) == {"b", "c"}


def test_u_from_random_pairs_is_the_share_of_each_level():
    # every email distinct, every city one of two equally common values
    records = [Features(key=str(i), email=f"p{i}@x.org", city="ab"[i % 2]) for i in range(400)]
    model = estimate_u(records, _model(TRUE_M, TRUE_U, 0.3), sample_pairs=20_000, seed=5)
    a, c = model.comparison("a"), model.comparison("c")
    assert a.levels[1].u < 0.001  # never equal
    assert c.levels[1].u == pytest.approx(0.5, abs=0.02)  # equal half the time


def test_u_leaves_out_the_matches_among_random_pairs():
    """40 people with 5 records each: one random pair in 50 is the same person (same email).
    Counted plainly they make a shared email look common among strangers; weighed by their
    chance of being strangers under a model, they do not."""
    records = [Features(key=f"{i}-{j}", email=f"p{i}@x.org") for i in range(40) for j in range(5)]
    believed = _model(
        {"a": [0.9, 0.1], "b": [0.8, 0.2], "c": [0.7, 0.2, 0.1]},
        {"a": [0.0001, 0.9999], "b": [0.1, 0.9], "c": [0.02, 0.08, 0.9]},
        0.02,
    )
    plain = estimate_u(records, believed, sample_pairs=20_000, seed=5)
    weighed = estimate_u(records, believed, sample_pairs=20_000, seed=5, non_matches=believed)
    assert plain.comparison("a").levels[1].u == pytest.approx(4 / 199, abs=0.004)
    assert weighed.comparison("a").levels[1].u < 0.001


def test_training_separates_duplicates_from_strangers():
    rng = random.Random(7)
    features = {}
    for i in range(300):
        name, family = f"given{i % 97}", f"family{i}"
        birth = f"19{50 + i % 40}-0{1 + i % 9}-1{i % 10}"
        features[f"{i}-a"] = Features(
            key=f"{i}-a", givenName=name, familyName=family, birthDate=birth, postcode=str(1000 + i)
        )
        if rng.random() < 0.5:
            features[f"{i}-b"] = Features(
                key=f"{i}-b",
                givenName=name,
                familyName=family + "x",
                birthDate=birth,
                postcode=str(1000 + i),
            )
    keys = {k: probabilistic_keys(f) for k, f in features.items()}
    trained = train(features, keys, load_model(), u_sample_pairs=5_000, seed=1).model
    family = trained.comparison("familyName")
    fuzzy = family.level_names().index("jaro_winkler_92")
    assert family.levels[fuzzy].m > 0.5  # every duplicate has a one-letter typo
    assert 0 < trained.prior < 0.01


def test_a_training_pass_with_no_pairs_keeps_the_models_m():
    # two strangers share no blocking key: no EM pass has data, and u alone is re-estimated
    features = {
        "a": Features(key="a", givenName="ann", familyName="lee", birthDate="1990-01-01"),
        "b": Features(key="b", givenName="bob", familyName="stone", birthDate="1971-05-06"),
    }
    model = load_model()
    keys = {k: probabilistic_keys(f) for k, f in features.items()}

    trained = train(features, keys, model, u_sample_pairs=50).model

    assert [lv.m for lv in trained.comparison("givenName").levels] == [
        lv.m for lv in model.comparison("givenName").levels
    ]


def _conditional_model() -> object:
    """given and family name (unconditional) and postcode, city given the postcode: the shape of the default
    model's address block."""
    return parse_model(
        {
            "model": {"prior": 0.5},
            "thresholds": {"link": 6},
            "comparisons": [
                {
                    "name": "given",
                    "field": "givenName",
                    "levels": [
                        {"name": "null", "kind": "null"},
                        {"name": "exact", "kind": "exact", "m": 0.8, "u": 0.05},
                        {"name": "else", "kind": "else", "m": 0.2, "u": 0.95},
                    ],
                },
                {
                    "name": "name",
                    "field": "familyName",
                    "levels": [
                        {"name": "null", "kind": "null"},
                        {"name": "exact", "kind": "exact", "m": 0.8, "u": 0.05},
                        {"name": "else", "kind": "else", "m": 0.2, "u": 0.95},
                    ],
                },
                {
                    "name": "postcode",
                    "field": "postcode",
                    "levels": [
                        {"name": "null", "kind": "null"},
                        {"name": "exact", "kind": "exact", "m": 0.9, "u": 0.01},
                        {"name": "else", "kind": "else", "m": 0.1, "u": 0.99},
                    ],
                },
                {
                    "name": "city",
                    "field": "city",
                    "levels": [
                        {"name": "null", "kind": "null"},
                        {"name": "same", "kind": "exact", "when": "postcode", "m": 0.9, "u": 0.5},
                        {
                            "name": "same_else",
                            "kind": "else",
                            "when": "postcode",
                            "m": 0.1,
                            "u": 0.5,
                        },
                        {"name": "exact", "kind": "exact", "m": 0.8, "u": 0.01},
                        {"name": "else", "kind": "else", "m": 0.2, "u": 0.99},
                    ],
                },
            ],
            "training": [{"block": "pc:", "deactivate": ["postcode"]}],
        }
    )


@pytest.mark.parametrize("city_shared_by_strangers", [0.9, 0.05])
def test_em_learns_a_conditional_u_where_its_condition_holds(city_shared_by_strangers):
    """Pairs of one postcode: matches share the city 95% of the time, strangers
    ``city_shared_by_strangers`` of it (a city per postcode, or postcodes spanning cities);
    EM over them recovers that u, whatever the model's guess (0.5)."""
    rng = random.Random(3)
    counts: Counter = Counter()
    for _ in range(20_000):
        match = rng.random() < 0.3
        given = 1 if rng.random() < (0.85 if match else 0.05) else 2
        name = 1 if rng.random() < (0.9 if match else 0.05) else 2
        same_city = rng.random() < (0.95 if match else city_shared_by_strangers)
        counts[(given, name, 1, 1 if same_city else 2)] += 1
    model = _conditional_model()
    result = expectation_maximisation(
        counts, model, deactivate={"postcode"}, conditional={"city"}, max_iterations=500
    )
    assert result.u["city"][1] == pytest.approx(city_shared_by_strangers, abs=0.03)
    assert result.m["city"][1] == pytest.approx(0.95, abs=0.03)
    assert result.estimated["city"] == [False, True, True, False, False]


def test_random_sampling_leaves_conditional_u_alone():
    records = [
        Features(key=f"r{i}", familyName=f"n{i % 40}", postcode=f"{i % 9}", city=f"c{i % 5}")
        for i in range(400)
    ]
    model = _conditional_model()
    estimated = estimate_u(records, model, sample_pairs=5_000, seed=1)
    city, before = estimated.comparison("city"), model.comparison("city")
    assert [lv.u for lv in city.levels[1:3]] == [lv.u for lv in before.levels[1:3]]
    assert city.levels[3].u != before.levels[3].u
    assert city.levels[3].u + city.levels[4].u == pytest.approx(1.0)


def test_no_trained_level_outweighs_its_groups_exact_level():
    """EM on few pairs can give a rare level a larger m/u than exact agreement (500 demo
    people: given name `initial` +9.86 bits, `exact` +9.63); the cap brings it to exact's
    weight and leaves levels already below it, and other groups, alone."""
    base = load_model()
    given = base.comparison("givenName")
    names = [lv.name for lv in given.levels]
    u = [lv.u for lv in given.levels]
    u[names.index("initial")] = given.levels[names.index("initial")].m / 2**12  # +12 bits
    skewed = base.with_parameters(u={"givenName": u})
    capped = capped_at_exact(skewed).comparison("givenName")
    weights = {lv.name: lv.weight for lv in capped.levels}
    assert weights["initial"] == pytest.approx(weights["exact"])
    for name in ("jaro_winkler_92", "nickname", "jaro_winkler_80", "else"):
        assert weights[name] == pytest.approx(given.levels[names.index(name)].weight)
    assert capped_at_exact(base) == base  # the default model is ordered already
