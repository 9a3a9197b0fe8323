"""Unit tests for graph.resolution.plan.make_plan: hand-made components in, changes out."""

from __future__ import annotations

import dataclasses
import itertools
import json

from graph.resolution.fs_score import compile_model
from graph.resolution.model import load_model
from graph.resolution.plan import (
    RecordData,
    candidate_pairs,
    conflict_penalty,
    focus,
    make_plan,
)
from graph.resolution.rules import load_rules

RULES = load_rules()
T0, T1, T2, T3 = (
    "2025-01-01T10:00:00Z",
    "2025-01-02T10:00:00Z",
    "2025-01-03T10:00:00Z",
    "2025-01-04T10:00:00Z",
)


def record(
    key: str,
    *,
    person: str | None = None,
    created: str = T0,
    person_created: str | None = None,
    priority: int = 10,
    updated: str | None = None,
    **props: object,
) -> RecordData:
    """A record as read from the graph; its email and phone become identifiers."""
    identifiers = tuple(
        (kind, str(props[name]).lower())
        for name, kind in (("email", "EMAIL"), ("phone", "PHONE"))
        if props.get(name)
    )
    return RecordData(
        key=key,
        source=key.split(":")[0],
        priority=priority,
        created_at=created,
        updated_at=updated or created,
        props=props,
        identifiers=identifiers,
        person=person,
        person_created=person_created or (T0 if person else None),
        link_rule=None if person is None else "email",
    )


def new_ids():
    numbers = itertools.count(1)
    return lambda: f"p-new{next(numbers)}"


def plan_of(records, **kwargs):
    return make_plan(records, RULES, new_id=new_ids(), **kwargs)


def kinds(plan) -> list[str]:
    return sorted(e.kind for e in plan.events)


ANN = {"givenName": "Ann", "familyName": "Lee", "email": "ann.lee@example.org"}
BOB = {
    "givenName": "Bob",
    "familyName": "Stone",
    "email": "bob@example.net",
    "phone": "+447700900002",
}


def test_a_new_record_alone_creates_a_person():
    plan = plan_of([record("crm:1", **ANN)])

    assert [(a.person_id, a.keys, a.is_new) for a in plan.assignments] == [
        ("p-new1", ("crm:1",), True)
    ]
    assert [(e.kind, e.person_id, e.record_keys) for e in plan.events] == [
        ("CREATED", "p-new1", ("crm:1",))
    ]
    [link] = plan.links
    assert (link.key, link.person_id, link.rule, link.matched) == (
        "crm:1",
        "p-new1",
        "first_record",
        None,
    )
    assert plan.golden["p-new1"]["givenName"] == "Ann"
    assert plan.golden["p-new1"]["recordCount"] == 1
    assert plan.absorbed == {}


def test_a_new_record_matching_one_person_is_linked_to_it():
    plan = plan_of(
        [
            record("crm:1", person="p-1", **ANN),
            record("shop:9", created=T1, **{**ANN, "email": "ANN.LEE@example.org"}),
        ]
    )

    assert [(a.person_id, a.keys, a.is_new) for a in plan.assignments] == [
        ("p-1", ("crm:1", "shop:9"), False)
    ]
    [event] = plan.events
    assert (event.kind, event.person_id, event.record_keys, event.rule, event.score) == (
        "LINKED",
        "p-1",
        ("shop:9",),
        "email",
        100.0,
    )
    assert "shop:9 matches crm:1 by rule email" in event.explanation
    [link] = plan.links  # the record already linked is left alone
    assert (link.key, link.person_id, link.rule, link.matched) == (
        "shop:9",
        "p-1",
        "email",
        "crm:1",
    )
    assert json.loads(link.scores) == {"email": 100.0}
    assert list(plan.golden) == ["p-1"]
    assert plan.golden["p-1"]["sources"] == ["crm", "shop"]


def test_a_record_bridging_two_people_merges_them_into_the_oldest():
    bridge = {
        "givenName": "Ann",
        "familyName": "Lee",
        "email": "ann.lee@example.org",
        "phone": "+447700900009",
    }
    records = [
        record("crm:1", person="p-old", person_created=T0, **ANN),
        record(
            "shop:2",
            person="p-young",
            person_created=T1,
            created=T1,
            givenName="Anne",
            familyName="Lee",
            phone="+447700900009",
        ),
        record("web:3", created=T2, **bridge),
    ]

    plan = plan_of(records)

    [assignment] = plan.assignments
    assert (assignment.person_id, assignment.absorbed, assignment.is_new) == (
        "p-old",
        ("p-young",),
        False,
    )
    merged = [e for e in plan.events if e.kind == "MERGED"]
    assert len(merged) == 1
    assert merged[0].absorbed == ("p-young",) and merged[0].person_id == "p-old"
    assert merged[0].record_keys == ("shop:2",)
    assert "merged p-young into p-old" in merged[0].explanation
    assert plan.absorbed == {"p-young": "p-old"}
    assert list(plan.golden) == ["p-old"]  # nothing for the absorbed person
    assert plan.golden["p-old"]["recordCount"] == 3
    assert plan.golden["p-old"]["phone"] == "+447700900009"
    assert {link.key: link.person_id for link in plan.links} == {
        "shop:2": "p-old",
        "web:3": "p-old",
    }


def test_an_unchanged_component_gives_an_empty_plan():
    records = [
        record("crm:1", person="p-1", **ANN),
        record("shop:2", person="p-1", created=T1, **ANN),
        record("web:3", person="p-2", created=T2, **BOB),
    ]

    plan = plan_of(records)

    assert plan.links == [] and plan.events == [] and plan.golden == {} and plan.absorbed == {}
    assert sorted((a.person_id, a.keys) for a in plan.assignments) == [
        ("p-1", ("crm:1", "shop:2")),
        ("p-2", ("web:3",)),
    ]
    assert plan.touched == []


def test_a_cannot_link_splits_the_newer_record_into_a_new_person():
    records = [
        record("crm:1", person="p-1", **ANN),
        record("shop:2", person="p-1", created=T1, **ANN),
    ]

    plan = plan_of(records, cannot_links=[("shop:2", "crm:1")])

    by_id = {a.person_id: a for a in plan.assignments}
    assert by_id["p-1"].keys == ("crm:1",)
    assert by_id["p-new1"].keys == ("shop:2",) and by_id["p-new1"].split_from == "p-1"
    [event] = plan.events
    assert (event.kind, event.person_id, event.split_from) == ("SPLIT", "p-new1", "p-1")
    assert sorted(plan.golden) == ["p-1", "p-new1"]  # both people changed
    assert plan.golden["p-1"]["recordCount"] == 1


def test_a_must_link_merges_people_no_rule_links():
    records = [
        record("crm:1", person="p-1", **ANN),
        record("web:3", person="p-2", person_created=T1, created=T1, **BOB),
    ]

    plan = plan_of(records, must_links=[("web:3", "crm:1")])

    assert [(a.person_id, a.absorbed) for a in plan.assignments] == [("p-1", ("p-2",))]
    [link] = plan.links
    assert (link.key, link.rule) == ("web:3", "must_link")
    assert kinds(plan) == ["MERGED"]


def test_pairs_limit_which_records_are_compared():
    records = [record("crm:1", **ANN), record("shop:2", created=T1, **ANN)]

    apart = plan_of(records, pairs=[])
    together = plan_of(records, pairs=[("crm:1", "shop:2")])

    assert len(apart.assignments) == 2 and kinds(apart) == ["CREATED", "CREATED"]
    assert len(together.assignments) == 1 and kinds(together) == ["CREATED", "LINKED"]


def test_golden_attributes_come_from_every_record_of_the_person():
    records = [
        record(
            "crm:1",
            person="p-1",
            priority=90,
            updated=T0,
            givenName="Ann",
            familyName="Lee",
            email="ann.lee@example.org",
            city="Leeds",
        ),
        record(
            "shop:2",
            priority=10,
            created=T1,
            updated=T3,
            givenName="Ann",
            familyName="Lee",
            email="ann.lee@example.org",
            city="",
            phone="+447700900001",
        ),
    ]

    golden = plan_of(records).golden["p-1"]

    assert golden["city"] == "Leeds"  # the newer record's blank city never wins
    assert golden["phone"] == "+447700900001"
    assert json.loads(golden["goldenSources"])["city"] == "crm:1"
    assert golden["birthDate"] is None


# --- candidate pairs ----------------------------------------------------------------------------


def test_candidate_pairs_come_from_shared_identifiers_and_blocking_keys():
    records = [
        record("a:1", **ANN),
        record("a:2", **ANN),
        record("a:3", givenName="Lee", familyName="Ann", birthDate="1990-04-01"),
        record("a:4", givenName="Ann", familyName="Lee", birthDate="1990-04-01"),
        record("a:5", **BOB),
    ]
    features = {r.key: r.features() for r in records}

    pairs = candidate_pairs(records, features, 200)
    # a:1-a:2 share an email, a:3-a:4 a birth date; all four the Soundex of "ann" and "lee"
    # in either order (swapped names); Bob shares nothing
    assert pairs == {
        (a, b) for a in ("a:1", "a:2", "a:3", "a:4") for b in ("a:1", "a:2", "a:3", "a:4") if a < b
    }


def test_candidate_pairs_skip_groups_larger_than_the_limit():
    records = [record(f"a:{n}", **ANN) for n in range(4)]
    features = {r.key: r.features() for r in records}

    assert len(candidate_pairs(records, features, 4)) == 6
    assert candidate_pairs(records, features, 3) == set()


def test_an_email_left_out_of_the_identifiers_is_no_evidence():
    shared = "orders@shop-example.com"
    records = [
        RecordData(
            "shop:1",
            "shop",
            10,
            T0,
            T0,
            {"givenName": "Alice", "familyName": "Smith", "email": shared, "postcode": "LS1 4AP"},
        ),
        RecordData(
            "shop:2",
            "shop",
            10,
            T1,
            T1,
            {"givenName": "Adam", "familyName": "Jones", "email": shared, "postcode": "LS1 4AP"},
        ),
    ]  # identifiers empty: the resolver left the over-used EMAIL out

    plan = plan_of(records)

    assert len(plan.assignments) == 2


# -- focus: the part of a component real-time resolution re-clusters -------------------------

MODEL = compile_model(load_model())


def _common_name_component():
    """A seed Ann Lee, the two records of her person, and another person, Ann Lea, born 25
    years earlier, who shares only the name block (Soundex A500:L000) with her."""
    return [
        record("crm:seed", givenName="Ann", familyName="Lee", birthDate="1980-02-03"),
        record("shop:a1", person="p-ann", **ANN, birthDate="1980-02-03"),
        record("shop:a2", person="p-ann", **ANN, postcode="N1 9GU"),
        record(
            "shop:c1",
            person="p-other",
            givenName="Ann",
            familyName="Lea",
            birthDate="1955-07-30",
            email="ann.lea@example.com",
        ),
        record(
            "shop:c2",
            person="p-other",
            givenName="Ann",
            familyName="Lea",
            email="ann.lea@example.com",
        ),
    ]


def test_focus_keeps_the_people_the_seed_relates_to_and_leaves_out_the_others():
    records = _common_name_component()

    features = {r.key: r.features() for r in records}
    assert ("crm:seed", "shop:c1") in candidate_pairs(records, features, 200)

    focused = focus(records, ["crm:seed"], RULES, MODEL)

    assert [r.key for r in focused] == ["crm:seed", "shop:a1", "shop:a2"]


def test_focus_takes_in_regroup_records_people_and_a_seeds_possible_matches():
    records = _common_name_component()
    seed = RecordData(**{**_fields(records[0]), "possible": ("crm:seed|shop:c1",)})

    by_possible = focus([seed, *records[1:]], ["crm:seed"], RULES, MODEL)
    by_regroup = focus(records, ["crm:seed"], RULES, MODEL, regroup=["shop:c2"])

    assert [r.key for r in by_possible] == [r.key for r in records]
    assert [r.key for r in by_regroup] == [r.key for r in records]


def test_a_plan_on_the_focus_links_the_seed_as_on_the_whole_component():
    records = _common_name_component()

    whole = plan_of(records, model=MODEL)
    part = plan_of(focus(records, ["crm:seed"], RULES, MODEL), model=MODEL)

    def person_of_seed(plan):
        return next(a.person_id for a in plan.assignments if "crm:seed" in a.keys)

    assert person_of_seed(whole) == person_of_seed(part) == "p-ann"
    assert {a.person_id for a in part.assignments} == {"p-ann"}


def _fields(r: RecordData) -> dict:
    return {name: getattr(r, name) for name in RecordData.__slots__}


def _person_of(plan, key):
    return next(a.person_id for a in plan.assignments if key in a.keys)


def test_a_shared_national_id_outweighs_a_birth_date_unlike_beyond_a_typo():
    """A relative shares a name, an address or a family email, not a national id: with the
    same id, a birth date mistyped beyond one typo costs its level's weight, not the
    conflict's penalty; without it (a father and son on the family's phone) the pair waits
    for a steward."""
    same = {"givenName": "Amber", "familyName": "Pamplin", "nationalId": "1824555"}
    dup = [
        record("shop:1", birthDate="1969-10-06", **same),
        record("shop:2", birthDate="1937-04-07", **same),
    ]
    plan = plan_of(dup, model=MODEL)
    assert _person_of(plan, "shop:1") == _person_of(plan, "shop:2")
    family = {
        "givenName": "Sam",
        "familyName": "Patel",
        "phone": "+441632960001",  # the family's landline
    }
    father_and_son = [
        record("shop:1", birthDate="1960-01-01", **family),
        record("desk:2", birthDate="2001-09-09", **family),
    ]
    plan = plan_of(father_and_son, model=MODEL)
    assert _person_of(plan, "shop:1") != _person_of(plan, "desk:2")
    assert [p.key for p in plan.possible] == ["desk:2|shop:1"]


# the default model with the prior and the city-given-postcode u that training estimates on
# 2,000 demo people (0.00033; 0.21)
_DEFAULT = load_model()
TRAINED_LIKE = compile_model(
    _DEFAULT.with_parameters(
        prior=0.0003,
        u={
            "city": [
                0.2 if lv.name == "exact_same_postcode" else lv.u
                for lv in _DEFAULT.comparison("city").levels
            ]
        },
    )
)

HOUSEHOLD = {
    "familyName": "Colin",
    "addressLine1": "11 Boulevard David Peron",
    "postcode": "40552",
    "city": "Letellier",
}


def test_household_members_are_not_linked_on_their_shared_name_and_address():
    """Two people with one family name and address and unrelated given names: the model
    alone would link them (the address reads as independent evidence); the household
    conflict's penalty keeps them apart. Moved to another address the conflict no longer
    holds, and the same pair's weight has no penalty."""
    pair = [
        record("shop:1", givenName="Olivier", **HOUSEHOLD),
        record("shop:2", givenName="Daniel", **HOUSEHOLD),
    ]
    features = {r.key: r.features() for r in pair}
    fa, fb = features["shop:1"], features["shop:2"]
    model = TRAINED_LIKE
    score = model.score(fa, fb)
    assert score.weight >= model.model.link  # linked without the conflict
    assert conflict_penalty(model, score, fa, fb, RULES) == -12.0
    plan = plan_of(pair, model=model)
    assert _person_of(plan, "shop:1") != _person_of(plan, "shop:2")

    moved = dataclasses.replace(fb, address="3 rue du port", postcode="20159")
    assert conflict_penalty(model, model.score(fa, moved), fa, moved, RULES) == 0.0
    # a typo is not another given name: no penalty
    typo = dataclasses.replace(fb, givenName="olivir")
    assert conflict_penalty(model, model.score(fa, typo), fa, typo, RULES) == 0.0


def test_the_household_conflict_vetoes_no_rule():
    """Conflicts with `when` fields weigh only in the model: a shared email still links a
    Kate and a Catherine of one household (the email rule), whatever their given names."""
    pair = [
        record("shop:1", givenName="Kate", email="kfraser@example.org", **HOUSEHOLD),
        record("desk:2", givenName="Catherine", email="kfraser@example.org", **HOUSEHOLD),
    ]
    plan = plan_of(pair, model=MODEL)
    assert _person_of(plan, "shop:1") == _person_of(plan, "desk:2")


def test_the_household_conflict_reads_names_as_the_model_aligned_them():
    """A record with its names swapped ("Kobos Lukasz") is compared by the model as Lukasz
    Kobos: it is Tola Kobos's household member, and the conflict holds."""
    tola = record("shop:1", givenName="Tola", **HOUSEHOLD).features()
    lukasz = record("news:2", givenName="Colin", familyName="Lukasz", postcode="40552").features()
    score = TRAINED_LIKE.score(tola, lukasz)
    assert score.swapped
    assert conflict_penalty(TRAINED_LIKE, score, tola, lukasz, RULES) == -12.0


def test_no_possible_match_between_two_people_a_steward_kept_apart():
    """Rejecting y|x1 keeps y's person apart from x1's; x2 is in x1's person, so y|x2 must
    not be offered either (accepting it would undo the rejection)."""
    records = [
        record("crm:x1", givenName="Ann", familyName="Lee", email="ann.lee@example.org"),
        record("shop:x2", givenName="Ann", familyName="Lee", email="ann.lee@example.org"),
        record("web:y", givenName="Ann", familyName="Lee"),
    ]
    before = plan_of(records, model=MODEL)
    assert sorted(p.key for p in before.possible) == ["crm:x1|web:y", "shop:x2|web:y"]
    after = plan_of(records, model=MODEL, cannot_links=[("web:y", "crm:x1")])
    assert after.possible == []
    assert _person_of(after, "web:y") != _person_of(after, "shop:x2")
