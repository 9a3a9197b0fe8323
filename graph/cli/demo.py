"""``c360 demo generate`` and ``c360 demo load``."""

from __future__ import annotations

import json
from pathlib import Path

import click
from tqdm import tqdm

from graph import db
from graph.cli.app import cli, settings_of
from graph.demo.generate import MANIFEST_NAME, generate
from graph.demo.load import load_demo

__all__: list[str] = []


@cli.group("demo")
def demo_group() -> None:
    """Realistic demo data for four systems, with the truth behind it."""


def _generate(out: Path, people: int, seed: int) -> None:
    with tqdm(total=people, desc="generate", unit=" people", unit_scale=True) as bar:

        def progress(done: int) -> None:
            bar.update(done - bar.n)

        manifest = generate(out, people, seed, progress=progress)
    rows = sum(f.rows for f in manifest.files)
    click.echo(
        f"wrote {len(manifest.files)} files ({rows} rows) for {people} people "
        f"(seed {seed}) to {out}; truth in {out / manifest.truth}"
    )


@demo_group.command("generate")
@click.option("--people", type=click.IntRange(1), default=1000, show_default=True)
@click.option("--seed", type=int, default=42, show_default=True)
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("demo-data"),
    show_default=True,
)
def demo_generate(people: int, seed: int, out: Path) -> None:
    """Write source files of PEOPLE true people (deterministic for a SEED)."""
    _generate(out, people, seed)


@demo_group.command("load")
@click.option(
    "--dir",
    "directory",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("demo-data"),
    show_default=True,
)
@click.option(
    "--people",
    type=click.IntRange(1),
    default=500,
    show_default=True,
    help="People to generate when DIR holds no data set yet.",
)
@click.option("--seed", type=int, default=42, show_default=True)
@click.option(
    "--realtime", is_flag=True, help="Resolve each batch as it arrives instead of once at the end."
)
@click.pass_context
def demo_load(ctx: click.Context, directory: Path, people: int, seed: int, realtime: bool) -> None:
    """Register the demo sources, ingest the data set in DIR (generating it first if
    needed) and resolve it. Loading again changes nothing."""
    manifest = directory / MANIFEST_NAME
    if not manifest.is_file() or (
        json.loads(manifest.read_text()).get("people"),
        json.loads(manifest.read_text()).get("seed"),
    ) != (people, seed):
        _generate(directory, people, seed)
    settings = settings_of(ctx)
    driver = db.connect(settings)
    try:
        result = load_demo(driver, settings, directory, realtime=realtime)
    finally:
        driver.close()
    for summary in result.files:
        click.echo(str(summary))
    if result.resolution is not None:
        click.echo(f"resolution: {result.resolution}")
