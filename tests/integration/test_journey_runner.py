"""The journey runner's delivery guarantee against a real Neo4j and real processes: each action
is written to the output file exactly once when a runner is SIGKILLed mid-run and restarted,
when one dies between writing and marking, and with two runners at once."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta

import pytest

from graph.ingest import ingest_rows
from graph.services.journeys import _FileSink, run_journeys
from graph.services.resolver import Resolver, resolve_after_ingest
from graph.store import actions, journeys, sources
from graph.store.sources import validate_source

T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
PEOPLE = 150
STEPS = 8  # 1,200 actions, all due at T0


@pytest.fixture
def due(neo4j_driver, settings):
    """PEOPLE people with one order each and a journey of STEPS push messages per order."""
    sources.register_source(neo4j_driver, settings, validate_source("shop", "COMMERCE", "S", 10))
    source = sources.require_source(neo4j_driver, settings, "shop")
    records = [
        {
            "sourceId": f"C{n}",
            "givenName": f"Given{n}",
            "familyName": f"Family{n}",
            "email": f"person{n}@example.com",
        }
        for n in range(PEOPLE)
    ]
    hook = resolve_after_ingest(Resolver(neo4j_driver, settings))
    ingest_rows(
        neo4j_driver, settings, source, "records", list(enumerate(records)), after_batch=hook
    )
    definition = {
        "trigger": {"type": "ORDER_PLACED"},
        "steps": [{"channel": "PUSH", "template": f"t{k}"} for k in range(STEPS)],
    }
    journeys.create_journey(neo4j_driver, settings, "burst", "Burst", definition, actor="t")
    orders = [
        {"orderId": f"O{n}", "sourceId": f"C{n}", "placedAt": T0.isoformat()} for n in range(PEOPLE)
    ]
    ingest_rows(neo4j_driver, settings, source, "orders", list(enumerate(orders)))
    ids = {
        r["id"]
        for r in neo4j_driver.execute_query(
            "MATCH (a:Action) RETURN a.id AS id", database_=settings.neo4j_database
        ).records
    }
    assert len(ids) == PEOPLE * STEPS
    return ids


def _runner(settings, tmp_path, out, *extra):
    env = {
        **os.environ,
        "NEO4J_URI": settings.uri,
        "NEO4J_USERNAME": settings.neo4j_username,
        "NEO4J_PASSWORD": settings.password(),
        "NEO4J_DATABASE": settings.neo4j_database,
    }
    code = "import sys; from graph.cli import main; sys.exit(main(sys.argv[1:]))"
    return subprocess.Popen(
        [
            sys.executable,
            "-c",
            code,
            "journeys",
            "run",
            "--out",
            str(out),
            "--now",
            T0.isoformat(),
            *extra,
        ],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _lines(out):
    return [json.loads(x)["actionId"] for x in out.read_text().splitlines() if x]


def _statuses(driver, settings):
    rows = driver.execute_query(
        "MATCH (a:Action) RETURN a.status AS s, count(*) AS n", database_=settings.neo4j_database
    ).records
    return {r["s"]: r["n"] for r in rows}


def test_a_runner_killed_mid_run_and_restarted_emits_each_action_once(
    neo4j_driver, settings, due, tmp_path
):
    out = tmp_path / "actions.jsonl"
    first = _runner(settings, tmp_path, out, "--batch-size", "20", "--lease-seconds", "2")
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and first.poll() is None:
        if out.exists() and len(out.read_bytes().splitlines()) >= 100:
            break
        time.sleep(0.005)
    os.kill(first.pid, signal.SIGKILL)
    first.communicate()  # reaps it and closes its pipes
    assert first.returncode == -signal.SIGKILL
    written_before = _lines(out)
    assert 0 < len(written_before) < len(due)
    time.sleep(2.5)  # the dead runner's lease runs out
    second = _runner(settings, tmp_path, out, "--batch-size", "50")
    _, err = second.communicate(timeout=300)
    assert second.returncode == 0, err
    ids = _lines(out)
    assert len(ids) == len(set(ids)) == len(due)
    assert set(ids) == due
    assert _statuses(neo4j_driver, settings) == {"EMITTED": len(due)}


def test_a_runner_dying_between_writing_and_marking_is_not_written_twice(
    neo4j_driver, settings, due, tmp_path
):
    out = tmp_path / "actions.jsonl"
    clock = datetime.now(UTC)
    claimed = actions.claim(
        neo4j_driver,
        settings,
        "dead-runner",
        now=T0,
        clock=clock,
        lease_until=clock - timedelta(seconds=1),
        limit=30,
    )
    sink = _FileSink(out)
    sink.write([(c.id, json.dumps({"actionId": c.id, "runner": "dead-runner"})) for c in claimed])
    sink.close()  # ... and the runner died before marking them EMITTED
    assert _statuses(neo4j_driver, settings)["CLAIMED"] == 30
    report = run_journeys(neo4j_driver, settings, out=out, now=T0, show_progress=False)
    ids = _lines(out)
    assert len(ids) == len(set(ids)) == len(due)
    assert report.recovered == 30 and report.emitted == len(due) - 30
    assert _statuses(neo4j_driver, settings) == {"EMITTED": len(due)}


def test_two_runners_at_once_emit_each_action_once(neo4j_driver, settings, due, tmp_path):
    out = tmp_path / "actions.jsonl"
    runners = [_runner(settings, tmp_path, out, "--batch-size", "10") for _ in range(2)]
    for r in runners:
        _, err = r.communicate(timeout=300)
        assert r.returncode == 0, err
    lines = [json.loads(x) for x in out.read_text().splitlines()]
    ids = [x["actionId"] for x in lines]
    assert len(ids) == len(set(ids)) == len(due)
    assert _statuses(neo4j_driver, settings) == {"EMITTED": len(due)}
    by_runner = {x["runner"] for x in lines}
    assert len(by_runner) in (1, 2)  # both usually share the work; never a duplicate
