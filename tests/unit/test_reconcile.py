"""Unit tests for graph.resolution.reconcile: a person's records in, golden values out.

Case 21 comes from the shared resolution cases
(/work/shared/cases/21-merge-keeps-attributes-from-sparse-record.json), copied here so the tests
run anywhere.
"""

from __future__ import annotations

import unicodedata

import pytest
from hypothesis import given
from hypothesis import strategies as st

from graph.resolution.reconcile import (
    GoldenValue,
    RecordValues,
    merge_attributes,
    reconcile,
)
from graph.resolution.rules import (
    RECONCILED_ATTRIBUTES,
    STRATEGIES,
    Limits,
    RuleSet,
    parse_rules,
)

_MATCH_RULES = [{"name": "email", "comparisons": [{"field": "email", "scorer": "exact"}]}]


def rules_with(default: str, **attributes: str) -> RuleSet:
    return parse_rules(
        {"rules": _MATCH_RULES, "reconciliation": {"default": default, "attributes": attributes}}
    )


def rec(
    key: str, priority: int, updated_at: str | None, given_name: object = None, **attributes: object
) -> RecordValues:
    return RecordValues(key, priority, updated_at, {"givenName": given_name}, attributes)


def winner(records: list[RecordValues], strategy: str) -> tuple[object, str]:
    golden = reconcile(records, rules_with(strategy))["givenName"]
    return golden.value, golden.record_key


# --- strategies and tie-breaks ------------------------------------------------------------------

OLD, NEW, NEWEST = "2024-01-01T00:00:00Z", "2025-01-01T00:00:00Z", "2025-06-01T00:00:00Z"


@pytest.mark.parametrize(
    ("records", "expected"),
    [
        pytest.param(
            [rec("a:1", 90, OLD, "Ann"), rec("b:1", 10, NEW, "Anne")],
            ("Ann", "a:1"),
            id="highest-priority-wins-though-older",
        ),
        pytest.param(
            [rec("a:1", 50, OLD, "Ann"), rec("b:1", 50, NEW, "Anne")],
            ("Anne", "b:1"),
            id="priority-tie-goes-to-most-recent",
        ),
        pytest.param(
            [rec("b:1", 50, NEW, "Anne"), rec("a:1", 50, NEW, "Ann")],
            ("Ann", "a:1"),
            id="priority-and-time-tie-goes-to-smallest-key",
        ),
        pytest.param(
            [rec("a:1", 50, None, "Ann"), rec("b:1", 50, OLD, "Anne")],
            ("Anne", "b:1"),
            id="missing-updated-at-is-oldest",
        ),
        pytest.param(
            [
                rec("a:1", 90, NEW, None),
                rec("b:1", 80, NEW, ""),
                rec("c:1", 70, NEW, " \t"),
                rec("d:1", 10, OLD, "Ann"),
            ],
            ("Ann", "d:1"),
            id="empty-values-of-higher-priority-never-win",
        ),
    ],
)
def test_source_priority_picks_highest_priority_then_most_recent_then_smallest_key(
    records, expected
):
    assert winner(records, "source_priority") == expected


@pytest.mark.parametrize(
    ("records", "expected"),
    [
        pytest.param(
            [rec("a:1", 90, OLD, "Ann"), rec("b:1", 10, NEW, "Anne")],
            ("Anne", "b:1"),
            id="newest-wins-though-lower-priority",
        ),
        pytest.param(
            [
                rec("a:1", 10, OLD, "Ann"),
                rec("b:1", 10, NEWEST, None),
                rec("c:1", 10, NEWEST, "  "),
            ],
            ("Ann", "a:1"),
            id="newer-empty-values-never-win",
        ),
        pytest.param(
            [rec("a:1", 90, None, "Ann"), rec("b:1", 1, "1990-01-01T00:00:00Z", "Anne")],
            ("Anne", "b:1"),
            id="missing-updated-at-is-oldest",
        ),
        pytest.param(
            [rec("a:1", 10, NEW, "Ann"), rec("b:1", 20, NEW, "Anne")],
            ("Anne", "b:1"),
            id="time-tie-goes-to-higher-priority",
        ),
        pytest.param(
            [rec("b:1", 20, NEW, "Anne"), rec("a:1", 20, NEW, "Ann")],
            ("Ann", "a:1"),
            id="time-and-priority-tie-goes-to-smallest-key",
        ),
        pytest.param(
            [
                rec("a:1", 10, "2025-01-01T10:00:00+02:00", "Ann"),
                rec("b:1", 10, "2025-01-01T09:00:00Z", "Anne"),
            ],
            ("Anne", "b:1"),
            id="offsets-are-compared-as-instants-not-text",
        ),
        pytest.param(
            [
                rec("a:1", 10, "2025-01-01T09:00:00.250Z", "Ann"),
                rec("b:1", 10, "2025-01-01T09:00:00Z", "Anne"),
            ],
            ("Ann", "a:1"),
            id="fractions-of-a-second-count",
        ),
        pytest.param(
            [
                rec("a:1", 10, "2025-01-01T09:00:00", "Ann"),
                rec("b:1", 10, "2025-01-01T08:00:00Z", "Anne"),
            ],
            ("Ann", "a:1"),
            id="time-without-offset-is-utc",
        ),
    ],
)
def test_most_recent_picks_newest_value_then_priority_then_smallest_key(records, expected):
    assert winner(records, "most_recent") == expected


@pytest.mark.parametrize(
    ("records", "expected"),
    [
        pytest.param(
            [
                rec("a:1", 10, OLD, "Smith"),
                rec("b:1", 10, NEW, "smith"),
                rec("c:1", 90, NEWEST, "Smyth"),
            ],
            ("smith", "b:1"),
            id="majority-beats-newest-and-shows-its-most-recent-spelling",
        ),
        pytest.param(
            [
                rec("a:1", 10, OLD, "Zoë"),
                rec("b:1", 10, NEW, "ZOE"),
                rec("c:1", 10, "2024-06-01T00:00:00Z", "zoe"),
                rec("d:1", 10, NEWEST, "Zed"),
            ],
            ("ZOE", "b:1"),
            id="case-and-accents-agree",
        ),
        pytest.param(
            [
                rec("a:1", 10, OLD, "O'Brien"),
                rec("b:1", 10, NEW, "OBrien"),
                rec("c:1", 10, NEWEST, "Brien"),
            ],
            ("OBrien", "b:1"),
            id="punctuation-agrees",
        ),
        pytest.param(
            [rec("a:1", 90, OLD, "Ann"), rec("b:1", 10, NEW, "Anne")],
            ("Anne", "b:1"),
            id="count-tie-goes-to-most-recent",
        ),
        pytest.param(
            [rec("a:1", 10, NEW, "Ann"), rec("b:1", 20, NEW, "Anne")],
            ("Anne", "b:1"),
            id="count-and-time-tie-goes-to-higher-priority",
        ),
        pytest.param(
            [rec("b:1", 10, NEW, "Anne"), rec("a:1", 10, NEW, "Ann")],
            ("Ann", "a:1"),
            id="count-time-and-priority-tie-goes-to-smallest-key",
        ),
        pytest.param(
            [
                rec("a:1", 10, NEW, None),
                rec("b:1", 10, NEW, ""),
                rec("c:1", 10, NEW, " "),
                rec("d:1", 10, OLD, "Ann"),
            ],
            ("Ann", "d:1"),
            id="empty-values-cast-no-vote",
        ),
        pytest.param(
            [
                rec("a:1", 10, OLD, "?!"),
                rec("b:1", 10, OLD, "..."),
                rec("c:1", 10, OLD, "..."),
                rec("d:1", 10, NEW, "?!"),
            ],
            ("?!", "d:1"),
            id="text-folding-to-nothing-still-compares-as-written",
        ),
    ],
)
def test_most_frequent_picks_commonest_value_then_most_recent_then_priority_then_key(
    records, expected
):
    assert winner(records, "most_frequent") == expected


@pytest.mark.parametrize("strategy", sorted(STRATEGIES))
def test_golden_value_records_its_provenance(strategy):
    golden = reconcile([rec("a:1", 10, OLD, "Ann")], rules_with(strategy))
    assert golden == {"givenName": GoldenValue("givenName", "Ann", "a:1", strategy)}


def test_each_attribute_follows_its_own_strategy():
    records = [
        RecordValues("commerce:1", 90, OLD, {"givenName": "Robert", "email": "rob@old.example"}),
        RecordValues("marketing:1", 10, NEW, {"givenName": "Bob", "email": "bob@new.example"}),
    ]
    golden = reconcile(records, rules_with("source_priority", email="most_recent"))
    assert (golden["givenName"].value, golden["givenName"].strategy) == (
        "Robert",
        "source_priority",
    )
    assert (golden["email"].value, golden["email"].strategy) == ("bob@new.example", "most_recent")


@pytest.mark.parametrize("strategy", sorted(STRATEGIES))
def test_attributes_no_record_has_are_absent_and_unknown_ones_ignored(strategy):
    records = [RecordValues("a:1", 10, NEW, {"givenName": "Ann", "phone": " ", "shoeSize": "7"})]
    assert set(reconcile(records, rules_with(strategy))) == {"givenName"}
    assert reconcile([], rules_with(strategy)) == {}


@pytest.mark.parametrize("strategy", sorted(STRATEGIES))
def test_result_does_not_depend_on_record_order(strategy):
    records = [
        rec("b:1", 10, NEW, "Ann"),
        rec("a:1", 10, NEW, "Anne"),
        rec("c:1", 20, OLD, "ann"),
        rec("d:1", 20, None, "Anna"),
    ]
    rules = rules_with(strategy)
    assert reconcile(records, rules) == reconcile(records[::-1], rules)


def test_strategy_a_rule_set_cannot_contain_is_refused():
    rules = RuleSet((), (), Limits(), {"givenName": "newest"})
    with pytest.raises(ValueError, match="newest"):
        reconcile([rec("a:1", 10, OLD, "Ann")], rules)


def test_unreadable_updated_at_names_the_record():
    with pytest.raises(ValueError, match="shop:7"):
        reconcile([rec("shop:7", 10, "last tuesday", "Ann")], rules_with("most_recent"))


# --- case 21: a newer, sparse record keeps what the older one knows -----------------------------

CASE_21_A = RecordValues(
    "commerce:CM-45001",
    50,
    "2025-01-05T10:00:00Z",
    {
        "givenName": "Imogen",
        "familyName": "Fairweather",
        "email": "imogen.f@example.co.uk",
        "birthDate": "1990-10-30",
        "addressLine1": "27 Orchard Close",
        "city": "Bath",
        "postcode": "BA1 5JS",
        "country": "GB",
    },
    {"preferences": {"language": "en", "store": "Bath"}},
)
CASE_21_B = RecordValues(
    "marketing:MK-30001",
    10,
    "2025-08-19T21:00:00Z",
    {
        "givenName": None,
        "familyName": None,
        "email": "Imogen.F@example.co.uk",
        "birthDate": None,
        "addressLine1": None,
        "city": None,
        "postcode": None,
        "country": None,
    },
    {"preferences": {"language": "cy"}},
)
CASE_21_GOLDEN_OF_A = {
    "givenName": "Imogen",
    "familyName": "Fairweather",
    "birthDate": "1990-10-30",
    "addressLine1": "27 Orchard Close",
    "postcode": "BA1 5JS",
}


@pytest.mark.parametrize("strategy", sorted(STRATEGIES))
@pytest.mark.parametrize("b_priority", [10, 90], ids=["b-lower-priority", "b-higher-priority"])
def test_case_21_newer_sparse_record_keeps_known_attributes(strategy, b_priority):
    b = RecordValues(CASE_21_B.key, b_priority, CASE_21_B.updated_at, CASE_21_B.values)
    golden = reconcile([CASE_21_A, b], rules_with(strategy))
    assert {name: golden[name].value for name in CASE_21_GOLDEN_OF_A} == CASE_21_GOLDEN_OF_A
    assert {golden[name].record_key for name in CASE_21_GOLDEN_OF_A} == {CASE_21_A.key}
    assert set(golden) == set(CASE_21_A.values)  # nothing lost, the person is not anonymous


def test_case_21_nested_preferences_merge_key_by_key():
    merged = merge_attributes([CASE_21_A, CASE_21_B])
    assert merged == {"preferences": {"language": "cy", "store": "Bath"}}


# --- merge_attributes ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("records", "expected"),
    [
        pytest.param([], {}, id="no-records"),
        pytest.param(
            [rec("a:1", 10, OLD, x=1), rec("b:1", 10, NEW, y=2)],
            {"x": 1, "y": 2},
            id="disjoint-keys-are-united",
        ),
        pytest.param(
            [rec("a:1", 90, OLD, x="old"), rec("b:1", 10, NEW, x="new")],
            {"x": "new"},
            id="most-recent-leaf-wins-over-priority",
        ),
        pytest.param(
            [
                rec("a:1", 10, OLD, x="old"),
                rec("b:1", 10, NEW, x=None),
                rec("c:1", 10, NEWEST, x="  "),
            ],
            {"x": "old"},
            id="empty-leaves-never-win",
        ),
        pytest.param(
            [
                rec("a:1", 10, OLD, p={"a": {"b": 1, "c": 2}}),
                rec("b:1", 10, NEW, p={"a": {"c": 3, "d": 4}}),
            ],
            {"p": {"a": {"b": 1, "c": 3, "d": 4}}},
            id="merges-recursively",
        ),
        pytest.param(
            [
                rec("a:1", 10, OLD, p={"a": 1}),
                rec("b:1", 10, NEW, p={}),
                rec("c:1", 10, NEWEST, p={"b": None, "c": {"d": ""}}),
            ],
            {"p": {"a": 1}},
            id="empty-mappings-never-win",
        ),
        pytest.param([rec("a:1", 10, OLD, x=None)], {}, id="all-empty-gives-nothing"),
        pytest.param(
            [rec("a:1", 10, OLD, p={"a": 1}), rec("b:1", 10, NEW, p="flat")],
            {"p": "flat"},
            id="newer-plain-value-replaces-mapping",
        ),
        pytest.param(
            [rec("a:1", 10, OLD, p="flat"), rec("b:1", 10, NEW, p={"a": 1})],
            {"p": {"a": 1}},
            id="newer-mapping-replaces-plain-value",
        ),
        pytest.param(
            [rec("a:1", 10, OLD, tags=["vip"]), rec("b:1", 10, NEW, tags=[])],
            {"tags": ["vip"]},
            id="lists-are-leaves-and-empty-lists-never-win",
        ),
        pytest.param(
            [rec("a:1", 10, NEW, x="low"), rec("b:1", 20, NEW, x="high")],
            {"x": "high"},
            id="time-tie-goes-to-higher-priority",
        ),
        pytest.param(
            [rec("b:1", 10, NEW, x="b"), rec("a:1", 10, NEW, x="a")],
            {"x": "a"},
            id="time-and-priority-tie-goes-to-smallest-key",
        ),
        pytest.param(
            [rec("a:1", 10, None, x="undated"), rec("b:1", 10, OLD, x="dated")],
            {"x": "dated"},
            id="missing-updated-at-is-oldest",
        ),
    ],
)
def test_merge_attributes_takes_most_recent_non_empty_leaf(records, expected):
    assert merge_attributes(records) == expected


def test_merge_attributes_never_modifies_its_inputs():
    older = {"preferences": {"language": "en", "store": "Bath"}}
    newer = {"preferences": {"language": "cy"}}
    merged = merge_attributes(
        [RecordValues("a:1", 10, OLD, {}, older), RecordValues("b:1", 10, NEW, {}, newer)]
    )
    merged["preferences"]["store"] = "Bristol"  # type: ignore[index]
    assert older == {"preferences": {"language": "en", "store": "Bath"}}
    assert newer == {"preferences": {"language": "cy"}}


def test_record_values_default_to_no_nested_attributes():
    record = RecordValues("a:1", 10, None, {"givenName": "Ann"})
    assert record.attributes == {}
    assert merge_attributes([record]) == {}


# --- text is returned as written ----------------------------------------------------------------

NFC_NAME = "Ana\u00efs Lefran\u00e7ois"  # case 01, composed
NFD_NAME = unicodedata.normalize("NFD", NFC_NAME)


@pytest.mark.parametrize("strategy", sorted(STRATEGIES))
def test_nfc_text_stays_nfc(strategy):
    records = [
        rec("a:1", 10, OLD, NFD_NAME),
        rec("b:1", 10, NEW, NFC_NAME),
        rec("c:1", 10, NEW, NFC_NAME),
    ]
    value = reconcile(records, rules_with(strategy))["givenName"].value
    assert value == NFC_NAME
    assert unicodedata.is_normalized("NFC", value)


def test_most_frequent_counts_nfc_and_nfd_spellings_as_one_value():
    records = [
        rec("a:1", 10, OLD, NFD_NAME),
        rec("b:1", 10, NEW, NFC_NAME),
        rec("c:1", 10, NEWEST, "Anaïs Lefebvre"),
    ]
    assert winner(records, "most_frequent") == (NFC_NAME, "b:1")


# --- properties ---------------------------------------------------------------------------------

_values = st.one_of(st.none(), st.sampled_from(["", " ", "Ann", "ann", "Anne", "Zoë", "ZOE"]))
_times = st.one_of(st.none(), st.sampled_from([OLD, NEW, NEWEST]))
_records = st.lists(
    st.builds(
        rec,
        st.sampled_from(["a:1", "b:1", "c:1", "d:1", "e:1"]),
        st.integers(0, 3),
        _times,
        _values,
    ),
    max_size=6,
    unique_by=lambda r: r.key,
)


@given(records=_records, strategy=st.sampled_from(sorted(STRATEGIES)), data=st.data())
def test_golden_values_are_non_empty_values_of_records_whatever_the_order(records, strategy, data):
    rules = rules_with(strategy)
    golden = reconcile(records, rules)
    shuffled = data.draw(st.permutations(records))
    assert reconcile(shuffled, rules) == golden
    carried = {(r.key, r.values["givenName"]) for r in records}
    for value in golden.values():
        assert value.value.strip()
        assert (value.record_key, value.value) in carried
    has_value = any(r.values["givenName"] and r.values["givenName"].strip() for r in records)
    assert ("givenName" in golden) == has_value
    assert set(golden) <= set(RECONCILED_ATTRIBUTES)
