"""Audience export against a real Neo4j: each suppression rule with its count, in order,
switchable per export; contact points per channel; the export recorded with its people."""

from __future__ import annotations

import dataclasses
import io
import json

import pytest

from graph.errors import NotFound, ValidationError
from graph.services import segments
from graph.services.activation import FrequencyCap, RecentPurchase, Suppression, export_audience
from graph.store import segments as store
from tests.integration.segment_world import AS_OF, World, build

EVERYONE = {"country": ["GB", "IE"]}


@pytest.fixture
def world(neo4j_driver, settings) -> World:
    w = build(neo4j_driver, settings)
    segments.create_segment(
        neo4j_driver, settings, "Everyone", EVERYONE, actor="t", segment_id="all"
    )
    return w


def export(world: World, channel: str = "EMAIL", fmt: str = "jsonl", **suppress):
    out = io.StringIO()
    view = export_audience(
        world.driver,
        world.settings,
        "all",
        channel,
        "MARKETING",
        out,
        actor="tester",
        fmt=fmt,
        suppression=Suppression(**suppress),
        as_of=AS_OF,
    )
    if fmt == "jsonl":
        rows = [json.loads(line) for line in out.getvalue().splitlines()]
        return view, {r["givenName"]: r["contactPoint"] for r in rows}
    return view, out.getvalue()


def test_the_default_rules_remove_an_open_case_and_report_each_rule_in_order(world):
    view, rows = export(world)
    assert rows == {"Ann": "ann@example.org", "Bob": "bob@example.org"}
    assert view.suppressed == (
        ("NO_CONSENT", 0),
        ("UNDELIVERABLE", 0),
        ("FREQUENCY_CAP", 0),
        ("OPEN_CASE", 1),
        ("NO_CONTACT_POINT", 0),
    )
    assert (view.candidates, view.exported) == (3, 2)
    _, rows = export(world, open_case=False)
    assert set(rows) == {"Ann", "Bob", "Cy"}


def test_an_opt_out_removes_the_person_once_for_the_first_rule(world):
    world.rows("mkt", "engagement", [{"eventId": "E9", "sourceId": "M1", "type": "UNSUBSCRIBED", "at": "2025-05-26T10:00:00Z"}])  # fmt: skip
    view, rows = export(world, recent_purchase=RecentPurchase(category="Shoes", within_days=30))
    assert set(rows) == {"Bob"}
    # Ann also bought shoes, but is counted only by the first rule that removes her
    assert dict(view.suppressed)["NO_CONSENT"] == 1
    assert dict(view.suppressed)["RECENT_PURCHASE"] == 0
    _, rows = export(world, consent=False, open_case=False)
    assert set(rows) == {"Ann", "Bob", "Cy"}


def test_a_hard_bounced_email_is_undeliverable_unless_the_rule_is_off(world):
    world.rows("shop", "engagement", [{"eventId": "HB", "sourceId": "B1", "type": "HARD_BOUNCE", "at": "2025-05-27T10:00:00Z"}])  # fmt: skip
    view, rows = export(world)
    assert set(rows) == {"Ann"} and dict(view.suppressed)["UNDELIVERABLE"] == 1
    _, rows = export(world, undeliverable=False)
    assert rows["Bob"] == "bob@example.org"


def test_recent_purchase_of_the_promoted_product_or_category(world):
    view, rows = export(world, recent_purchase=RecentPurchase(sku="SKU-1", within_days=30))
    assert set(rows) == {"Bob"} and dict(view.suppressed)["RECENT_PURCHASE"] == 1
    _, rows = export(world, recent_purchase=RecentPurchase(category="Books", within_days=30))
    assert set(rows) == {"Ann", "Bob"}  # Bob's books are older than 30 days


def test_frequency_cap_counts_messages_sent_in_the_window(world):
    view, rows = export(world, frequency_cap=FrequencyCap(max_messages=0, days=30))
    assert set(rows) == {"Bob"} and dict(view.suppressed)["FREQUENCY_CAP"] == 1
    _, rows = export(world, frequency_cap=FrequencyCap(max_messages=0, days=3))
    assert set(rows) == {"Ann", "Bob"}  # Ann's message is 8 days old
    view, _ = export(world, frequency_cap=None)
    assert "FREQUENCY_CAP" not in dict(view.suppressed)


def test_sms_exports_the_e164_phone_of_people_with_sms_consent(world):
    view, rows = export(world, channel="sms")
    assert rows == {"Bob": "+447700900002"}
    assert dict(view.suppressed)["NO_CONSENT"] == 2


def test_csv_has_a_header_and_one_line_per_person(world):
    _, text = export(world, fmt="csv")
    lines = text.splitlines()
    assert lines[0] == "personId,channel,contactPoint,givenName,familyName"
    assert len(lines) == 3 and all(",EMAIL," in line for line in lines[1:])


def test_each_export_is_recorded_with_its_people_and_segment_version(world):
    view, _ = export(world)
    recorded = store.get_export(world.driver, world.settings, view.id)
    assert recorded is not None and dataclasses.replace(recorded, at=view.at) == view
    ids = store.export_person_ids(world.driver, world.settings, view.id)
    assert sorted(ids) == sorted([world.person_of("shop:A1"), world.person_of("shop:B1")])
    rows = world.run(
        "MATCH (e:Export {id: $id})-[:OF_SEGMENT]->(v:SegmentVersion) RETURN v.segmentId AS s, v.version AS n",
        id=view.id,
    )
    assert [(r["s"], r["n"]) for r in rows] == [("all", 1)]
    assert [e.id for e in store.exports_of_person(world.driver, world.settings, ids[0])] == [
        view.id
    ]
    assert store.exports_of_person(world.driver, world.settings, world.person_of("crm:C1")) == []


def test_bad_arguments_are_named(world):
    with pytest.raises(ValidationError) as caught:
        export(world, channel="PIGEON", frequency_cap=FrequencyCap(days=0))
    assert {e.field for e in caught.value.errors} == {"channel", "suppress.frequencyCap.days"}
    with pytest.raises(NotFound):
        export_audience(
            world.driver, world.settings, "nope", "EMAIL", "MARKETING", io.StringIO(), actor="t"
        )


def test_the_cli_creates_counts_shows_and_exports_a_segment(
    neo4j_driver, settings, monkeypatch, capsys, tmp_path
):
    from graph.cli import main

    build(neo4j_driver, settings)
    monkeypatch.chdir(tmp_path)
    for name, value in (
        ("NEO4J_URI", settings.uri),
        ("NEO4J_USERNAME", settings.neo4j_username),
        ("NEO4J_PASSWORD", settings.password()),
        ("NEO4J_DATABASE", settings.neo4j_database),
    ):
        monkeypatch.setenv(name, value)
    (tmp_path / "gb.json").write_text('{"and": [{"country": ["GB"]}, {"orderCount": {"min": 1}}]}')
    assert main(["segments", "create", "GB buyers", "gb.json", "--id", "gb"]) == 0
    assert main(["segments", "list"]) == 0
    assert main(["segments", "count", "gb"]) == 0
    assert main(["segments", "show", "gb", "--cypher"]) == 0
    out = capsys.readouterr().out
    assert "gb\tv1\tGB buyers" in out and "\n2\n" in out and "$c1.min" in out
    assert main(["segments", "create", "bad", '{"age": {"min": -1}}']) == 1
    assert "definition.age.min: must be >= 0" in capsys.readouterr().err
    status = main(
        [
            "segments",
            "export",
            "gb",
            "--format",
            "jsonl",
            "-o",
            "out.jsonl",
            "--promoted-sku",
            "SKU-1",
            "--purchase-days",
            "3650",
        ]
    )
    assert status == 0
    lines = (tmp_path / "out.jsonl").read_text().splitlines()
    assert [json.loads(line)["contactPoint"] for line in lines] == ["bob@example.org"]
    err = capsys.readouterr().err
    assert "1 of 2 people" in err and "RECENT_PURCHASE: 1 removed" in err
