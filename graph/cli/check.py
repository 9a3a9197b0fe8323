"""``c360 check``: verify the graph's invariants (see :mod:`graph.store.integrity`)."""

from __future__ import annotations

import click

from graph import db
from graph.cli.app import cli, settings_of
from graph.store import integrity

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
