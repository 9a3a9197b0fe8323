"""Unit tests for graph.resolution.rules: a rule file in, a validated RuleSet or every mistake out."""

from __future__ import annotations

import dataclasses
import math
import re
import shutil
import tomllib
from pathlib import Path
from typing import Any

import pytest

from graph.errors import ValidationError
from graph.resolution.comparisons import SCORERS
from graph.resolution.rules import (
    DEFAULT_RULES,
    FEATURE_FIELDS,
    RECONCILED_ATTRIBUTES,
    STRATEGIES,
    Comparison,
    Limits,
    RuleSet,
    load_rules,
    parse_rules,
)

# --- the default rule set -----------------------------------------------------------------------


def default_toml() -> dict[str, Any]:
    return tomllib.loads(DEFAULT_RULES.read_text(encoding="utf-8"))


def test_default_rule_set_loads_in_file_order():
    raw, rules = default_toml(), load_rules()
    assert [rule.name for rule in rules.rules] == [rule["name"] for rule in raw["rules"]]
    assert [c.field for c in rules.conflicts] == [c["field"] for c in raw["conflicts"]]
    assert rules.limits == Limits(**raw["limits"])
    assert rules.origin == str(DEFAULT_RULES)
    assert re.fullmatch(r"[0-9a-f]{12}", rules.version)


def test_default_rule_set_uses_only_known_fields_scorers_and_strategies():
    rules = load_rules()
    assert rules.rules and len({rule.name for rule in rules.rules}) == len(rules.rules)
    for rule in rules.rules:
        assert rule.description and rule.comparisons
        for comparison in rule.comparisons:
            assert comparison.field in FEATURE_FIELDS
            assert comparison.scorer in SCORERS
            assert 0 <= comparison.threshold <= 100
    assert {rules.strategy(name) for name in RECONCILED_ATTRIBUTES} <= STRATEGIES


@pytest.mark.parametrize("attribute", RECONCILED_ATTRIBUTES)
def test_default_strategy_is_the_files_choice_for_the_attribute_or_its_default(attribute):
    reconciliation = default_toml()["reconciliation"]
    expected = reconciliation.get("attributes", {}).get(attribute, reconciliation["default"])
    assert load_rules().strategy(attribute) == expected


def test_version_follows_the_file_text(tmp_path: Path):
    copy = tmp_path / "rules.toml"
    shutil.copy(DEFAULT_RULES, copy)
    assert load_rules(copy).version == load_rules().version
    copy.write_text(DEFAULT_RULES.read_text(encoding="utf-8") + "\n# retuned\n", encoding="utf-8")
    assert load_rules(copy).version != load_rules().version


# --- a minimal valid rule set and what it defaults ----------------------------------------------


def rule(name: Any = "email", **comparison: Any) -> dict[str, Any]:
    """One rule with one comparison; keyword arguments override the comparison's keys."""
    return {
        "name": name,
        "comparisons": [{"field": "email", "scorer": "exact", "threshold": 100, **comparison}],
    }


def rule_set(*rules: dict[str, Any], **sections: Any) -> dict[str, Any]:
    return {"rules": list(rules) or [rule()], **sections}


def test_minimal_rule_set_takes_defaults():
    rules = parse_rules(
        {"rules": [{"name": "email", "comparisons": [{"field": "email", "scorer": "exact"}]}]}
    )
    assert rules.rules[0].comparisons == (Comparison("email", "exact", 100.0),)
    assert rules.rules[0].description == ""
    assert (rules.conflicts, rules.limits, rules.reconciliation) == ((), Limits(), {})
    assert rules.strategy("email") == "source_priority"
    assert re.fullmatch(r"[0-9a-f]{12}", rules.version)


def test_attribute_strategy_overrides_the_default():
    rules = parse_rules(
        rule_set(
            reconciliation={"default": "most_frequent", "attributes": {"email": "most_recent"}}
        )
    )
    assert (rules.strategy("email"), rules.strategy("givenName")) == (
        "most_recent",
        "most_frequent",
    )


@pytest.mark.parametrize("threshold", [0, 88, 88.5, 100])
def test_threshold_may_be_any_number_from_0_to_100(threshold):
    rules = parse_rules(rule_set(rule(threshold=threshold)))
    assert rules.rules[0].comparisons[0].threshold == threshold


# --- every kind of mistake ----------------------------------------------------------------------

R0 = "rules[0] (email)"


@pytest.mark.parametrize(
    ("data", "field", "reason"),
    [
        # comparisons
        pytest.param(
            rule_set(rule(field="shoeSize")),
            f"{R0}.comparisons[0].field",
            "unknown field 'shoeSize'",
            id="unknown-field",
        ),
        pytest.param(
            rule_set(rule(field=None)),
            f"{R0}.comparisons[0].field",
            "unknown field None",
            id="missing-field",
        ),
        pytest.param(
            rule_set(rule(scorer="fuzzy")),
            f"{R0}.comparisons[0].scorer",
            "unknown scorer 'fuzzy'",
            id="unknown-scorer",
        ),
        pytest.param(
            rule_set(rule(threshold=101)),
            f"{R0}.comparisons[0].threshold",
            "must be a number from 0 to 100",
            id="threshold-above-100",
        ),
        pytest.param(
            rule_set(rule(threshold=-1)),
            f"{R0}.comparisons[0].threshold",
            "must be a number from 0 to 100",
            id="threshold-negative",
        ),
        pytest.param(
            rule_set(rule(threshold="90")),
            f"{R0}.comparisons[0].threshold",
            "must be a number from 0 to 100",
            id="threshold-text",
        ),
        pytest.param(
            rule_set(rule(threshold=True)),
            f"{R0}.comparisons[0].threshold",
            "must be a number from 0 to 100",
            id="threshold-boolean",
        ),
        pytest.param(
            rule_set(rule(threshold=math.nan)),
            f"{R0}.comparisons[0].threshold",
            "must be a number from 0 to 100",
            id="threshold-nan",
        ),
        pytest.param(
            rule_set(rule(weight=2)),
            f"{R0}.comparisons[0]",
            "unknown keys ['weight']",
            id="unknown-comparison-key",
        ),
        pytest.param(
            rule_set({"name": "email", "comparisons": ["email"]}),
            f"{R0}.comparisons[0]",
            "must be a table",
            id="comparison-not-a-table",
        ),
        pytest.param(
            rule_set(rule(field=["email"])),
            f"{R0}.comparisons[0].field",
            "unknown field ['email']",
            id="field-a-list",
        ),
        pytest.param(
            rule_set(rule(scorer=["exact"])),
            f"{R0}.comparisons[0].scorer",
            "unknown scorer ['exact']",
            id="scorer-a-list",
        ),
        pytest.param(
            rule_set(rule(scorer="person_name")),
            f"{R0}.comparisons[0].scorer",
            "use it on fullName, not email",
            id="person-name-scorer-on-a-non-name-field",
        ),
        pytest.param(
            rule_set(rule(field="givenName", scorer="person_name")),
            f"{R0}.comparisons[0].scorer",
            "use it on fullName, not givenName",
            id="person-name-scorer-on-given-name",
        ),
        # rules
        pytest.param(
            rule_set(rule("email"), rule("email")),
            "rules[1].name",
            "'email' is used twice",
            id="duplicate-rule-name",
        ),
        pytest.param(rule_set(rule(None)), "rules[0].name", "is required", id="missing-rule-name"),
        pytest.param(rule_set(rule("  ")), "rules[0].name", "is required", id="blank-rule-name"),
        pytest.param(
            rule_set({"name": "email", "comparisons": []}),
            f"{R0}.comparisons",
            "at least one comparison",
            id="empty-comparisons",
        ),
        pytest.param(
            rule_set({"name": "email"}),
            f"{R0}.comparisons",
            "at least one comparison",
            id="missing-comparisons",
        ),
        pytest.param(rule_set("email"), "rules[0]", "must be a table", id="rule-not-a-table"),
        pytest.param(
            rule_set(
                {
                    "name": "email",
                    "comparison": [{"field": "email"}],
                    "comparisons": [{"field": "email", "scorer": "exact"}],
                }
            ),
            R0,
            "unknown keys ['comparison']",
            id="unknown-rule-key",
        ),
        pytest.param(
            rule_set({**rule(), "description": ["x"]}),
            f"{R0}.description",
            "must be a string",
            id="description-a-list",
        ),
        pytest.param(
            rule_set(rule(["email"])), "rules[0].name", "must be a string", id="rule-name-a-list"
        ),
        pytest.param({"rules": []}, "rules", "at least one [[rules]] table", id="no-rules"),
        pytest.param({}, "rules", "at least one [[rules]] table", id="missing-rules"),
        pytest.param(
            {"rules": {"name": "email"}},
            "rules",
            "at least one [[rules]] table",
            id="rules-as-one-table",
        ),
        # sections
        pytest.param(rule_set(rule=[rule()]), "rule", "unknown section", id="unknown-section"),
        pytest.param(
            rule_set(conflicts=[{"field": "shoeSize"}]),
            "conflicts[0].field",
            "must name a known field",
            id="conflict-unknown-field",
        ),
        pytest.param(
            rule_set(conflicts=["birthDate"]),
            "conflicts[0].field",
            "must name a known field",
            id="conflict-not-a-table",
        ),
        pytest.param(
            rule_set(conflicts=[{"field": ["birthDate"]}]),
            "conflicts[0].field",
            "must name a known field",
            id="conflict-field-a-list",
        ),
        pytest.param(
            rule_set(conflicts=[{"field": "birthDate", "resaon": "x"}]),
            "conflicts[0]",
            "unknown keys ['resaon']",
            id="unknown-conflict-key",
        ),
        pytest.param(
            rule_set(conflicts=[{"field": "birthDate", "reason": 3}]),
            "conflicts[0].reason",
            "must be a string",
            id="conflict-reason-a-number",
        ),
        pytest.param(
            rule_set(conflicts={"field": "birthDate"}),
            "conflicts",
            "must be a list of [[conflicts]] tables",
            id="conflicts-not-a-list",
        ),
        # reconciliation
        pytest.param(
            rule_set(reconciliation={"default": "newest"}),
            "reconciliation.default",
            "use one of",
            id="unknown-default-strategy",
        ),
        pytest.param(
            rule_set(reconciliation={"attributes": {"email": "newest"}}),
            "reconciliation.attributes.email",
            "unknown strategy 'newest'",
            id="unknown-attribute-strategy",
        ),
        pytest.param(
            rule_set(reconciliation={"attributes": {"shoeSize": "most_recent"}}),
            "reconciliation.attributes.shoeSize",
            "unknown attribute",
            id="unknown-attribute",
        ),
        pytest.param(
            rule_set(reconciliation="most_recent"),
            "reconciliation",
            "must be a table",
            id="reconciliation-not-a-table",
        ),
        pytest.param(
            rule_set(reconciliation={"attributes": "most_recent"}),
            "reconciliation.attributes",
            "must be a table",
            id="reconciliation-attributes-not-a-table",
        ),
        pytest.param(
            rule_set(reconciliation={"default": ["most_recent"]}),
            "reconciliation.default",
            "unknown strategy ['most_recent']",
            id="default-strategy-a-list",
        ),
        pytest.param(
            rule_set(reconciliation={"attributes": {"email": ["most_recent"]}}),
            "reconciliation.attributes.email",
            "unknown strategy ['most_recent']",
            id="attribute-strategy-a-list",
        ),
        pytest.param(
            rule_set(reconciliation={"defualt": "most_recent"}),
            "reconciliation",
            "unknown keys ['defualt']",
            id="unknown-reconciliation-key",
        ),
        # conflicts with `when` fields (household members)
        pytest.param(
            rule_set(conflicts=[{"field": "givenName", "when": ["familyName"]}]),
            "conflicts[0].when",
            "penalty below 0",
            id="conditional-conflict-without-penalty",
        ),
        pytest.param(
            rule_set(
                conflicts=[
                    {"field": "givenName", "when": ["familyName"], "penalty": -8, "hard": True}
                ]
            ),
            "conflicts[0].when",
            "no `hard`",
            id="conditional-conflict-hard",
        ),
        pytest.param(
            rule_set(conflicts=[{"field": "givenName", "when": ["surname"], "penalty": -8}]),
            "conflicts[0].when",
            "must be a list of fields",
            id="conditional-conflict-unknown-field",
        ),
        pytest.param(
            rule_set(conflicts=[{"field": "givenName", "when": "familyName", "penalty": -8}]),
            "conflicts[0].when",
            "must be a list of fields",
            id="conditional-conflict-not-a-list",
        ),
        pytest.param(
            rule_set(
                conflicts=[{"field": "givenName", "when": ["givenName|email"], "penalty": -8}]
            ),
            "conflicts[0].when",
            "must not name the conflict's field",
            id="conditional-conflict-on-itself",
        ),
        # limits
        pytest.param(
            rule_set(limits={"max_identifier_records": 1}),
            "limits.max_identifier_records",
            "must be a number from 2 to",
            id="limit-below-2",
        ),
        pytest.param(
            rule_set(limits={"max_block_records": 1_000_001}),
            "limits.max_block_records",
            "must be a number from 2 to",
            id="limit-above-a-million",
        ),
        pytest.param(
            rule_set(limits={"max_block_records": "200"}),
            "limits.max_block_records",
            "must be a number",
            id="limit-text",
        ),
        pytest.param(
            rule_set(limits={"max_identifier_records": False}),
            "limits.max_identifier_records",
            "must be a number",
            id="limit-boolean",
        ),
        pytest.param(
            rule_set(limits={"max_block_records": 200.5}),
            "limits.max_block_records",
            "without a fraction",
            id="fractional-limit",
        ),
        pytest.param(
            rule_set(limits={"max_block_records": 200.0}),
            "limits.max_block_records",
            "without a fraction",
            id="limit-a-float",
        ),
        pytest.param(rule_set(limits=5), "limits", "must be a table", id="limits-not-a-table"),
        pytest.param(
            rule_set(limits={"max_identifer_records": 5}),
            "limits",
            "unknown keys ['max_identifer_records']",
            id="unknown-limit",
        ),
    ],
)
def test_each_mistake_is_reported_naming_its_rule_and_field(data, field, reason):
    with pytest.raises(ValidationError) as info:
        parse_rules(data)
    assert [e.field for e in info.value.errors] == [field]
    assert reason in info.value.errors[0].reason
    assert field in str(info.value)


def test_unknown_attribute_with_unknown_strategy_reports_both():
    with pytest.raises(ValidationError) as info:
        parse_rules(rule_set(reconciliation={"attributes": {"shoeSize": "newest"}}))
    reasons = [e.reason for e in info.value.errors]
    assert len(reasons) == 2
    assert any("unknown attribute" in r for r in reasons)
    assert any("unknown strategy 'newest'" in r for r in reasons)


MANY_MISTAKES = """\
[limits]
max_identifier_records = 1

[[rules]]
name = "email"
comparisons = [{ field = "email", scorer = "exact", threshold = 100 }]

[[rules]]
name = "phone_name"
comparisons = [
  { field = "phone", scorer = "fuzzy", threshold = 100 },
  { field = "surname", scorer = "jaro_winkler", threshold = 188 },
]

[[rules]]
name = "email"
comparisons = []

[[conflicts]]
field = "shoeSize"

[reconciliation]
default = "newest"

[reconciliation.attributes]
email = "latest"

[weights]
email = 1
"""


def test_all_mistakes_in_one_file_are_reported_at_once(tmp_path: Path):
    path = tmp_path / "rules.toml"
    path.write_text(MANY_MISTAKES, encoding="utf-8")
    with pytest.raises(ValidationError) as info:
        load_rules(path)
    assert sorted(e.field for e in info.value.errors) == sorted(
        [
            "weights",
            "rules[1] (phone_name).comparisons[0].scorer",
            "rules[1] (phone_name).comparisons[1].field",
            "rules[1] (phone_name).comparisons[1].threshold",
            "rules[2].name",
            "rules[2] (email).comparisons",
            "conflicts[0].field",
            "limits.max_identifier_records",
            "reconciliation.default",
            "reconciliation.attributes.email",
        ]
    )


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("[[rules]\nname = 'x'\n", "is not valid TOML"),
        ("rules = 3\nrules = 4\n", "is not valid TOML"),
    ],
)
def test_file_that_is_not_toml_is_a_validation_error(tmp_path: Path, text, reason):
    path = tmp_path / "rules.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ValidationError, match=reason) as info:
        load_rules(path)
    assert [e.field for e in info.value.errors] == ["rules"]


def test_missing_file_is_a_validation_error(tmp_path: Path):
    with pytest.raises(ValidationError, match="cannot read") as info:
        load_rules(tmp_path / "absent.toml")
    assert [e.field for e in info.value.errors] == ["rules"]


# --- readable messages, file encoding, immutability --------------------------------------------


def test_limit_range_is_printed_readably():
    with pytest.raises(ValidationError) as info:
        parse_rules(rule_set(limits={"max_block_records": 0}))
    assert "from 2 to 1,000,000" in info.value.errors[0].reason


def test_unknown_attribute_lists_the_attributes_readably():
    with pytest.raises(ValidationError) as info:
        parse_rules(rule_set(reconciliation={"attributes": {"shoeSize": "most_recent"}}))
    assert info.value.errors[0].reason.endswith("use one of " + ", ".join(RECONCILED_ATTRIBUTES))


def test_unknown_key_names_the_known_ones():
    with pytest.raises(ValidationError) as info:
        parse_rules(rule_set(limits={"max_identifer_records": 5}))
    assert info.value.errors[0].reason == (
        "unknown keys ['max_identifer_records']; use max_identifier_records, max_block_records"
    )


def test_file_that_is_not_utf8_is_a_validation_error(tmp_path: Path):
    path = tmp_path / "rules.toml"
    path.write_bytes(b"# r\xe8gles\n")
    with pytest.raises(ValidationError, match="is not UTF-8") as info:
        load_rules(path)
    assert [e.field for e in info.value.errors] == ["rules"]


def test_rule_set_cannot_be_changed_after_validation():
    rules = parse_rules(rule_set(reconciliation={"attributes": {"email": "most_recent"}}))
    with pytest.raises(TypeError):
        rules.reconciliation["email"] = "most_frequent"  # type: ignore[index]
    with pytest.raises(dataclasses.FrozenInstanceError):
        rules.version = "x"  # type: ignore[misc]
    assert rules.strategy("email") == "most_recent"
    assert rules.reconciliation.get("email") == "most_recent"


def test_rule_set_copies_the_mapping_it_is_given():
    attributes = {"email": "most_recent"}
    rules = RuleSet((), (), Limits(), attributes)
    attributes["email"] = "most_frequent"
    assert rules.strategy("email") == "most_recent"


def test_replace_keeps_a_read_only_rule_set():
    rules = load_rules()
    retuned = dataclasses.replace(rules, rules=rules.rules[:1], version="retuned")
    assert (retuned.rules, retuned.version) == (rules.rules[:1], "retuned")
    assert retuned.reconciliation == rules.reconciliation
    with pytest.raises(TypeError):
        retuned.reconciliation["email"] = "most_frequent"  # type: ignore[index]


def test_a_conditional_conflict_keeps_its_fields_and_alternatives():
    rules = parse_rules(
        rule_set(
            conflicts=[
                {"field": "givenName", "when": ["familyName", "address|postcode"], "penalty": -8}
            ]
        )
    )
    [conflict] = rules.conflicts
    assert (conflict.field, conflict.when, conflict.penalty, conflict.hard) == (
        "givenName",
        ("familyName", "address|postcode"),
        -8.0,
        False,
    )
