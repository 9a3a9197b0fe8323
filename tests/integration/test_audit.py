"""The resolution audit trail against a real Neo4j: filters, keyset pages, merged people."""

from __future__ import annotations

from datetime import datetime

import pytest

from graph.errors import ValidationError
from graph.services.resolver import Resolver
from graph.store import audit, sources
from graph.store.sources import validate_source


@pytest.fixture
def resolver(neo4j_driver, settings) -> Resolver:
    for sid, kind in (("crm", "SERVICE"), ("shop", "COMMERCE")):
        sources.register_source(neo4j_driver, settings, validate_source(sid, kind, sid, 10))
    return Resolver(neo4j_driver, settings, actor="audit-test")


def _events(neo4j_driver, settings, **filters) -> list[dict]:
    return audit.resolution_events(neo4j_driver, settings, **filters).events


def test_events_are_filtered_paged_newest_first_and_follow_merges(neo4j_driver, settings, resolver):
    _, ann = resolver.ingest_record(
        "crm",
        {"sourceId": "1", "givenName": "Ann", "familyName": "Lee", "email": "ann@example.org"},
    )
    _, bob = resolver.ingest_record(
        "shop", {"sourceId": "2", "givenName": "Bob", "familyName": "Ray", "phone": "+447700900123"}
    )
    resolver.ingest_record(
        "shop",
        {"sourceId": "3", "givenName": "Ann", "familyName": "Lee", "email": "ann@example.org"},
    )
    merged = resolver.merge_people(ann.person_id, bob.person_id, actor="steward-1")
    survivor = merged.records[0].person_id

    everything = audit.resolution_events(neo4j_driver, settings, first=100)
    kinds = [e["kind"] for e in everything.events]
    assert kinds == ["MERGED", "LINKED", "CREATED", "CREATED"]
    assert everything.total == 4 and not everything.has_next
    # as instants, not text: Neo4j writes 29.8Z for 29.800Z, which sorts after 29.838Z
    ats = [datetime.fromisoformat(e["at"].replace("Z", "+00:00")) for e in everything.events]
    assert ats == sorted(ats, reverse=True)

    # one person: the survivor's events include those of the person it absorbed
    of_survivor = _events(neo4j_driver, settings, person_id=survivor, first=100)
    assert sorted(e["kind"] for e in of_survivor) == ["CREATED", "CREATED", "LINKED", "MERGED"]
    assert _events(neo4j_driver, settings, kinds=["merged"])[0]["actor"] == "steward-1"
    assert [e["kind"] for e in _events(neo4j_driver, settings, actor="steward-1")] == ["MERGED"]
    assert {e["kind"] for e in _events(neo4j_driver, settings, record_key="shop:3")} == {"LINKED"}
    assert _events(neo4j_driver, settings, until="2000-01-01") == []

    # pages of one: every event once, in the same order, whatever is written meanwhile
    seen, after = [], None
    while True:
        page = audit.resolution_events(neo4j_driver, settings, first=1, after=after)
        seen += [e["id"] for e in page.events]
        if not page.has_next:
            break
        after = audit.encode_cursor(page.events[-1])
        if len(seen) == 2:  # a new event must not shift the pages being read
            resolver.ingest_record(
                "crm", {"sourceId": "9", "givenName": "Zoe", "familyName": "Quinn"}
            )
    assert seen == [e["id"] for e in everything.events]

    grouped = audit.events_of_people(neo4j_driver, settings, [survivor, "p-unknown"])
    assert list(grouped) == [survivor] and len(grouped[survivor]) == 4


@pytest.mark.parametrize(
    ("filters", "field"),
    [
        ({"first": -1}, "first"),
        ({"kinds": ["EXPLODED"]}, "kinds"),
        ({"since": "yesterday"}, "since"),
        ({"until": "2024-13-40"}, "until"),
        ({"after": "bm90LWEtY3Vyc29y"}, "after"),
        ({"after": "%%%"}, "after"),
    ],
)
def test_bad_filters_name_the_field(neo4j_driver, settings, filters, field):
    with pytest.raises(ValidationError) as caught:
        audit.resolution_events(neo4j_driver, settings, **filters)
    assert [e.field for e in caught.value.errors] == [field]
