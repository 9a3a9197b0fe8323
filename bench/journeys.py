"""Journey triggers on a demo store: actions scheduled per second and emitted per second.

Loads ``--people`` demo people into the benchmark server (see ``_common``), creates a cart
recovery journey (EMAIL after 1 h if no order; SMS after 24 h if no order and SMS consent)
and an order thank-you journey, both with a window wide enough to take every demo cart and
order as a trigger, then measures:

* ``schedule``: the first scan (every action new), and the same scan again (nothing new:
  the idempotent re-check of every trigger);
* ``run``: the runner emitting the due actions to a JSON Lines file (claim, condition checks,
  append and fsync, mark EMITTED) and cancelling the ones whose conditions fail.

    .venv/bin/python bench/journeys.py --people 2000
"""

from __future__ import annotations

import argparse
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from _common import bench_settings, demo_data, fresh_database, print_peak_memory

from graph.demo._clock import END
from graph.demo.load import load_demo
from graph.services import journeys

CART = {
    "id": "cart-recovery",
    "name": "Cart recovery",
    "trigger": {"type": "cart_abandoned", "within": "3650d"},
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
THANKS = {
    "id": "order-thanks",
    "name": "Thank you for your order",
    "trigger": {"type": "order_placed", "within": "3650d"},
    "steps": [
        {"delay": "30m", "channel": "EMAIL", "template": "thanks", "conditions": ["consent"]}
    ],
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--batch-size", type=int, default=500, help="runner batch size")
    args = parser.parse_args()

    settings = bench_settings()
    driver = fresh_database(settings)
    try:
        started = time.monotonic()
        load_demo(driver, settings, demo_data(args.people, args.seed), show_progress=False)
        print(f"demo store: {args.people} people loaded in {time.monotonic() - started:.0f} s")
        for definition in (CART, THANKS):
            journeys.create_journey(driver, settings, definition)
        now = datetime.fromtimestamp(END, UTC) + timedelta(seconds=1)

        first = journeys.schedule(driver, settings, now=now)
        print(
            f"schedule (new): {first.created:,} actions from {first.triggers:,} triggers in "
            f"{first.seconds:.2f} s = {first.created / first.seconds:,.0f} actions/s"
        )
        again = journeys.schedule(driver, settings, now=now)
        print(
            f"schedule (again, {again.created} new): {again.triggers:,} triggers re-checked in "
            f"{again.seconds:.2f} s = {again.triggers / again.seconds:,.0f} triggers/s"
        )
        with tempfile.TemporaryDirectory() as tmp:
            out = Path(tmp) / "actions.jsonl"
            report = journeys.run(
                driver,
                settings,
                out=out,
                now=now + timedelta(days=2),
                batch_size=args.batch_size,
            )
            cancelled = sum(report.cancelled.values())
            print(
                f"run: {report.emitted:,} emitted, {cancelled:,} cancelled "
                f"({', '.join(f'{k} {v:,}' for k, v in sorted(report.cancelled.items()))}) "
                f"in {report.seconds:.2f} s = {report.emitted / report.seconds:,.0f} "
                f"emitted/s, {(report.emitted + cancelled) / report.seconds:,.0f} "
                f"actions decided/s (batch {args.batch_size}, output "
                f"{out.stat().st_size / 1e6:.1f} MB)"
            )
        print_peak_memory(settings)
    finally:
        driver.close()


if __name__ == "__main__":
    main()
