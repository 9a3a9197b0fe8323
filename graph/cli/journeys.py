"""``c360 journeys``: define journeys from JSON or YAML files, schedule their actions over
stored events, and run the outbox (see :mod:`graph.services.journeys`)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click
import yaml
from tqdm import tqdm

from graph import db
from graph.cli.app import cli, settings_of
from graph.errors import FieldError, ValidationError
from graph.normalize import parse_moment
from graph.services.journeys import run_journeys
from graph.store import actions, journeys

__all__: list[str] = []


@cli.group("journeys")
def journeys_group() -> None:
    """Journey triggers: rules as data that schedule messages into an outbox."""


def _document(path: Path) -> Any:
    """A journey file's document: YAML for .yaml/.yml (PyYAML's safe loader), else JSON."""
    text = path.read_text(encoding="utf-8")
    try:
        if path.suffix.lower() in (".yaml", ".yml"):
            return yaml.safe_load(text)
        return json.loads(text)
    except (yaml.YAMLError, json.JSONDecodeError) as exc:
        kind = "YAML" if path.suffix.lower() in (".yaml", ".yml") else "JSON"
        raise ValidationError(FieldError(str(path), f"is not valid {kind}: {exc}")) from None


@journeys_group.command("define")
@click.argument("files", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@click.pass_context
def define_cmd(ctx: click.Context, files: tuple[Path, ...]) -> None:
    """Create or update journeys from JSON or YAML files, each {id, name, trigger, steps}. A
    changed definition is a new version; an unchanged file changes nothing."""
    settings = settings_of(ctx)
    documents = []
    errors: list[FieldError] = []
    for path in files:
        try:
            documents.append((path, _document(path)))
        except ValidationError as exc:
            errors.extend(exc.errors)
    driver = db.connect(settings)
    try:
        for path, document in documents:
            try:
                view, outcome = journeys.define_journey(driver, settings, document, actor="cli")
            except ValidationError as exc:
                errors.extend(FieldError(f"{path.name}: {e.field}", e.reason) for e in exc.errors)
                continue
            click.echo(f"{view.id}: {outcome} (version {view.version}, {_state(view.active)})")
    finally:
        driver.close()
    if errors:
        raise ValidationError(errors)


def _state(active: bool) -> str:
    return "active" if active else "inactive"


@journeys_group.command("list")
@click.pass_context
def list_cmd(ctx: click.Context) -> None:
    """Every journey with its version, state and action counts by status."""
    settings = settings_of(ctx)
    driver = db.connect(settings)
    try:
        for view in journeys.list_journeys(driver, settings):
            counts = actions.action_counts(driver, settings, view.id)
            summary = ", ".join(f"{k} {n}" for k, n in counts.items()) or "no actions"
            click.echo(f"{view.id}\tv{view.version}\t{_state(view.active)}\t{view.name}\t{summary}")
    finally:
        driver.close()


@journeys_group.command("deactivate")
@click.argument("journey_id")
@click.pass_context
def deactivate_cmd(ctx: click.Context, journey_id: str) -> None:
    """Stop a journey: nothing new is scheduled; its due actions are cancelled when run."""
    settings = settings_of(ctx)
    driver = db.connect(settings)
    try:
        view = journeys.deactivate_journey(driver, settings, journey_id, actor="cli")
    finally:
        driver.close()
    click.echo(f"{view.id}: inactive (version {view.version})")


@journeys_group.command("schedule")
@click.option("--journey", "journey_id", help="Only this journey (default every active one).")
@click.option("--batch-size", type=click.IntRange(1, 50_000), default=2000, show_default=True)
@click.pass_context
def schedule_cmd(ctx: click.Context, journey_id: str | None, batch_size: int) -> None:
    """Scan stored carts, orders, engagement and consents and schedule the actions active
    journeys fire (events ingested before a journey existed, demo data). Safe to repeat."""
    settings = settings_of(ctx)
    driver = db.connect(settings)
    try:
        with tqdm(desc="trigger events", unit=" events", mininterval=0.5) as bar:

            def progress(done: int, total: int) -> None:
                bar.total = total
                bar.update(done - bar.n)

            created = journeys.schedule_existing(
                driver, settings, journey_id=journey_id, batch_size=batch_size, progress=progress
            )
    finally:
        driver.close()
    for jid, n in created.items():
        click.echo(f"{jid}: {n} actions scheduled")


@journeys_group.command("run")
@click.option("--now", "now_text", help="Treat this ISO 8601 time as now for due times.")
@click.option(
    "--out",
    default="-",
    show_default=True,
    help="JSON Lines output file (appended; exactly once per action), or - for stdout "
    "(at least once across a crash).",
)
@click.option("--limit", type=click.IntRange(1), help="Handle at most this many actions.")
@click.option("--batch-size", type=click.IntRange(1, 10_000), default=500, show_default=True)
@click.option(
    "--lease-seconds",
    type=click.FloatRange(0.1),
    default=300.0,
    show_default=True,
    help="How long a claimed batch is this runner's before another may take it over.",
)
@click.pass_context
def run_cmd(
    ctx: click.Context,
    now_text: str | None,
    out: str,
    limit: int | None,
    batch_size: int,
    lease_seconds: float,
) -> None:
    """Emit due journey actions as JSON Lines and cancel those whose conditions no longer
    hold (order placed, consent withdrawn, person forgotten ...), with the reason stored."""
    settings = settings_of(ctx)
    now = None
    if now_text is not None:
        try:
            now = parse_moment(now_text)
        except ValueError as exc:
            raise ValidationError(FieldError("--now", str(exc))) from None
    driver = db.connect(settings)
    try:
        report = run_journeys(
            driver,
            settings,
            out=None if out == "-" else Path(out),
            now=now,
            limit=limit,
            batch_size=batch_size,
            lease_seconds=lease_seconds,
        )
    finally:
        driver.close()
    click.echo(str(report), err=True)
