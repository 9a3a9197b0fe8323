"""Segments against a real Neo4j: every condition type, nesting, references, validation by
path, and consent (engagement opt-outs, bounces, merge and split) as segments see it."""

from __future__ import annotations

import pytest

from graph.errors import Conflict, ValidationError
from graph.services import segments
from graph.services.segment_definition import validate_definition
from tests.integration.segment_world import AS_OF, World, build


@pytest.fixture
def world(neo4j_driver, settings) -> World:
    return build(neo4j_driver, settings)


def members(world: World, definition: dict) -> set[str]:
    """The given names of the members of a definition (each person has one)."""
    compiled = segments.compile_segment(
        world.driver, world.settings, validate_definition(definition), as_of=AS_OF
    )
    ids, more = segments.member_page(world.driver, world.settings, compiled, 100)
    assert not more
    assert segments.count_members(world.driver, world.settings, compiled) == len(ids)
    rows = world.run("MATCH (p:Person) WHERE p.id IN $ids RETURN p.givenName AS n", ids=ids)
    return {r["n"] for r in rows}


@pytest.mark.parametrize(
    ("definition", "expected"),
    [
        ({"age": {"min": 30, "max": 40}}, {"Ann"}),
        ({"age": {"min": 60}}, {"Bob"}),
        ({"age": {"max": 25}}, {"Cy"}),
        ({"city": ["london", "DUBLIN"]}, {"Ann", "Cy"}),
        ({"country": ["Ireland"]}, {"Cy"}),
        ({"postcodePrefix": "nr2"}, {"Ann"}),
        ({"purchase": {"sku": "SKU-1", "withinDays": 30}}, {"Ann"}),  # Bob's SKU-1 was cancelled
        ({"purchase": {"category": "books"}}, {"Bob"}),
        ({"purchase": {"category": "Books", "withinDays": 365}}, set()),
        ({"spend": {"min": 200}}, {"Bob"}),
        ({"spend": {"min": 50, "withinDays": 30}}, {"Ann"}),
        ({"orderCount": {"min": 1, "max": 1}}, {"Ann", "Bob"}),
        ({"orderCount": {"max": 0}}, {"Cy"}),
        ({"abandonedCart": {"olderThanHours": 24}}, {"Bob"}),
        ({"abandonedCart": {"olderThanHours": 72}}, set()),
        ({"engaged": {"type": "OPENED", "campaign": "Summer Sale", "withinDays": 30}}, {"Ann"}),
        ({"engaged": {"type": "CLICKED"}}, set()),
        ({"inactive": {"days": 30}}, {"Bob", "Cy"}),
        ({"openCase": True}, {"Cy"}),
        ({"source": {"kind": "MARKETING"}}, {"Ann"}),
        ({"source": {"id": "crm"}}, {"Cy"}),
        ({"consent": {"channel": "EMAIL", "purpose": "MARKETING", "status": "GRANTED"}},
         {"Ann", "Bob", "Cy"}),
        ({"consent": {"channel": "SMS", "status": "NONE"}}, {"Ann", "Cy"}),
    ],
)  # fmt: skip
def test_each_condition_type_selects_its_people(world, definition, expected):
    assert members(world, definition) == expected


def test_and_or_not_nest(world):
    assert members(
        world,
        {
            "or": [
                {"and": [{"country": ["GB"]}, {"not": {"purchase": {"category": "Shoes"}}}]},
                {"and": [{"openCase": True}, {"not": {"age": {"min": 30}}}]},
            ]
        },
    ) == {"Bob", "Cy"}
    assert members(world, {"not": {"or": [{"city": ["Leeds"]}, {"openCase": True}]}}) == {"Ann"}


def test_a_segment_can_use_another_and_a_cycle_is_refused(world):
    gb = segments.create_segment(
        world.driver, world.settings, "GB", {"country": ["GB"]}, actor="t", segment_id="gb"
    )
    buyers = segments.create_segment(
        world.driver,
        world.settings,
        "GB buyers of shoes",
        {"and": [{"inSegment": "gb"}, {"purchase": {"category": "Shoes"}}]},
        actor="t",
        segment_id="gb-shoes",
    )
    assert members(world, {"inSegment": buyers.id}) == {"Ann"}
    with pytest.raises(ValidationError) as caught:
        segments.update_segment(
            world.driver, world.settings, gb.id, {"or": [{"inSegment": "gb-shoes"}]}, actor="t"
        )
    assert caught.value.errors[0].field == "definition.or[0].inSegment"
    assert "cycle" in caught.value.errors[0].reason
    with pytest.raises(ValidationError, match="no segment"):
        segments.create_segment(world.driver, world.settings, "x", {"inSegment": "nope"}, actor="t")
    with pytest.raises(Conflict, match="gb-shoes"):
        segments.remove_segment(world.driver, world.settings, "gb", actor="t")


def test_versions_are_kept_and_the_same_definition_adds_none(world):
    s = segments.create_segment(world.driver, world.settings, "Shoes", {"purchase": {"category": "Shoes"}}, actor="a", segment_id="s")  # fmt: skip
    again = segments.create_segment(world.driver, world.settings, "Shoes", {"purchase": {"category": "Shoes"}}, actor="a", segment_id="s")  # fmt: skip
    assert (s.version, again.version) == (1, 1)
    with pytest.raises(Conflict):
        segments.create_segment(world.driver, world.settings, "Other", {"openCase": True}, actor="a", segment_id="s")  # fmt: skip
    v2 = segments.update_segment(world.driver, world.settings, "s", {"purchase": {"category": "Books"}}, actor="b")  # fmt: skip
    assert v2.version == 2
    from graph.store import segments as store

    old = store.get_segment(world.driver, world.settings, "s", version=1)
    assert old is not None and old.definition == {"purchase": {"category": "Shoes"}}
    assert world.run("MATCH (:Segment {id: 's'})-[:HAS_VERSION]->(v) RETURN count(v) AS n")[0]["n"] == 2  # fmt: skip


def test_invalid_definitions_name_the_path_of_each_fault(world):
    with pytest.raises(ValidationError) as caught:
        segments.preview(
            world.driver,
            world.settings,
            {
                "and": [
                    {"age": {"min": 40, "max": 30}},
                    {"purchase": {"sku": "SKU-1", "withinDays": 0}},
                    {"city": ["x"], "country": ["GB"]},
                    {"not": {"colour": "red"}},
                    {"consent": {"channel": "PIGEON"}},
                ]
            },
        )
    found = {(e.field, e.reason) for e in caught.value.errors}
    assert ("definition.and[0].age.max", "must be >= min") in found
    assert ("definition.and[1].purchase.withinDays", "must be > 0") in found
    fields = [e.field for e in caught.value.errors]
    assert "definition.and[2]" in fields
    assert "definition.and[3].not.colour" in fields
    assert "definition.and[4].consent.channel" in fields


def test_preview_counts_and_lists_members_without_saving(world):
    result = segments.preview(world.driver, world.settings, {"country": ["GB"]}, as_of=AS_OF)
    assert result.count == 2 and len(result.person_ids) == 2
    assert world.run("MATCH (s:Segment) RETURN count(s) AS n")[0]["n"] == 0


def test_a_person_lists_the_segments_they_belong_to_now(world):
    segments.create_segment(world.driver, world.settings, "GB", {"country": ["GB"]}, actor="t", segment_id="gb")  # fmt: skip
    segments.create_segment(world.driver, world.settings, "Case", {"openCase": True}, actor="t", segment_id="case")  # fmt: skip
    bob, cy = world.person_of("shop:B1"), world.person_of("crm:C1")
    assert [s.id for s in segments.segments_of_person(world.driver, world.settings, bob)] == ["gb"]
    assert [s.id for s in segments.segments_of_person(world.driver, world.settings, cy)] == ["case"]


def test_explain_gives_words_and_the_statement_with_parameter_names(world):
    compiled = segments.compile_segment(
        world.driver,
        world.settings,
        validate_definition({"and": [{"purchase": {"sku": "SKU-1", "withinDays": 7}}, {"openCase": True}]}),
        as_of=AS_OF,
    )  # fmt: skip
    explained = segments.explain(compiled)
    assert "bought product SKU-1 in the last 7 days" in explained.words
    assert "$c0.sku" in explained.cypher and "SKU-1" not in explained.cypher
    assert explained.parameters["c0"]["sku"] == "SKU-1"


# --- consent -----------------------------------------------------------------------------------

EMAIL_OPT_IN = {"consent": {"channel": "EMAIL", "purpose": "MARKETING", "status": "GRANTED"}}
EMAIL_OPT_OUT = {"consent": {"channel": "EMAIL", "purpose": "MARKETING", "status": "WITHDRAWN"}}


def unsubscribe(world: World) -> None:
    world.rows(
        "mkt",
        "engagement",
        [{"eventId": "E9", "sourceId": "M1", "type": "UNSUBSCRIBED", "campaign": "Summer Sale",
          "at": "2025-05-26T10:00:00Z"}],
    )  # fmt: skip


def test_an_unsubscribe_from_a_marketing_source_is_an_email_marketing_opt_out(world):
    assert "Ann" in members(world, EMAIL_OPT_IN)
    unsubscribe(world)
    unsubscribe(world)  # again: one opt-out
    assert members(world, EMAIL_OPT_OUT) == {"Ann"}
    assert world.run("MATCH (c:Consent {derivedFrom: 'mkt:E9'}) RETURN count(c) AS n")[0]["n"] == 1
    # the same event type from a commerce source says nothing about consent
    world.rows("shop", "engagement", [{"eventId": "X1", "sourceId": "B1", "type": "UNSUBSCRIBED", "at": "2025-05-26T10:00:00Z"}])  # fmt: skip
    assert "Bob" in members(world, EMAIL_OPT_IN)


def test_a_hard_bounce_marks_the_email_undeliverable(world):
    world.rows("mkt", "engagement", [{"eventId": "B1", "sourceId": "M1", "type": "HARD_BOUNCE", "at": "2025-05-27T10:00:00Z"}])  # fmt: skip
    rows = world.run(
        "MATCH (i:Identifier {type: 'EMAIL'}) WHERE i.undeliverable RETURN i.value AS v"
    )
    assert [r["v"] for r in rows] == ["ann@example.org"]


def test_the_effective_consent_follows_records_through_split_and_merge(world):
    unsubscribe(world)
    ann = world.person_of("shop:A1")
    assert members(world, EMAIL_OPT_OUT) == {"Ann"}

    # split the marketing record off: its opt-out goes with it, Ann's own grant is back
    world.resolver.split_record("mkt:M1")
    split_off = world.person_of("mkt:M1")
    assert split_off != ann
    opted_out = segments.preview(world.driver, world.settings, EMAIL_OPT_OUT, as_of=AS_OF)
    assert opted_out.person_ids == (split_off,)
    granted = segments.preview(world.driver, world.settings, EMAIL_OPT_IN, as_of=AS_OF)
    assert ann in granted.person_ids and split_off not in granted.person_ids

    # merge them again: the latest event (the opt-out) is the survivor's effective consent
    world.resolver.merge_people(ann, split_off, override=True)
    survivor = world.person_of("shop:A1")
    assert world.person_of("mkt:M1") == survivor
    opted_out = segments.preview(world.driver, world.settings, EMAIL_OPT_OUT, as_of=AS_OF)
    assert opted_out.person_ids == (survivor,)
