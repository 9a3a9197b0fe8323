"""Journey triggers against a real Neo4j: definitions stored as versions, actions scheduled
once per trigger and step, emitted when due, cancelled with a reason when a condition fails,
and emitted exactly once by a runner killed mid-batch or running beside another."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from graph.errors import NotFound, ValidationError
from graph.ingest import ingest_record, ingest_rows
from graph.services import journeys
from graph.services.resolver import Resolver
from graph.store import journeys as store
from graph.store import sources
from graph.store.privacy import forget_person
from graph.store.sources import require_source, validate_source

T0 = datetime(2026, 5, 4, 10, 0, tzinfo=UTC)

CART_RECOVERY = {
    "id": "cart-recovery",
    "name": "Cart recovery",
    "trigger": {"type": "cart_abandoned", "within": "7d"},
    "steps": [
        {
            "delay": "1h",
            "channel": "EMAIL",
            "template": "cart-email-1",
            "conditions": ["no_order_since_trigger"],
        },
        {
            "delay": "24h",
            "channel": "SMS",
            "template": "cart-sms-1",
            "conditions": ["no_order_since_trigger", "consent"],
        },
    ],
}

C360 = str(Path(sys.executable).parent / "c360")


def _at(delta: timedelta = timedelta()) -> str:
    return (T0 + delta).isoformat()


@pytest.fixture
def shop(neo4j_driver, settings):
    sources.register_source(neo4j_driver, settings, validate_source("shop", "COMMERCE", "Shop", 10))
    return "shop"


def _person(driver, settings, source_id, given="Ann", family="Lee", n=1) -> str:
    _, resolution = Resolver(driver, settings).ingest_record(
        "shop",
        {
            "sourceId": source_id,
            "givenName": given,
            "familyName": family,
            "email": f"{given.lower()}.{family.lower()}{n}@example.com",
            "phone": f"+4477009001{n:02d}",
        },
    )
    assert resolution.person_id
    return resolution.person_id


def _cart(driver, settings, cart_id, source_id, at, status="ABANDONED"):
    ingest_record(
        driver,
        settings,
        "shop",
        {"cartId": cart_id, "sourceId": source_id, "status": status, "updatedAt": at},
        file_type="carts",
    )


def _order(driver, settings, order_id, source_id, at):
    ingest_record(
        driver,
        settings,
        "shop",
        {"orderId": order_id, "sourceId": source_id, "placedAt": at, "total": 10},
        file_type="orders",
    )


def _consent(driver, settings, source_id, channel, status, at):
    ingest_record(
        driver,
        settings,
        "shop",
        {
            "sourceId": source_id,
            "channel": channel,
            "purpose": "MARKETING",
            "status": status,
            "at": at,
        },
        file_type="consents",
    )


def _actions(driver, settings) -> dict[str, dict]:
    rows, _, _ = driver.execute_query(
        "MATCH (a:Action) OPTIONAL MATCH (p:Person)-[:HAS_ACTION]->(a) "
        "RETURN a {.*, dueAt: toString(a.dueAt)} AS a, collect(p.id) AS owners",
        database_=settings.neo4j_database,
    )
    return {r["a"]["id"]: r["a"] | {"owners": r["owners"]} for r in rows}


def _lines(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def _schedule(driver, settings, delta=timedelta(minutes=5)):
    return journeys.schedule(driver, settings, now=T0 + delta)


def _run(driver, settings, out, delta, **kw):
    return journeys.run(driver, settings, out=out, now=T0 + delta, **kw)


def test_same_definition_twice_adds_no_version_and_a_change_adds_one(neo4j_driver, settings):
    first, outcome = journeys.create_journey(neo4j_driver, settings, CART_RECOVERY)
    assert (first.version, outcome, first.active) == (1, "created", True)
    again, outcome = journeys.create_journey(neo4j_driver, settings, json.dumps(CART_RECOVERY))
    assert (again.version, outcome) == (1, "unchanged")
    changed = CART_RECOVERY | {"name": "Cart recovery, shorter"}
    second, outcome = journeys.create_journey(neo4j_driver, settings, changed)
    assert (second.version, outcome) == (2, "created")
    assert store.get_journey(neo4j_driver, settings, "cart-recovery", 1).active is False
    assert [(j.id, j.version) for j in store.list_journeys(neo4j_driver, settings)] == [
        ("cart-recovery", 2)
    ]
    assert store.deactivate_journey(neo4j_driver, settings, "cart-recovery") == 2
    assert store.list_journeys(neo4j_driver, settings, active_only=True) == []
    with pytest.raises(NotFound):
        store.deactivate_journey(neo4j_driver, settings, "nope")


def test_an_invalid_definition_names_the_path_and_stores_nothing(neo4j_driver, settings):
    bad = json.loads(json.dumps(CART_RECOVERY))
    bad["steps"][1]["delay"] = "a day"
    with pytest.raises(ValidationError) as err:
        journeys.create_journey(neo4j_driver, settings, bad)
    assert str(err.value) == 'steps[1].delay: must be like "1h", "24h", "30m"'
    assert store.list_journeys(neo4j_driver, settings) == []


def test_abandoned_cart_emails_after_an_hour_then_texts_after_a_day_with_sms_consent(
    neo4j_driver, settings, shop, tmp_path
):
    pid = _person(neo4j_driver, settings, "C1")
    _consent(neo4j_driver, settings, "C1", "SMS", "OPT_IN", _at(-timedelta(days=3)))
    _cart(neo4j_driver, settings, "K1", "C1", _at())
    journeys.create_journey(neo4j_driver, settings, CART_RECOVERY)

    assert _schedule(neo4j_driver, settings).created == 2
    assert _schedule(neo4j_driver, settings, timedelta(minutes=30)).created == 0
    actions = _actions(neo4j_driver, settings)
    assert sorted(actions) == [
        "cart-recovery:v1:s0:shop:K1",
        "cart-recovery:v1:s1:shop:K1",
    ]
    assert all(a["status"] == "SCHEDULED" and a["owners"] == [pid] for a in actions.values())

    out = tmp_path / "out.jsonl"
    waiting = _run(neo4j_driver, settings, out, timedelta(minutes=59))
    assert waiting.emitted == 0 and _lines(out) == []

    email = _run(neo4j_driver, settings, out, timedelta(hours=1))
    assert email.emitted == 1
    [line] = _lines(out)
    assert line["actionId"] == "cart-recovery:v1:s0:shop:K1"
    assert (line["channel"], line["template"], line["to"], line["personId"]) == (
        "EMAIL",
        "cart-email-1",
        "ann.lee1@example.com",
        pid,
    )
    assert _run(neo4j_driver, settings, out, timedelta(hours=23)).emitted == 0

    sms = _run(neo4j_driver, settings, out, timedelta(hours=24, minutes=1))
    assert sms.emitted == 1
    assert [(x["channel"], x["to"]) for x in _lines(out)] == [
        ("EMAIL", "ann.lee1@example.com"),
        ("SMS", "+447700900101"),
    ]
    assert {a["status"] for a in _actions(neo4j_driver, settings).values()} == {"EMITTED"}
    assert _run(neo4j_driver, settings, out, timedelta(days=3)).emitted == 0
    assert len(_lines(out)) == 2


def test_sms_step_is_cancelled_without_consent_and_when_consent_is_withdrawn(
    neo4j_driver, settings, shop, tmp_path
):
    _person(neo4j_driver, settings, "C1")
    _person(neo4j_driver, settings, "C2", "Bob", "Okafor", 2)
    _consent(neo4j_driver, settings, "C2", "SMS", "GRANTED", _at(-timedelta(days=3)))
    _consent(neo4j_driver, settings, "C2", "SMS", "WITHDRAWN", _at(timedelta(hours=2)))
    _cart(neo4j_driver, settings, "K1", "C1", _at())
    _cart(neo4j_driver, settings, "K2", "C2", _at())
    journeys.create_journey(neo4j_driver, settings, CART_RECOVERY)
    _schedule(neo4j_driver, settings)

    report = _run(neo4j_driver, settings, tmp_path / "out.jsonl", timedelta(days=2))
    assert report.emitted == 2  # the two e-mails
    assert report.cancelled == {"NO_CONSENT": 2}
    actions = _actions(neo4j_driver, settings)
    assert actions["cart-recovery:v1:s1:shop:K1"]["reason"] == "NO_CONSENT"
    assert actions["cart-recovery:v1:s1:shop:K2"]["status"] == "CANCELLED"


def test_an_order_after_the_cart_cancels_the_pending_steps_and_one_before_schedules_none(
    neo4j_driver, settings, shop, tmp_path
):
    _person(neo4j_driver, settings, "C1")
    _person(neo4j_driver, settings, "C2", "Bob", "Okafor", 2)
    _consent(neo4j_driver, settings, "C1", "SMS", "GRANTED", _at(-timedelta(days=3)))
    _cart(neo4j_driver, settings, "K1", "C1", _at())
    _cart(neo4j_driver, settings, "K2", "C2", _at())
    _order(neo4j_driver, settings, "O2", "C2", _at(timedelta(minutes=2)))
    journeys.create_journey(neo4j_driver, settings, CART_RECOVERY)
    assert _schedule(neo4j_driver, settings).created == 2  # K1 only: K2 was ordered
    out = tmp_path / "out.jsonl"
    assert _run(neo4j_driver, settings, out, timedelta(hours=2)).emitted == 1
    _order(neo4j_driver, settings, "O1", "C1", _at(timedelta(hours=3)))
    report = _run(neo4j_driver, settings, out, timedelta(days=2))
    assert (report.emitted, report.cancelled) == (0, {"ORDER_PLACED": 1})
    assert _actions(neo4j_driver, settings)["cart-recovery:v1:s1:shop:K1"]["reason"] == (
        "ORDER_PLACED"
    )


def test_a_forgotten_person_and_a_deactivated_journey_cancel_their_actions(
    neo4j_driver, settings, shop, tmp_path
):
    ann = _person(neo4j_driver, settings, "C1")
    _cart(neo4j_driver, settings, "K1", "C1", _at())
    journeys.create_journey(neo4j_driver, settings, CART_RECOVERY)
    _schedule(neo4j_driver, settings)
    forget_person(neo4j_driver, settings, ann, actor="test")
    report = _run(neo4j_driver, settings, tmp_path / "out.jsonl", timedelta(days=2))
    assert (report.emitted, report.cancelled) == (0, {"PERSON_FORGOTTEN": 2})

    _person(neo4j_driver, settings, "C2", "Bob", "Okafor", 2)
    _cart(neo4j_driver, settings, "K2", "C2", _at())
    _schedule(neo4j_driver, settings)
    store.deactivate_journey(neo4j_driver, settings, "cart-recovery")
    assert _schedule(neo4j_driver, settings).journeys == 0
    report = _run(neo4j_driver, settings, tmp_path / "out.jsonl", timedelta(days=2))
    assert (report.emitted, report.cancelled) == (0, {"JOURNEY_INACTIVE": 2})


def test_a_converted_cart_and_an_old_cart_start_nothing(neo4j_driver, settings, shop):
    _person(neo4j_driver, settings, "C1")
    _cart(neo4j_driver, settings, "K1", "C1", _at(), status="CONVERTED")
    _cart(neo4j_driver, settings, "K2", "C1", _at(-timedelta(days=30)))
    journeys.create_journey(neo4j_driver, settings, CART_RECOVERY)
    assert _schedule(neo4j_driver, settings).created == 0


def test_reingesting_the_same_cart_schedules_nothing_new(neo4j_driver, settings, shop):
    _person(neo4j_driver, settings, "C1")
    journeys.create_journey(neo4j_driver, settings, CART_RECOVERY)
    cart = {"cartId": "K1", "sourceId": "C1", "status": "OPEN", "updatedAt": _at()}
    source = require_source(neo4j_driver, settings, "shop")
    created = []
    for _ in range(2):
        ingest_rows(neo4j_driver, settings, source, "carts", [(1, cart)])
        created.append(journeys.schedule(neo4j_driver, settings, now=T0 + timedelta(minutes=1)))
    assert [r.created for r in created] == [2, 0]
    assert len(_actions(neo4j_driver, settings)) == 2


def test_ingest_record_hook_schedules_for_the_person_of_the_record(neo4j_driver, settings, shop):
    journeys.create_journey(neo4j_driver, settings, CART_RECOVERY)
    _cart(neo4j_driver, settings, "K1", "C1", datetime.now(UTC).isoformat())  # before its owner
    assert journeys.schedule_after_ingest(neo4j_driver, settings, ["shop:C9"]).created == 0
    pid = _person(neo4j_driver, settings, "C1")
    assert journeys.schedule_after_ingest(neo4j_driver, settings, ["shop:C1"]).created == 2
    assert {a["personId"] for a in _actions(neo4j_driver, settings).values()} == {pid}


def test_a_merge_keeps_one_action_per_trigger_and_step_on_the_survivor(
    neo4j_driver, settings, shop, tmp_path
):
    ann = _person(neo4j_driver, settings, "C1")
    bob = _person(neo4j_driver, settings, "C2", "Bob", "Okafor", 2)
    _cart(neo4j_driver, settings, "K1", "C1", _at())
    _cart(neo4j_driver, settings, "K2", "C2", _at())
    journeys.create_journey(neo4j_driver, settings, CART_RECOVERY)
    assert _schedule(neo4j_driver, settings).created == 4
    Resolver(neo4j_driver, settings).merge_people(ann, bob, actor="test")
    survivor = ann if ann < bob else bob
    survivors = _schedule(neo4j_driver, settings, timedelta(minutes=10))
    assert survivors.created == 0
    actions = _actions(neo4j_driver, settings)
    assert len(actions) == 4
    owners = {a["personId"] for a in actions.values()} | {
        o for a in actions.values() for o in a["owners"]
    }
    assert len(owners) == 1
    (owner,) = owners
    assert [a.id for a in store.actions_of_person(neo4j_driver, settings, ann)] == [
        a.id for a in store.actions_of_person(neo4j_driver, settings, bob)
    ]
    assert len(store.actions_of_person(neo4j_driver, settings, owner)) == 4
    assert survivor in (ann, bob)
    out = tmp_path / "out.jsonl"
    assert _run(neo4j_driver, settings, out, timedelta(hours=2)).emitted == 2
    assert {x["personId"] for x in _lines(out)} == {owner}


def test_order_placed_journey_fires_for_a_new_order(neo4j_driver, settings, shop, tmp_path):
    _person(neo4j_driver, settings, "C1")
    _consent(neo4j_driver, settings, "C1", "EMAIL", "GRANTED", _at(-timedelta(days=3)))
    _order(neo4j_driver, settings, "O1", "C1", _at())
    journeys.create_journey(
        neo4j_driver,
        settings,
        {
            "id": "thanks",
            "name": "Thank you",
            "trigger": {"type": "order_placed"},
            "steps": [
                {
                    "delay": "30m",
                    "channel": "EMAIL",
                    "template": "thanks",
                    "conditions": ["consent"],
                }
            ],
        },
    )
    assert _schedule(neo4j_driver, settings).created == 1
    out = tmp_path / "out.jsonl"
    assert _run(neo4j_driver, settings, out, timedelta(minutes=31)).emitted == 1
    assert _lines(out)[0]["triggerKey"] == "shop:O1"


# -- runners in processes of their own ------------------------------------------------------


def _many_carts(driver, settings, n: int) -> None:
    _person(driver, settings, "C1")
    source = require_source(driver, settings, "shop")
    rows = [
        (i, {"cartId": f"K{i:04d}", "sourceId": "C1", "status": "OPEN", "updatedAt": _at()})
        for i in range(n)
    ]
    ingest_rows(driver, settings, source, "carts", rows)
    journeys.create_journey(
        driver,
        settings,
        CART_RECOVERY | {"steps": CART_RECOVERY["steps"][:1]},
    )
    assert _schedule(driver, settings).created == n


def _env(settings, tmp_path, **extra: str) -> dict[str, str]:
    return os.environ | {
        "C360_ENV_FILE": str(tmp_path / ".env"),
        "NEO4J_URI": settings.uri,
        "NEO4J_USERNAME": settings.neo4j_username,
        "NEO4J_PASSWORD": settings.password(),
        "NEO4J_DATABASE": settings.neo4j_database,
        **extra,
    }


def _runner(settings, tmp_path, out: Path, *args: str, **env: str) -> subprocess.Popen:
    return subprocess.Popen(
        [C360, "journeys", "run", "--now", _at(timedelta(hours=2)), "--out", str(out), *args],
        env=_env(settings, tmp_path, **env),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _wait_for(process: subprocess.Popen, text: str, timeout: float = 60) -> None:
    assert process.stderr is not None
    deadline = time.monotonic() + timeout
    seen = ""
    while time.monotonic() < deadline:
        line = process.stderr.readline()
        seen += line
        if text in line:
            return
        if not line and process.poll() is not None:
            break
    raise AssertionError(f"runner never said {text!r}: {seen}")


def _statuses(driver, settings) -> dict[str, int]:
    counts: dict[str, int] = {}
    for a in _actions(driver, settings).values():
        counts[a["status"]] = counts.get(a["status"], 0) + 1
    return counts


@pytest.mark.parametrize("point", ["after-claim", "after-write"])
def test_a_runner_killed_mid_batch_and_restarted_emits_each_action_once(
    neo4j_driver, settings, shop, tmp_path, point
):
    _many_carts(neo4j_driver, settings, 30)
    out = tmp_path / "out.jsonl"
    killed = _runner(
        settings, tmp_path, out, "--batch-size", "10", "--lease", "1", C360_JOURNEYS_FAULT=point
    )
    _wait_for(killed, "fault injected")
    killed.send_signal(signal.SIGKILL)
    killed.communicate(timeout=30)
    assert _statuses(neo4j_driver, settings) == {"CLAIMED": 10, "SCHEDULED": 20}
    assert len(_lines(out)) == (10 if point == "after-write" else 0)
    with out.open("a") as fh:
        fh.write('{"actionId": "cart-recov')  # a line cut short by the kill
    time.sleep(1.5)  # the killed runner's lease expires

    restarted = _runner(settings, tmp_path, out, "--batch-size", "10")
    _, err = restarted.communicate(timeout=120)
    assert restarted.returncode == 0, err
    ids = [x["actionId"] for x in _lines(out)]
    assert len(ids) == len(set(ids)) == 30
    assert _statuses(neo4j_driver, settings) == {"EMITTED": 30}
    assert "10 taken over" in err


def test_two_runners_at_once_emit_each_action_once(neo4j_driver, settings, shop, tmp_path):
    _many_carts(neo4j_driver, settings, 200)
    shared = tmp_path / "shared.jsonl"
    runners = [
        _runner(settings, tmp_path, shared, "--batch-size", "7"),
        _runner(settings, tmp_path, shared, "--batch-size", "5"),
        _runner(settings, tmp_path, tmp_path / "own.jsonl", "--batch-size", "3"),
    ]
    for r in runners:
        _, err = r.communicate(timeout=300)
        assert r.returncode == 0, err
    ids = [x["actionId"] for x in _lines(shared) + _lines(tmp_path / "own.jsonl")]
    assert len(ids) == len(set(ids)) == 200
    assert _statuses(neo4j_driver, settings) == {"EMITTED": 200}


def test_the_journeys_commands_create_list_show_schedule_run_and_deactivate(
    neo4j_driver, settings, shop, tmp_path, monkeypatch, capsys
):
    from graph.cli import main

    for name, value in _env(settings, tmp_path).items():
        if name.startswith(("NEO4J_", "C360_ENV")):
            monkeypatch.setenv(name, value)
    _person(neo4j_driver, settings, "C1")
    _cart(neo4j_driver, settings, "K1", "C1", _at())
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(CART_RECOVERY | {"steps": [{"delay": "soon"}]}), encoding="utf-8")
    assert main(["journeys", "create", str(bad)]) == 1
    err = capsys.readouterr().err
    assert 'steps[0].delay: must be like "1h", "24h", "30m"' in err
    assert "steps[0].channel: must be one of" in err
    good = tmp_path / "cart.json"
    good.write_text(json.dumps(CART_RECOVERY), encoding="utf-8")
    assert main(["journeys", "create", str(good)]) == 0
    assert main(["journeys", "create", str(good)]) == 0
    assert capsys.readouterr().out.splitlines() == [
        "created: journey cart-recovery version 1 (active)",
        "unchanged: journey cart-recovery version 1 (active)",
    ]
    assert main(["journeys", "list"]) == 0
    assert capsys.readouterr().out == (
        "cart-recovery\tv1\tactive\tcart_abandoned: EMAIL +1h, SMS +24h\n"
    )
    assert main(["journeys", "show", "cart-recovery"]) == 0
    assert json.loads(capsys.readouterr().out)["definition"]["steps"][0]["delay"] == "1h"
    assert main(["journeys", "schedule", "--now", _at(timedelta(minutes=1))]) == 0
    assert "scheduled 2 new action(s) from 1 trigger(s)" in capsys.readouterr().err
    assert main(["journeys", "run", "--now", _at(timedelta(hours=2)), "--out", "-"]) == 0
    captured = capsys.readouterr()
    assert [json.loads(x)["template"] for x in captured.out.splitlines()] == ["cart-email-1"]
    assert "emitted 1 action(s)" in captured.err
    carts = tmp_path / "carts.jsonl"
    recent = (datetime.now(UTC) - timedelta(minutes=5)).isoformat()
    carts.write_text(
        json.dumps({"cartId": "K2", "sourceId": "C1", "status": "OPEN", "updatedAt": recent})
        + "\n",
        encoding="utf-8",
    )
    assert main(["ingest", str(carts), "--source", "shop"]) == 0
    assert "scheduled 2 new action(s) from 1 trigger(s)" in capsys.readouterr().out
    assert main(["journeys", "deactivate", "cart-recovery"]) == 0
    assert main(["journeys", "show", "nope"]) == 1
    assert "no journey with id 'nope'" in capsys.readouterr().err
    assert main(["journeys", "run", "--now", "someday"]) == 1
    assert "now: " in capsys.readouterr().err


def test_action_ids_are_unique_in_the_schema(neo4j_driver, settings):
    rows, _, _ = neo4j_driver.execute_query(
        "SHOW CONSTRAINTS YIELD name, labelsOrTypes, properties "
        "WHERE name IN ['action_id', 'journey_version'] RETURN name, properties ORDER BY name",
        database_=settings.neo4j_database,
    )
    assert [(r["name"], r["properties"]) for r in rows] == [
        ("action_id", ["id"]),
        ("journey_version", ["id", "version"]),
    ]
