"""Segment definitions without Neo4j: validation by path (table-driven), normalisation, and
compiled statements holding no input text."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from graph.errors import ValidationError
from graph.services.segment_cypher import compile_definition, param_name
from graph.services.segment_definition import (
    canonical_json,
    segment_references,
    validate_definition,
)

AS_OF = datetime(2025, 6, 1, tzinfo=UTC)


@pytest.mark.parametrize(
    ("definition", "field", "reason"),
    [
        ({}, "definition", "must hold exactly one condition"),
        ({"age": {"min": 1}, "city": ["x"]}, "definition", "got age, city"),
        ({"and": []}, "definition.and", "must be a non-empty list"),
        ({"and": [{"age": {}}]}, "definition.and[0].age", "needs min or max"),
        ({"or": [{"city": ["a"]}, {"purchase": {"sku": "S", "withinDays": 0}}]},
         "definition.or[1].purchase.withinDays", "must be > 0"),
        ({"purchase": {"withinDays": 3}}, "definition.purchase", "needs sku or category"),
        ({"spend": {"min": 10, "max": 5}}, "definition.spend.max", "must be >= min"),
        ({"orderCount": {"min": 1.5}}, "definition.orderCount.min", "must be a whole number"),
        ({"abandonedCart": {}}, "definition.abandonedCart.olderThanHours", "is required"),
        ({"engaged": {"type": "SENT"}}, "definition.engaged.type", "must be one of OPENED"),
        ({"inactive": {"days": -1}}, "definition.inactive.days", "must be > 0"),
        ({"openCase": False}, "definition.openCase", "must be true"),
        ({"source": {"kind": "FAX"}}, "definition.source.kind", "must be one of"),
        ({"consent": {"channel": "EMAIL", "status": "MAYBE"}}, "definition.consent.status", "GRANTED"),
        ({"country": ["Atlantis"]}, "definition.country[0]", "unknown country"),
        ({"not": {"colour": "red"}}, "definition.not.colour", "is not a condition"),
        ({"age": {"min": 1, "height": 2}}, "definition.age.height", "is not a field here"),
        ("{nope", "definition", "is not JSON"),
    ],
)  # fmt: skip
def test_each_fault_is_named_by_its_path(definition, field, reason):
    with pytest.raises(ValidationError) as caught:
        validate_definition(definition)
    assert any(e.field == field and reason in e.reason for e in caught.value.errors), caught.value


def test_every_fault_is_reported_at_once():
    with pytest.raises(ValidationError) as caught:
        validate_definition({"and": [{"age": {"min": -1}}, {"inactive": {}}]})
    assert [e.field for e in caught.value.errors] == [
        "definition.and[0].age.min",
        "definition.and[1].inactive.days",
    ]


def test_definitions_are_normalised():
    got = validate_definition(
        {"and": [{"country": ["united kingdom"]}, {"consent": {"channel": "email", "status": "opt_out"}},
                 {"postcodePrefix": " nr2 4"}, {"inSegment": " vip "}]}
    )  # fmt: skip
    assert got == {
        "and": [
            {"country": ["GB"]},
            {"consent": {"channel": "EMAIL", "purpose": "MARKETING", "status": "WITHDRAWN"}},
            {"postcodePrefix": "NR24"},
            {"inSegment": "vip"},
        ]
    }
    assert segment_references(got) == {"vip"}
    assert canonical_json(got).startswith('{"and":[{"country":["GB"]}')


def test_input_text_never_reaches_the_statement():
    hostile = "x'}) DETACH DELETE p //"
    compiled = compile_definition(
        validate_definition({"or": [{"city": [hostile]}, {"purchase": {"sku": hostile}}]}),
        lambda _: None,
        as_of=AS_OF,
    )
    assert hostile.lower() not in compiled.predicate.lower()
    assert compiled.params["c0"] == {"values": [hostile.lower()]}
    assert compiled.params["c1"]["sku"] == hostile


def test_a_segment_reaching_itself_is_a_cycle():
    known = {"a": {"inSegment": "b"}, "b": {"and": [{"openCase": True}, {"inSegment": "a"}]}}
    with pytest.raises(ValidationError, match="cycle of segments: a -> b -> a"):
        compile_definition(known["a"], known.get, as_of=AS_OF, segment_id="a")


def test_parameter_names_are_built_from_digits():
    assert [param_name("c", n) for n in (0, 7, 12, 305)] == ["c0", "c7", "c12", "c305"]


def test_a_top_level_and_is_anchored_on_its_most_selective_indexed_condition():
    definition = validate_definition(
        {"and": [{"consent": {"channel": "EMAIL"}}, {"abandonedCart": {"olderThanHours": 1}},
                 {"purchase": {"category": "Footwear"}}]}
    )  # fmt: skip
    compiled = compile_definition(definition, lambda _: None, as_of=AS_OF)
    assert compiled.anchor is not None and "(pr:Product)" in compiled.anchor
    assert "$c2.category" in compiled.anchor  # the purchase condition's own parameter
    # under OR or NOT no single condition holds for every member: no anchor
    for top in ({"or": [{"openCase": True}, {"age": {"min": 3}}]}, {"not": {"openCase": True}}):
        assert compile_definition(validate_definition(top), lambda _: None).anchor is None
