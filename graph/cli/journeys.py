"""``c360 journeys``: journey definitions, scheduling their actions, running the outbox."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from graph import db
from graph.cli.app import cli, settings_of
from graph.errors import NotFound
from graph.services import journeys
from graph.store import journeys as store

__all__: list[str] = []


@cli.group("journeys")
def journeys_group() -> None:
    """Journey triggers: rules as data (cart abandoned -> EMAIL after 1h ...), an outbox of
    actions with due times, and a runner that emits them as JSON Lines."""


@journeys_group.command("create")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.pass_context
def create_cmd(ctx: click.Context, file: Path) -> None:
    """Validate the definition in FILE (JSON, or YAML for .yaml/.yml) and store it as the
    active version of its journey (the same definition again adds nothing)."""
    settings = settings_of(ctx)
    raw = journeys.load_definition_file(file)
    driver = db.connect(settings)
    try:
        journey, outcome = journeys.create_journey(driver, settings, raw)
    finally:
        driver.close()
    click.echo(f"{outcome}: journey {journey.id} version {journey.version} (active)")


@journeys_group.command("list")
@click.pass_context
def list_cmd(ctx: click.Context) -> None:
    """The journeys: latest version of each, active or not, with trigger and steps."""
    settings = settings_of(ctx)
    driver = db.connect(settings)
    try:
        found = store.list_journeys(driver, settings)
    finally:
        driver.close()
    if not found:
        click.echo("no journeys (create one with `c360 journeys create FILE`)")
    for j in found:
        steps = ", ".join(f"{s['channel']} +{s['delay']}" for s in j.definition["steps"])
        state = "active" if j.active else "inactive"
        click.echo(f"{j.id}\tv{j.version}\t{state}\t{j.definition['trigger']['type']}: {steps}")


@journeys_group.command("show")
@click.argument("journey_id")
@click.option("--version", type=click.IntRange(1), help="A version (default the latest).")
@click.pass_context
def show_cmd(ctx: click.Context, journey_id: str, version: int | None) -> None:
    """A journey's definition as JSON, with its version and state."""
    settings = settings_of(ctx)
    driver = db.connect(settings)
    try:
        journey = store.get_journey(driver, settings, journey_id, version)
    finally:
        driver.close()
    if journey is None:
        raise NotFound(f"no journey with id {journey_id!r}" + (f" v{version}" if version else ""))
    click.echo(
        json.dumps(
            {
                "id": journey.id,
                "version": journey.version,
                "active": journey.active,
                "createdAt": journey.created_at,
                "definition": journey.definition,
            },
            indent=2,
        )
    )


@journeys_group.command("deactivate")
@click.argument("journey_id")
@click.pass_context
def deactivate_cmd(ctx: click.Context, journey_id: str) -> None:
    """Stop a journey: nothing more is scheduled; its pending actions are cancelled when due."""
    settings = settings_of(ctx)
    driver = db.connect(settings)
    try:
        versions = store.deactivate_journey(driver, settings, journey_id)
    finally:
        driver.close()
    click.echo(f"deactivated journey {journey_id} ({versions} version(s))")


@journeys_group.command("schedule")
@click.option("--now", help="The time to schedule at (ISO 8601; default the current time).")
@click.pass_context
def schedule_cmd(ctx: click.Context, now: str | None) -> None:
    """Scan the graph for the triggers of the active journeys and schedule their actions
    (idempotent: running it again schedules nothing new)."""
    settings = settings_of(ctx)
    moment = journeys.parse_now(now)
    driver = db.connect(settings)
    try:
        report = journeys.schedule(driver, settings, now=moment, progress=True)
    finally:
        driver.close()
    click.echo(str(report), err=True)


@journeys_group.command("run")
@click.option("--now", help="The time to run at (ISO 8601; default the current time).")
@click.option(
    "--out",
    default="-",
    show_default=True,
    help="JSON Lines file to append to (exactly once per file), or - for stdout (at least once).",
)
@click.option("--limit", type=click.IntRange(1), help="Emit at most N actions.")
@click.option("--batch-size", type=click.IntRange(1, 10_000), default=500, show_default=True)
@click.option(
    "--lease",
    "lease_s",
    type=click.IntRange(1),
    default=60,
    show_default=True,
    help="Seconds a claimed batch stays this runner's before another may take it over.",
)
@click.option("--runner-id", help="This runner's name in the graph (default host:pid:random).")
@click.pass_context
def run_cmd(
    ctx: click.Context,
    now: str | None,
    out: str,
    limit: int | None,
    batch_size: int,
    lease_s: int,
    runner_id: str | None,
) -> None:
    """Emit the due actions as JSON Lines and cancel those whose conditions no longer hold
    (order placed, cart converted, consent withdrawn, person forgotten, journey inactive)."""
    settings = settings_of(ctx)
    moment = journeys.parse_now(now)
    driver = db.connect(settings)
    try:
        report = journeys.run(
            driver,
            settings,
            out=None if out == "-" else Path(out),
            stream=sys.stdout,
            now=moment,
            limit=limit,
            runner_id=runner_id,
            lease_s=lease_s,
            batch_size=batch_size,
        )
    finally:
        driver.close()
    click.echo(str(report), err=True)
