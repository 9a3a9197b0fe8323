"""``c360 segments``: define, list, show, count and export segments (see
:mod:`graph.services.segments` and :mod:`graph.services.activation`)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from graph import db
from graph.cli.app import cli, settings_of
from graph.services import activation, segments
from graph.store import segments as store

__all__: list[str] = []

_ACTOR = "cli"


def _definition(text_or_path: str) -> str:
    """A definition given inline as JSON or as the path of a JSON file."""
    path = Path(text_or_path)
    if not text_or_path.lstrip().startswith("{") and path.is_file():
        return path.read_text(encoding="utf-8")
    return text_or_path


@cli.group("segments")
def segments_group() -> None:
    """Segments of people as data, and audience exports."""


@segments_group.command("create")
@click.argument("name")
@click.argument("definition")
@click.option("--id", "segment_id", help="The segment's id (default seg-<random>).")
@click.pass_context
def create_cmd(ctx: click.Context, name: str, definition: str, segment_id: str | None) -> None:
    """Create segment NAME from DEFINITION (JSON text or a JSON file; see the README)."""
    settings = settings_of(ctx)
    driver = db.connect(settings)
    try:
        s = segments.create_segment(
            driver, settings, name, _definition(definition), actor=_ACTOR, segment_id=segment_id
        )
    finally:
        driver.close()
    click.echo(f"{s.id} version {s.version}: {s.name}")


@segments_group.command("update")
@click.argument("segment_id")
@click.argument("definition")
@click.option("--name", help="A new name.")
@click.pass_context
def update_cmd(ctx: click.Context, segment_id: str, definition: str, name: str | None) -> None:
    """Store DEFINITION as the next version of SEGMENT_ID (old versions are kept)."""
    settings = settings_of(ctx)
    driver = db.connect(settings)
    try:
        s = segments.update_segment(
            driver, settings, segment_id, _definition(definition), actor=_ACTOR, name=name
        )
    finally:
        driver.close()
    click.echo(f"{s.id} version {s.version}: {s.name}")


@segments_group.command("list")
@click.pass_context
def list_cmd(ctx: click.Context) -> None:
    """List the segments with their current version."""
    settings = settings_of(ctx)
    driver = db.connect(settings)
    try:
        found = store.list_segments(driver, settings)
    finally:
        driver.close()
    for s in found:
        click.echo(f"{s.id}\tv{s.version}\t{s.name}")
    if not found:
        click.echo("no segments")


@segments_group.command("show")
@click.argument("segment_id")
@click.option("--cypher", is_flag=True, help="Print the compiled statement and parameters too.")
@click.pass_context
def show_cmd(ctx: click.Context, segment_id: str, cypher: bool) -> None:
    """Show a segment's definition and what it selects, in words."""
    settings = settings_of(ctx)
    driver = db.connect(settings)
    try:
        s = _require(driver, settings, segment_id)
        explained = segments.explain(
            segments.compile_segment(driver, settings, s.definition, segment_id=s.id)
        )
    finally:
        driver.close()
    click.echo(f"{s.id} version {s.version}: {s.name} (updated {s.updated_at} by {s.actor})")
    click.echo(json.dumps(s.definition, indent=2))
    click.echo(f"selects people {explained.words}")
    if cypher:
        click.echo(explained.cypher)
        click.echo(json.dumps(explained.parameters, indent=2))


def _require(driver, settings, segment_id: str) -> store.SegmentView:
    s = store.get_segment(driver, settings, segment_id)
    if s is None:
        from graph.errors import NotFound

        raise NotFound(f"no segment with id {segment_id!r}")
    return s


@segments_group.command("count")
@click.argument("segment_id")
@click.pass_context
def count_cmd(ctx: click.Context, segment_id: str) -> None:
    """Count the people in a segment now."""
    settings = settings_of(ctx)
    driver = db.connect(settings)
    try:
        s = _require(driver, settings, segment_id)
        n = segments.count_members(
            driver,
            settings,
            segments.compile_segment(driver, settings, s.definition, segment_id=s.id),
        )
    finally:
        driver.close()
    click.echo(n)


@segments_group.command("export")
@click.argument("segment_id")
@click.option(
    "--channel",
    type=click.Choice(activation.CHANNELS, case_sensitive=False),
    default="EMAIL",
    show_default=True,
)
@click.option("--purpose", default="MARKETING", show_default=True)
@click.option(
    "--format", "fmt", type=click.Choice(activation.FORMATS), default="csv", show_default=True
)
@click.option(
    "--output",
    "-o",
    type=click.Path(dir_okay=False, path_type=Path),
    help="File to write (default stdout).",
)
@click.option(
    "--no-consent-check", is_flag=True, help="Do not suppress people without effective consent."
)
@click.option("--keep-undeliverable", is_flag=True, help="Do not suppress hard-bounced emails.")
@click.option("--keep-open-cases", is_flag=True, help="Do not suppress people with an open case.")
@click.option("--promoted-sku", help="Suppress who bought this product recently.")
@click.option("--promoted-category", help="Suppress who bought in this category recently.")
@click.option(
    "--purchase-days",
    type=click.IntRange(1),
    default=30,
    show_default=True,
    help="Window of the recent-purchase rule.",
)
@click.option(
    "--cap",
    "cap_messages",
    type=click.IntRange(0),
    default=3,
    show_default=True,
    help="Frequency cap: at most this many messages ...",
)
@click.option(
    "--cap-days",
    type=click.IntRange(1),
    default=7,
    show_default=True,
    help="... in this many days.",
)
@click.option("--no-cap", is_flag=True, help="No frequency cap.")
@click.pass_context
def export_cmd(
    ctx: click.Context,
    segment_id: str,
    channel: str,
    purpose: str,
    fmt: str,
    output: Path | None,
    no_consent_check: bool,
    keep_undeliverable: bool,
    keep_open_cases: bool,
    promoted_sku: str | None,
    promoted_category: str | None,
    purchase_days: int,
    cap_messages: int,
    cap_days: int,
    no_cap: bool,
) -> None:
    """Export a segment's people with their contact point for CHANNEL after suppression, as
    CSV or JSON Lines, and record the export; the counts per rule go to stderr."""
    settings = settings_of(ctx)
    promoted = (
        activation.RecentPurchase(promoted_sku, promoted_category, purchase_days)
        if promoted_sku or promoted_category
        else None
    )
    rules = activation.Suppression(
        consent=not no_consent_check,
        undeliverable=not keep_undeliverable,
        recent_purchase=promoted,
        frequency_cap=None if no_cap else activation.FrequencyCap(cap_messages, cap_days),
        open_case=not keep_open_cases,
    )
    driver = db.connect(settings)
    out = output.open("w", encoding="utf-8", newline="") if output else sys.stdout
    try:
        view = activation.export_audience(
            driver, settings, segment_id, channel, purpose, out,
            actor=_ACTOR, fmt=fmt, suppression=rules, progress=True,
        )  # fmt: skip
    finally:
        if output:
            out.close()
        driver.close()
    click.echo(
        f"export {view.id}: {view.exported} of {view.candidates} people in segment "
        f"{view.segment_id} v{view.segment_version} ({view.channel} {view.purpose})",
        err=True,
    )
    for rule, removed in view.suppressed:
        click.echo(f"  {rule}: {removed} removed", err=True)
