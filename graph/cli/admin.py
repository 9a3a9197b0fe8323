"""``c360 db wipe`` (empty a database, keeping its schema and migration chain) and
``c360 backup`` / ``c360 restore`` (the local server's database as a dump archive)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import click

from graph import db
from graph.cli.app import cli, settings_of
from graph.errors import ConfigError, FieldError, ValidationError
from graph.localneo4j import LocalNeo4j
from graph.settings import Settings

__all__: list[str] = []


@cli.group("db")
def db_group() -> None:
    """Whole-database operations."""


@db_group.command("wipe")
@click.option("--yes", is_flag=True, help="Really delete every node (required).")
@click.pass_context
def db_wipe(ctx: click.Context, yes: bool) -> None:
    """Delete every node and relationship of the database (NEO4J_DATABASE on NEO4J_URI or
    the local server), keeping constraints, indexes and the migration chain, so the empty
    database is ready for `c360 demo load` or `c360 ingest` at once."""
    settings = settings_of(ctx)
    if not yes:
        raise ValidationError(
            FieldError(
                "--yes",
                f"is required: wiping deletes every node of {settings.neo4j_database!r} "
                f"at {settings.uri}",
            )
        )
    driver = db.connect(settings)
    try:
        deleted = db.wipe_data(
            driver,
            settings,
            progress=lambda n: click.echo(f"\rdeleted {n:,} nodes ...", nl=False, err=True),
        )
    finally:
        driver.close()
    click.echo("", err=True)
    click.echo(
        f"wiped {settings.neo4j_database!r} at {settings.uri}: deleted {deleted:,} nodes; "
        "schema and migrations kept"
    )


_ONLINE = (
    "backup and restore work on the local server (`c360 neo4j`); for NEO4J_URI servers back "
    "up online with their own tools: Aura's snapshots (console or Aura API), Enterprise "
    "`neo4j-admin database backup` / `restore`"
)


@contextmanager
def _offline(settings: Settings) -> Iterator[LocalNeo4j]:
    """The local server stopped for the duration (Community dumps and loads only offline),
    started again afterwards if it was running, whatever happened in between."""
    if not settings.uses_local_server:
        raise ConfigError(_ONLINE)
    server = LocalNeo4j(settings, log=click.echo)
    running = server.status().running
    if running:
        click.echo("stopping Neo4j (Community dumps and loads a database only offline) ...")
        server.stop()
    try:
        yield server
    finally:
        if running:
            click.echo(server.start())


@cli.command("backup")
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
@click.pass_context
def backup(ctx: click.Context, path: Path) -> None:
    """Write the local server's database to the archive PATH (neo4j-admin database dump),
    stopping and restarting the server if it runs. Restore it with `c360 restore PATH`."""
    settings = settings_of(ctx)
    started = time.monotonic()
    with _offline(settings) as server:
        size = server.dump(path)
    click.echo(
        f"backed up {settings.neo4j_database!r} to {path.resolve()} "
        f"({size / (1 << 20):.1f} MB) in {time.monotonic() - started:.1f} s"
    )


@cli.command("restore")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--yes", is_flag=True, help="Replace the database without asking.")
@click.pass_context
def restore(ctx: click.Context, path: Path, yes: bool) -> None:
    """Replace the local server's database with the archive PATH of `c360 backup`
    (neo4j-admin database load), stopping and restarting the server if it runs."""
    settings = settings_of(ctx)
    if not settings.uses_local_server:
        raise ConfigError(_ONLINE)
    if not yes:
        click.confirm(
            f"replace every node of {settings.neo4j_database!r} at {settings.uri} with {path}?",
            abort=True,
        )
    started = time.monotonic()
    with _offline(settings) as server:
        server.load(path)
    click.echo(
        f"restored {settings.neo4j_database!r} from {path.resolve()} "
        f"in {time.monotonic() - started:.1f} s"
    )
