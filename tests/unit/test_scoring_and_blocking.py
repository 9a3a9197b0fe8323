"""Unit tests for graph.resolution.scoring (one pair, the rule set) and blocking keys."""

from __future__ import annotations

from dataclasses import replace

import pytest
from hypothesis import given
from hypothesis import strategies as st

from graph.resolution.blocking import blocking_keys, evidence_keys, probabilistic_keys
from graph.resolution.features import Features, features_of
from graph.resolution.rules import load_rules, parse_rules
from graph.resolution.scoring import compare, conflict_of

RULES = load_rules()
RULE_NAMES = [r.name for r in RULES.rules]


def rec(key: str = "a", **props: object) -> Features:
    """Features of a record as stored (raw values, normalised here as at resolution)."""
    return features_of({"key": key, **props})


ANN = {
    "givenName": "Ann",
    "familyName": "Lee",
    "birthDate": "1990-04-01",
    "email": "ann.lee@example.org",
    "phone": "+447700900001",
    "loyaltyId": "LY-1",
    "addressLine1": "12 High Street",
    "postcode": "LS1 4AP",
}


# --- conflicts --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("a", "b", "reason"),
    [
        pytest.param(
            {"birthDate": "1990-04-01"},
            {"birthDate": "1990-04-02"},
            "different birth dates",
            id="birth-dates-differ",
        ),
        pytest.param(
            {"loyaltyId": "LY-1"},
            {"loyaltyId": "LY-2"},
            "different loyalty ids",
            id="loyalty-ids-differ",
        ),
        pytest.param(
            {"birthDate": "1990-04-01", "loyaltyId": "LY-1"},
            {"birthDate": "1990-04-02", "loyaltyId": "LY-2"},
            "different birth dates",
            id="first-conflict-in-file-order-is-reported",
        ),
        pytest.param(
            {"birthDate": "1990-04-01"},
            {"birthDate": None},
            None,
            id="missing-value-is-no-conflict",
        ),
        pytest.param(
            {"loyaltyId": "ly-1 "},
            {"loyaltyId": "LY-1"},
            None,
            id="normalised-equal-is-no-conflict",
        ),
        pytest.param({}, {}, None, id="nothing-known-no-conflict"),
    ],
)
def test_conflict_of_reports_two_different_present_values(a, b, reason):
    assert conflict_of(rec("a", **a), rec("b", **b), RULES) == reason


def test_a_conflict_vetoes_a_rule_that_matches():
    a = rec("a", email="ann@example.org", birthDate="1990-04-01")
    b = rec("b", email="ANN@example.org", birthDate="1990-05-01")

    verdict = compare(a, b, RULES)

    assert not verdict.match
    assert verdict.conflict == "different birth dates"
    assert verdict.evidence is None


def test_a_conflict_still_vetoes_when_explained_though_the_rule_is_shown():
    a = rec("a", email="ann@example.org", birthDate="1990-04-01")
    b = rec("b", email="ann@example.org", birthDate="1990-05-01")

    verdict = compare(a, b, RULES, explain=True)

    assert not verdict.match
    assert verdict.conflict == "different birth dates"
    assert verdict.evidence is not None and verdict.evidence.rule == "email"


# --- rules in order ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("a", "b", "rule", "score"),
    [
        pytest.param(ANN, {**ANN}, "email", 100.0, id="everything-equal-first-rule-email"),
        pytest.param(
            ANN, {**ANN, "email": None}, "loyalty_id", 100.0, id="no-email-loyalty-id-next"
        ),
        pytest.param(
            ANN,
            {**ANN, "email": None, "loyaltyId": None, "givenName": "Anne"},
            "phone_name",
            None,
            id="then-phone-and-name",
        ),
        pytest.param(
            ANN,
            {"givenName": "Lee", "familyName": "Ann", "birthDate": "1990-04-01"},
            "name_birth_date",
            100.0,
            id="swapped-names-and-birth-date",
        ),
        pytest.param(
            ANN,
            {
                "givenName": "Ann",
                "familyName": "Lee",
                "addressLine1": "12 High St",
                "postcode": "ls14ap",
            },
            "name_address",
            100.0,
            id="name-and-address-last",
        ),
        pytest.param(
            ANN,
            {"givenName": "Bob", "familyName": "Stone", "phone": "+447700900001"},
            None,
            None,
            id="shared-phone-different-name-no-rule",
        ),
        pytest.param(
            {"givenName": "Ann"}, {"givenName": "Ann"}, None, None, id="a-name-alone-is-no-evidence"
        ),
    ],
)
def test_the_first_passing_rule_wins(a, b, rule, score):
    verdict = compare(rec("a", **a), rec("b", **b), RULES)

    assert (verdict.evidence.rule if verdict.evidence else None) == rule
    assert verdict.match is (rule is not None)
    if score is not None:
        assert verdict.evidence.score == score


def test_rule_order_in_the_file_decides_which_rule_is_reported():
    reversed_rules = replace(RULES, rules=tuple(reversed(RULES.rules)))
    a, b = rec("a", **ANN), rec("b", **ANN)

    assert compare(a, b, RULES).evidence.rule == "email"
    assert compare(a, b, reversed_rules).evidence.rule == "name_address"


def test_evidence_keeps_each_score_and_their_mean():
    a = rec("a", givenName="Robert", familyName="Kowalski", phone="+48600100200")
    b = rec("b", givenName="Bob", familyName="Kowalski", phone="+48600100200")

    evidence = compare(a, b, RULES).evidence

    assert evidence.rule == "phone_name"
    assert evidence.scores == {"phone": 100.0, "familyName": 100.0, "givenName": 95.0}
    assert evidence.score == pytest.approx(98.33)


def test_without_explain_scoring_stops_at_the_first_passing_rule():
    verdict = compare(rec("a", **ANN), rec("b", **ANN), RULES)

    assert [o.rule for o in verdict.outcomes] == ["email"]


def test_explain_reports_every_rule_with_missing_values_as_none():
    a = rec("a", givenName="Ann", familyName="Lee", email="ann@example.org")
    b = rec("b", givenName="Ann", familyName="Lee", email="ann@example.org", phone="+447700900001")

    verdict = compare(a, b, RULES, explain=True)

    assert [o.rule for o in verdict.outcomes] == RULE_NAMES
    outcome = {o.rule: o for o in verdict.outcomes}
    assert outcome["email"].passed and outcome["email"].scores == {"email": 100.0}
    assert not outcome["phone_name"].passed
    # every comparison is scored when explaining, even after one failed
    assert outcome["phone_name"].scores == {"phone": None, "familyName": 100.0, "givenName": 100.0}
    assert outcome["name_birth_date"].scores == {"fullName": 100.0, "birthDate": None}
    assert verdict.evidence.rule == "email"


def test_explain_of_records_that_match_nothing_has_no_evidence_and_every_rule():
    verdict = compare(rec("a", givenName="Ann"), rec("b", givenName="Bob"), RULES, explain=True)

    assert verdict.evidence is None and verdict.conflict is None and not verdict.match
    assert [o.rule for o in verdict.outcomes] == RULE_NAMES
    assert not any(o.passed for o in verdict.outcomes)


def test_a_rule_needs_every_comparison_to_pass():
    rules = parse_rules(
        {
            "rules": [
                {
                    "name": "both",
                    "comparisons": [
                        {"field": "email", "scorer": "exact"},
                        {"field": "familyName", "scorer": "exact"},
                    ],
                }
            ]
        }
    )
    a = rec("a", email="ann@example.org", familyName="Lee")

    assert compare(a, rec("b", email="ann@example.org", familyName="Lee"), rules).match
    assert not compare(a, rec("b", email="ann@example.org", familyName="Li"), rules).match
    assert not compare(a, rec("b", email="ann@example.org"), rules).match


# --- blocking keys ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("props", "keys"),
    [
        pytest.param(
            {
                "givenName": "Ann",
                "familyName": "Lee",
                "birthDate": "1990-04-01",
                "postcode": "ls1 4ap",
            },
            ["dob:1990-04-01:a", "dob:1990-04-01:l", "pc:LS14AP:a", "pc:LS14AP:l"],
            id="birth-date-and-postcode-with-both-initials",
        ),
        pytest.param(
            {"givenName": "Ann", "familyName": "Adams", "birthDate": "1990-04-01"},
            ["dob:1990-04-01:a"],
            id="same-initials-give-one-key",
        ),
        pytest.param(
            {"givenName": "Émile", "familyName": "Zola", "postcode": "75001"},
            ["pc:75001:e", "pc:75001:z"],
            id="initials-are-folded",
        ),
        pytest.param({"givenName": "Ann", "familyName": "Lee"}, [], id="no-birth-date-no-postcode"),
        pytest.param({"birthDate": "1990-04-01", "postcode": "LS1 4AP"}, [], id="no-name"),
        pytest.param(
            {"givenName": "", "familyName": "Lee", "birthDate": "1990-04-01"},
            ["dob:1990-04-01:l"],
            id="blank-given-name-gives-no-key",
        ),
        pytest.param(
            {"givenName": "Ann", "familyName": "Lee", "postcode": "00000"},
            [],
            id="placeholder-postcode-gives-no-key",
        ),
    ],
)
def test_blocking_keys_come_from_birth_date_and_postcode_with_each_initial(props, keys):
    assert blocking_keys(rec(**props)) == keys


@given(st.text("abcdefghij", min_size=1, max_size=6), st.text("klmnopqrst", min_size=1, max_size=6))
def test_swapped_given_and_family_names_share_every_key(given_name, family_name):
    a = Features(
        key="a",
        givenName=given_name,
        familyName=family_name,
        birthDate="1990-04-01",
        postcode="LS14AP",
    )
    b = replace(a, key="b", givenName=family_name, familyName=given_name)

    assert blocking_keys(a) == blocking_keys(b) != []


def test_a_typo_in_one_name_still_shares_a_key():
    a = rec(givenName="Ann", familyName="Lee", birthDate="1990-04-01")
    b = rec(givenName="Ann", familyName="Kee", birthDate="1990-04-01")

    assert set(blocking_keys(a)) & set(blocking_keys(b)) == {"dob:1990-04-01:a"}


def test_evidence_keys_are_identifiers_then_blocking_keys():
    f = rec(givenName="Ann", familyName="Lee", birthDate="1990-04-01")

    assert evidence_keys(f, [("EMAIL", "ann@example.org")]) == [
        "EMAIL:ann@example.org",
        "dob:1990-04-01:a",
        "dob:1990-04-01:l",
    ]


@pytest.mark.parametrize(
    ("whole", "part"),
    [("pavon francisco", "pavon"), ("lluch gallo", "gallo"), ("grein groth", "grein")],
)
def test_a_compound_family_name_meets_each_of_its_parts(whole: str, part: str) -> None:
    """A record may carry one surname of two (Spanish, hyphenated names): they share a
    name block through that part, with nothing else in common."""
    a = Features(key="a", givenName="arcelia", familyName=whole)
    b = Features(key="b", givenName="arcelia", familyName=part)
    assert set(probabilistic_keys(a)) & set(probabilistic_keys(b))
    other = Features(key="c", givenName="arcelia", familyName="zabrocki")
    assert not set(probabilistic_keys(a)) & set(probabilistic_keys(other))
