"""Journey benchmark: actions scheduled per second and emitted per second on a demo store.

    .venv/bin/python bench/journeys.py [--people 100000] [--seed 42] [--reuse]

Bulk-loads N demo people with their events (``c360 load``, as bench/load.py --events) into
the benchmark database (``--reuse`` keeps a store already holding that load), defines two
journeys (the README's abandoned cart: EMAIL at 1 hour, SMS at 24 hours if still no order and
SMS consent; and an order follow-up 7 days after each order), then times

* ``c360 journeys schedule``: the scan of every stored cart and order, actions created/s;
* ``c360 journeys run``: every action due (now = 60 days after the demo's last event) to a
  JSON Lines file, emitted or cancelled, actions handled/s and emitted/s, with the counts
  by outcome.

The figures print with the load average: the machine is shared, so they are lower bounds.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from _common import bench_settings, demo_data, fresh_database, register_demo_sources

from graph import db
from graph.demo._clock import END
from graph.services.bulkload import bulk_load, manifest_files
from graph.services.journeys import run_journeys
from graph.store import actions, journeys

CART = {
    "trigger": {"type": "CART_ABANDONED", "after": "1 hour"},
    "steps": [
        {
            "delay": "now",
            "channel": "EMAIL",
            "template": "cart-reminder",
            "conditions": [
                {"type": "NO_ORDER_SINCE_TRIGGER"},
                {"type": "CONSENT", "purpose": "MARKETING"},
            ],
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
FOLLOW_UP = {
    "trigger": {"type": "ORDER_PLACED"},
    "steps": [
        {
            "delay": "7 days",
            "channel": "EMAIL",
            "template": "review-request",
            "conditions": [{"type": "CONSENT", "purpose": "MARKETING"}],
        }
    ],
}


def _people(settings) -> int:
    rows = db.read(db.connect(settings), settings, "MATCH (p:Person) RETURN count(p) AS n")
    return rows[0]["n"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--reuse", action="store_true", help="keep a loaded store")
    parser.add_argument("--batch-size", type=int, default=500, help="runner batch size")
    args = parser.parse_args()
    directory = demo_data(args.people, args.seed)
    settings = bench_settings()
    if not (args.reuse and _people(settings) > 0):
        driver = fresh_database(settings)
        register_demo_sources(driver, settings)
        driver.close()
        started = time.monotonic()
        bulk_load(settings, list(manifest_files(directory / "manifest.json")), show_progress=False)
        print(f"loaded {args.people} demo people with events in {time.monotonic() - started:.0f} s")
    driver = db.connect(settings)
    driver.execute_query("MATCH (a:Action) DETACH DELETE a", database_=settings.neo4j_database)
    driver.execute_query("MATCH (j:Journey) DETACH DELETE j", database_=settings.neo4j_database)
    people = _people(settings)
    for jid, definition in (("cart", CART), ("follow-up", FOLLOW_UP)):
        journeys.create_journey(driver, settings, jid, jid, definition, actor="bench")

    started = time.monotonic()
    created = journeys.schedule_existing(driver, settings)
    seconds = time.monotonic() - started
    total = sum(created.values())
    counted = (
        db.read(driver, settings, "MATCH (e:Cart) RETURN count(e) AS n")[0]["n"]
        + db.read(driver, settings, "MATCH (e:Order) RETURN count(e) AS n")[0]["n"]
    )
    print(f"people: {people:,}  trigger events scanned (carts + orders): {counted:,}")
    print(
        f"schedule (scan): {total:,} actions in {seconds:.1f} s = {total / seconds:,.0f} "
        f"actions/s ({', '.join(f'{k} {v:,}' for k, v in created.items())})"
    )

    now = datetime.fromtimestamp(END, UTC) + timedelta(days=60)
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "actions.jsonl"
        started = time.monotonic()
        report = run_journeys(
            driver, settings, out=out, now=now, batch_size=args.batch_size, show_progress=False
        )
        seconds = time.monotonic() - started
        size = out.stat().st_size if out.exists() else 0
    handled = report.emitted + sum(report.cancelled.values()) + report.recovered
    print(
        f"run: {handled:,} actions handled in {seconds:.1f} s = {handled / seconds:,.0f} "
        f"actions/s; emitted {report.emitted:,} = {report.emitted / seconds:,.0f} emitted/s "
        f"({size / 1e6:.1f} MB of JSON Lines); cancelled "
        + ", ".join(f"{r} {n:,}" for r, n in sorted(report.cancelled.items()))
    )
    print(
        "outbox: "
        + ", ".join(f"{k} {v:,}" for k, v in actions.action_counts(driver, settings).items())
    )
    print(f"load average: {', '.join(f'{x:.2f}' for x in os.getloadavg())}")
    driver.close()


if __name__ == "__main__":
    main()
