"""Journeys against a real Neo4j: events arriving through ingest schedule actions once; the
runner emits what is due, waits for what is not, and cancels with the reason when a condition
failed (order placed, consent withdrawn, person forgotten, journey stopped)."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime, timedelta

import pytest

from graph.errors import Conflict, NotFound, ValidationError
from graph.ingest import ingest_rows
from graph.services.journeys import run_journeys
from graph.services.resolver import Resolver, resolve_after_ingest
from graph.store import actions, journeys, sources
from graph.store.privacy import forget_person
from graph.store.sources import validate_source

T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)

CART_JOURNEY = {
    "trigger": {"type": "CART_ABANDONED", "after": "1 hour"},
    "steps": [
        {
            "delay": "now",
            "channel": "EMAIL",
            "template": "cart-reminder",
            "conditions": [{"type": "NO_ORDER_SINCE_TRIGGER"}, {"type": "CONSENT"}],
        },
        {
            "delay": "24 hours",
            "channel": "SMS",
            "template": "cart-reminder-sms",
            "conditions": [
                {"type": "NO_ORDER_SINCE_TRIGGER"},
                {"type": "CONSENT", "channel": "SMS", "purpose": "MARKETING"},
            ],
        },
    ],
}


def _run(driver, settings, query, **params):
    records, _, _ = driver.execute_query(query, params, database_=settings.neo4j_database)
    return records


def _ingest(driver, settings, file_type, rows, resolver=None):
    source = sources.require_source(driver, settings, "shop")
    hook = resolve_after_ingest(resolver) if resolver else None
    summary = ingest_rows(
        driver, settings, source, file_type, list(enumerate(rows, 1)), after_batch=hook
    )
    assert summary.rejected == 0, summary.errors
    return summary


@pytest.fixture
def shop(neo4j_driver, settings):
    sources.register_source(neo4j_driver, settings, validate_source("shop", "COMMERCE", "Shop", 10))
    resolver = Resolver(neo4j_driver, settings)
    people = [
        {
            "sourceId": f"C{n}",
            "givenName": given,
            "familyName": family,
            "email": f"{given.lower()}.{family.lower()}@example.com",
            "phone": f"+44 7700 900{n:03d}",
        }
        for n, (given, family) in enumerate(
            [("Ada", "Lovelace"), ("Alan", "Turing"), ("Grace", "Hopper"), ("Edsger", "Dijkstra")],
            1,
        )
    ]
    _ingest(neo4j_driver, settings, "records", people, resolver)
    consents = [
        {
            "sourceId": f"C{n}",
            "channel": ch,
            "purpose": "MARKETING",
            "status": "GRANTED",
            "at": "2026-01-01T00:00:00Z",
        }
        for n in (1, 2, 3, 4)
        for ch in ("EMAIL", "SMS")
    ]
    _ingest(neo4j_driver, settings, "consents", consents)
    return resolver


def _cart(n, status="ABANDONED", at=T0):
    return {
        "cartId": f"K{n}",
        "sourceId": f"C{n}",
        "status": status,
        "updatedAt": at.isoformat(),
        "items": [],
    }


def _person(driver, settings, customer):
    return _run(
        driver,
        settings,
        "MATCH (p:Person)-[:HAS_RECORD]->(:SourceRecord {key: $k}) RETURN p.id AS id",
        k=f"shop:{customer}",
    )[0]["id"]


def _statuses(driver, settings):
    rows = _run(
        driver,
        settings,
        "MATCH (a:Action) RETURN a.triggerKey AS cart, a.step AS step, a.status AS status, "
        "a.reason AS reason ORDER BY cart, step",
    )
    return {(r["cart"], r["step"]): (r["status"], r["reason"]) for r in rows}


def _emit(driver, settings, now, tmp_path, name="out.jsonl"):
    out = tmp_path / name
    report = run_journeys(driver, settings, out=out, now=now, show_progress=False)
    lines = [json.loads(x) for x in out.read_text().splitlines()] if out.exists() else []
    return report, lines


def test_cart_abandoned_emails_after_an_hour_and_texts_a_day_later(
    neo4j_driver, settings, shop, tmp_path
):
    journeys.create_journey(
        neo4j_driver, settings, "cart", "Abandoned cart", CART_JOURNEY, actor="test"
    )
    _ingest(neo4j_driver, settings, "carts", [_cart(1)])
    ada = _person(neo4j_driver, settings, "C1")

    report, lines = _emit(neo4j_driver, settings, T0 + timedelta(minutes=59), tmp_path)
    assert report.emitted == 0 and lines == []  # not abandoned for an hour yet: waits

    report, lines = _emit(neo4j_driver, settings, T0 + timedelta(hours=1), tmp_path)
    assert [(x["step"], x["channel"], x["to"], x["personId"]) for x in lines] == [
        (1, "EMAIL", "ada.lovelace@example.com", ada)
    ]
    assert lines[0]["template"] == "cart-reminder" and lines[0]["triggerKey"] == "shop:K1"
    assert _statuses(neo4j_driver, settings) == {
        ("shop:K1", 1): ("EMITTED", None),
        ("shop:K1", 2): ("SCHEDULED", None),
    }

    report, lines = _emit(neo4j_driver, settings, T0 + timedelta(hours=25), tmp_path)
    assert report.emitted == 1
    assert [(x["step"], x["channel"], x["to"]) for x in lines] == [
        (1, "EMAIL", "ada.lovelace@example.com"),
        (2, "SMS", "+447700900001"),
    ]
    report, _ = _emit(neo4j_driver, settings, T0 + timedelta(days=9), tmp_path)
    assert report.emitted == 0  # each once


def test_reingesting_the_same_cart_and_rescanning_schedule_nothing_new(
    neo4j_driver, settings, shop
):
    journeys.create_journey(
        neo4j_driver, settings, "cart", "Abandoned cart", CART_JOURNEY, actor="test"
    )
    _ingest(neo4j_driver, settings, "carts", [_cart(1), _cart(2)])
    assert len(_statuses(neo4j_driver, settings)) == 4
    _ingest(neo4j_driver, settings, "carts", [_cart(1), _cart(2)])
    assert journeys.schedule_existing(neo4j_driver, settings) == {"cart": 0}
    assert len(_statuses(neo4j_driver, settings)) == 4


def test_schedule_scans_events_stored_before_the_journey_existed(neo4j_driver, settings, shop):
    later_order = {
        "orderId": "O3",
        "sourceId": "C3",
        "placedAt": (T0 + timedelta(minutes=30)).isoformat(),
        "total": "10.00",
    }
    _ingest(neo4j_driver, settings, "carts", [_cart(1), _cart(2, status="CONVERTED"), _cart(3)])
    _ingest(neo4j_driver, settings, "orders", [later_order])
    assert _statuses(neo4j_driver, settings) == {}
    journeys.create_journey(
        neo4j_driver, settings, "cart", "Abandoned cart", CART_JOURNEY, actor="test"
    )
    seen = []
    created = journeys.schedule_existing(
        neo4j_driver, settings, progress=lambda done, total: seen.append((done, total))
    )
    # K2 was converted and K3 was followed by an order: only K1 is an abandoned cart
    assert created == {"cart": 2}
    assert set(_statuses(neo4j_driver, settings)) == {("shop:K1", 1), ("shop:K1", 2)}
    assert seen[-1] == (3, 3)


def test_an_order_after_the_cart_cancels_the_text_with_order_placed(
    neo4j_driver, settings, shop, tmp_path
):
    journeys.create_journey(
        neo4j_driver, settings, "cart", "Abandoned cart", CART_JOURNEY, actor="test"
    )
    _ingest(neo4j_driver, settings, "carts", [_cart(1)])
    _emit(neo4j_driver, settings, T0 + timedelta(hours=1), tmp_path)
    order = {
        "orderId": "O1",
        "sourceId": "C1",
        "placedAt": (T0 + timedelta(hours=5)).isoformat(),
        "total": "20.00",
    }
    _ingest(neo4j_driver, settings, "orders", [order])
    report, lines = _emit(neo4j_driver, settings, T0 + timedelta(hours=25), tmp_path)
    assert report.cancelled == {"ORDER_PLACED": 1} and len(lines) == 1
    assert _statuses(neo4j_driver, settings)[("shop:K1", 2)] == ("CANCELLED", "ORDER_PLACED")


def test_withdrawn_or_missing_consent_cancels_with_the_reason(
    neo4j_driver, settings, shop, tmp_path
):
    journeys.create_journey(
        neo4j_driver, settings, "cart", "Abandoned cart", CART_JOURNEY, actor="test"
    )
    _ingest(neo4j_driver, settings, "carts", [_cart(1), _cart(2)])
    withdrawn = {
        "sourceId": "C1",
        "channel": "SMS",
        "purpose": "MARKETING",
        "status": "WITHDRAWN",
        "at": (T0 + timedelta(hours=2)).isoformat(),
    }
    _ingest(neo4j_driver, settings, "consents", [withdrawn])
    # Alan's SMS consent was for another purpose only: none for MARKETING
    _run(
        neo4j_driver,
        settings,
        "MATCH (c:Consent {channel: 'SMS'})<-[:CAPTURED]-(:SourceRecord {key: 'shop:C2'}) "
        "SET c.purpose = 'PROFILING'",
    )
    report, _ = _emit(neo4j_driver, settings, T0 + timedelta(hours=25), tmp_path)
    assert report.emitted == 2
    assert report.cancelled == {"CONSENT_WITHDRAWN": 1, "NO_CONSENT": 1}
    states = _statuses(neo4j_driver, settings)
    assert states[("shop:K1", 2)] == ("CANCELLED", "CONSENT_WITHDRAWN")
    assert states[("shop:K2", 2)] == ("CANCELLED", "NO_CONSENT")


def test_a_forgotten_person_gets_nothing(neo4j_driver, settings, shop, tmp_path):
    journeys.create_journey(
        neo4j_driver, settings, "cart", "Abandoned cart", CART_JOURNEY, actor="test"
    )
    _ingest(neo4j_driver, settings, "carts", [_cart(1)])
    forget_person(neo4j_driver, settings, _person(neo4j_driver, settings, "C1"), actor="test")
    report, lines = _emit(neo4j_driver, settings, T0 + timedelta(hours=25), tmp_path)
    assert lines == [] and report.cancelled == {"PERSON_FORGOTTEN": 2}


def test_a_deactivated_journey_cancels_its_due_actions_and_schedules_no_more(
    neo4j_driver, settings, shop, tmp_path
):
    journeys.create_journey(
        neo4j_driver, settings, "cart", "Abandoned cart", CART_JOURNEY, actor="test"
    )
    _ingest(neo4j_driver, settings, "carts", [_cart(1)])
    journeys.deactivate_journey(neo4j_driver, settings, "cart", actor="test")
    _ingest(neo4j_driver, settings, "carts", [_cart(2)])
    report, lines = _emit(neo4j_driver, settings, T0 + timedelta(hours=25), tmp_path)
    assert lines == [] and report.cancelled == {"JOURNEY_INACTIVE": 2}
    assert {k[0] for k in _statuses(neo4j_driver, settings)} == {"shop:K1"}


def test_a_closed_cart_is_cancelled_when_the_step_asks_it_open(
    neo4j_driver, settings, shop, tmp_path
):
    definition = {
        "trigger": {"type": "CART_ABANDONED", "after": "PT2H", "statuses": ["ABANDONED"]},
        "steps": [
            {
                "delay": "0",
                "channel": "PUSH",
                "template": "p",
                "conditions": [{"type": "CART_STILL_OPEN"}],
            }
        ],
    }
    journeys.create_journey(neo4j_driver, settings, "open", "Open cart", definition, actor="test")
    _ingest(neo4j_driver, settings, "carts", [_cart(1), _cart(2, status="OPEN")])
    assert set(_statuses(neo4j_driver, settings)) == {("shop:K1", 1)}  # OPEN not listened to
    _ingest(
        neo4j_driver, settings, "carts", [_cart(1, status="CONVERTED", at=T0 + timedelta(hours=1))]
    )
    report, _ = _emit(neo4j_driver, settings, T0 + timedelta(hours=3), tmp_path)
    assert report.cancelled == {"CART_CLOSED": 1}


def test_orders_engagement_and_consent_changes_trigger_their_journeys(
    neo4j_driver, settings, shop, tmp_path
):
    push = [{"delay": "7 days", "channel": "EMAIL", "template": "t", "conditions": []}]
    for jid, trigger in (
        ("review", {"type": "ORDER_PLACED", "statuses": ["DELIVERED"]}),
        ("clicked", {"type": "ENGAGEMENT", "eventType": "clicked", "campaign": "Winter"}),
        ("welcome", {"type": "CONSENT_CHANGED", "channel": "EMAIL", "status": "GRANTED"}),
    ):
        journeys.create_journey(
            neo4j_driver, settings, jid, jid, {"trigger": trigger, "steps": push}, actor="test"
        )
    _ingest(
        neo4j_driver,
        settings,
        "orders",
        [
            {"orderId": "O1", "sourceId": "C1", "placedAt": T0.isoformat(), "status": "DELIVERED"},
            {"orderId": "O2", "sourceId": "C2", "placedAt": T0.isoformat(), "status": "CANCELLED"},
        ],
    )
    _ingest(
        neo4j_driver,
        settings,
        "engagement",
        [
            {"sourceId": "C3", "type": "CLICKED", "campaign": "Winter", "at": T0.isoformat()},
            {"sourceId": "C3", "type": "OPENED", "campaign": "Winter", "at": T0.isoformat()},
            {"sourceId": "C4", "type": "CLICKED", "campaign": "Spring", "at": T0.isoformat()},
        ],
    )
    _ingest(
        neo4j_driver,
        settings,
        "consents",
        [
            {
                "sourceId": "C4",
                "channel": "EMAIL",
                "purpose": "NEWS",
                "status": "GRANTED",
                "at": T0.isoformat(),
            },
        ],
    )
    rows = _run(
        neo4j_driver,
        settings,
        "MATCH (a:Action) RETURN a.journeyId AS j, a.triggerKey AS k, "
        "toString(a.dueAt) AS due ORDER BY j",
    )
    assert [(r["j"], r["due"]) for r in rows] == [
        ("clicked", "2026-11-09T09:00:00Z"),
        ("review", "2026-11-09T09:00:00Z"),
        ("welcome", "2026-11-09T09:00:00Z"),
    ]
    assert rows[1]["k"] == "shop:O1"
    # the consents of the fixture (2026-01-01) were ingested before the journey existed
    assert journeys.schedule_existing(neo4j_driver, settings, journey_id="welcome") == {
        "welcome": 4
    }


def test_merge_and_split_neither_double_nor_lose_actions(neo4j_driver, settings, shop, tmp_path):
    journeys.create_journey(
        neo4j_driver, settings, "cart", "Abandoned cart", CART_JOURNEY, actor="test"
    )
    _ingest(neo4j_driver, settings, "carts", [_cart(1), _cart(2)])
    ada, alan = (_person(neo4j_driver, settings, c) for c in ("C1", "C2"))
    merged = shop.merge_people(ada, alan, actor="test")
    survivor = _person(neo4j_driver, settings, "C1")
    assert survivor == _person(neo4j_driver, settings, "C2")
    assert journeys.schedule_existing(neo4j_driver, settings) == {"cart": 0}
    total, page = actions.actions_of_person(neo4j_driver, settings, survivor, offset=0, limit=10)
    assert total == 4 and len({a.id for a in page}) == 4
    shop.split_record("shop:C2", actor="test")
    assert journeys.schedule_existing(neo4j_driver, settings) == {"cart": 0}
    report, lines = _emit(neo4j_driver, settings, T0 + timedelta(hours=1), tmp_path)
    assert sorted(x["triggerKey"] for x in lines) == ["shop:K1", "shop:K2"]
    by_cart = {x["triggerKey"]: x["personId"] for x in lines}
    assert by_cart["shop:K2"] == _person(neo4j_driver, settings, "C2") != by_cart["shop:K1"]
    assert merged is not None


def test_an_update_is_a_new_version_for_new_triggers_only(neo4j_driver, settings, shop):
    journeys.create_journey(
        neo4j_driver, settings, "cart", "Abandoned cart", CART_JOURNEY, actor="test"
    )
    assert (
        journeys.create_journey(
            neo4j_driver, settings, "cart", "Abandoned cart", CART_JOURNEY, actor="test"
        ).version
        == 1
    )  # a retried create returns the journey
    with pytest.raises(Conflict):
        journeys.create_journey(neo4j_driver, settings, "cart", "Other", CART_JOURNEY, actor="test")
    _ingest(neo4j_driver, settings, "carts", [_cart(1)])
    changed = {**CART_JOURNEY, "steps": CART_JOURNEY["steps"][:1]}
    view = journeys.update_journey(neo4j_driver, settings, "cart", actor="test", definition=changed)
    assert view.version == 2
    assert (
        journeys.update_journey(
            neo4j_driver, settings, "cart", actor="test", definition=changed
        ).version
        == 2
    )
    assert journeys.schedule_existing(neo4j_driver, settings) == {"cart": 0}  # K1 entered v1
    _ingest(neo4j_driver, settings, "carts", [_cart(2)])
    rows = _run(
        neo4j_driver,
        settings,
        "MATCH (a:Action) RETURN a.triggerKey AS k, a.version AS v, count(*) AS n ORDER BY k",
    )
    assert [(r["k"], r["v"], r["n"]) for r in rows] == [("shop:K1", 1, 2), ("shop:K2", 2, 1)]
    with pytest.raises(NotFound):
        journeys.update_journey(neo4j_driver, settings, "nope", actor="test", name="x")
    with pytest.raises(ValidationError) as caught:
        journeys.update_journey(
            neo4j_driver,
            settings,
            "cart",
            actor="test",
            definition={"trigger": {"type": "CART_ABANDONED"}, "steps": [{"channel": "SMS"}]},
        )
    assert [e.field for e in caught.value.errors] == ["definition.steps[0].template"]


def test_stdout_output_and_a_person_not_resolved_yet_waits(neo4j_driver, settings, shop):
    definition = {
        "trigger": {"type": "ORDER_PLACED"},
        "steps": [{"channel": "PUSH", "template": "thanks"}],
    }
    journeys.create_journey(neo4j_driver, settings, "thanks", "Thanks", definition, actor="test")
    _ingest(
        neo4j_driver,
        settings,
        "orders",
        [
            {"orderId": "O9", "sourceId": "C99", "placedAt": T0.isoformat()},
            {"orderId": "O1", "sourceId": "C1", "placedAt": T0.isoformat()},
        ],
    )
    stream = io.StringIO()
    report = run_journeys(
        neo4j_driver, settings, out=None, stream=stream, now=T0, show_progress=False
    )
    assert [json.loads(x)["triggerKey"] for x in stream.getvalue().splitlines()] == ["shop:O1"]
    assert report.waiting == 1
    assert _statuses(neo4j_driver, settings)[("shop:O9", 1)] == ("SCHEDULED", None)
