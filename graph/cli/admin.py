"""``c360 db wipe``: empty a database, keeping its schema and migration chain."""

from __future__ import annotations

import click

from graph import db
from graph.cli.app import cli, settings_of
from graph.errors import FieldError, ValidationError

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
