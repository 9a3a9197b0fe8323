"""``c360 check``: verify the graph's invariants (see :mod:`graph.store.integrity`);
``c360 status``: the server, the schema and how many records wait for resolution."""

from __future__ import annotations

import click

from graph import db, migrate
from graph.cli.app import cli, settings_of
from graph.store import integrity, records

__all__: list[str] = []

#: Exit status when a check fails (1 stays "the command could not run").
EXIT_VIOLATIONS = 2


@cli.command("check")
@click.option(
    "--limit",
    type=click.IntRange(1),
    default=20,
    show_default=True,
    help="Offending ids listed per failed check (the count is always complete).",
)
@click.option(
    "--only",
    "only",
    multiple=True,
    type=click.Choice([c.name for c in integrity.CHECKS]),
    help="Run only this check (repeatable).",
)
@click.pass_context
def check_cmd(ctx: click.Context, limit: int, only: tuple[str, ...]) -> None:
    """Verify the graph's invariants: every record held by exactly one person, no empty
    person, stored counts equal to the facts, aliases leading to live people, one node per
    identifier. Exit status 0 when all hold, 2 listing the offending ids when one fails."""
    settings = settings_of(ctx)
    driver = db.connect(settings)
    try:
        violations = integrity.check_graph(driver, settings, limit=limit, only=only or None)
    finally:
        driver.close()
    checks = len(only) if only else len(integrity.CHECKS)
    if not violations:
        click.echo(f"ok: {checks} checks, every invariant holds")
        return
    for v in violations:
        more = f" (and {v.total - len(v.ids)} more)" if v.total > len(v.ids) else ""
        click.echo(f"FAIL {v.check}: {v.total} {v.problem}", err=True)
        click.echo(f"  {', '.join(v.ids)}{more}", err=True)
    click.echo(f"{len(violations)} of {checks} checks failed", err=True)
    ctx.exit(EXIT_VIOLATIONS)


@cli.command("status")
@click.pass_context
def status_cmd(ctx: click.Context) -> None:
    """Neo4j's address and version, the schema (migrations applied / pending) and the records
    pending resolution (stored but not resolved yet: `c360 resolve --pending` resolves them).
    Exit status 1 when Neo4j does not answer."""
    settings = settings_of(ctx)
    driver = db.connect(settings, retry_s=2.0, connect_timeout_s=5.0)
    try:
        info = db.server_info(driver, settings)
        rows = migrate.info(driver, settings)
        pending = records.count_pending(driver, settings)
    finally:
        driver.close()
    applied = [r for r in rows if r.state == "APPLIED"]
    waiting = len(rows) - len(applied)
    click.echo(f"neo4j: {info['version']} {info['edition']} at {settings.uri}")
    click.echo(
        f"schema: version {applied[-1].version if applied else '-'}"
        + (f", {waiting} migrations pending (`c360 migrate`)" if waiting else ", up to date")
    )
    click.echo(
        f"pending records: {pending}"
        + (" (`c360 resolve --pending` resolves them)" if pending else "")
    )
