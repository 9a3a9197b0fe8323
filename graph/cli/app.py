"""Command group and the foundation commands: ``neo4j``, ``migrate``, ``serve``."""

from __future__ import annotations

import copy
import secrets
from pathlib import Path

import click

from graph import db
from graph import migrate as migrations
from graph.ingest.parse import set_input_limits
from graph.localneo4j import LocalNeo4j
from graph.settings import Settings, env_file, load_settings

__all__ = ["cli"]


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="customer360", prog_name="c360")
@click.pass_context
def cli(ctx: click.Context) -> None:
    """customer360: one person, one 360 ID, across every system that knows them."""
    ctx.ensure_object(dict)


def settings_of(ctx: click.Context) -> Settings:
    """The process's settings, built once per command run."""
    if "settings" not in ctx.obj:
        ctx.obj["settings"] = load_settings()
        set_input_limits(ctx.obj["settings"].input_limits)
    return ctx.obj["settings"]


@cli.group("neo4j")
def neo4j_group() -> None:
    """Run a local Neo4j Community server (no Docker needed; Java 17+ and Maven are)."""


@neo4j_group.command("start")
@click.pass_context
def neo4j_start(ctx: click.Context) -> None:
    """Fetch Neo4j on first use, start it in the background, wait until Bolt answers."""
    settings = settings_of(ctx)
    if settings.neo4j_password is None:
        settings = _write_dev_password(ctx)
    click.echo(LocalNeo4j(settings, log=click.echo).start())


@neo4j_group.command("stop")
@click.pass_context
def neo4j_stop(ctx: click.Context) -> None:
    """Stop the server started by `c360 neo4j start` (and nothing else)."""
    click.echo(LocalNeo4j(settings_of(ctx)).stop())


@neo4j_group.command("status")
@click.pass_context
def neo4j_status(ctx: click.Context) -> None:
    """Say whether the local server runs, and where; exit status 3 when it does not."""
    status = LocalNeo4j(settings_of(ctx)).status()
    if status.running:
        click.echo(
            f"running (pid {status.pid}) at {status.bolt_uri}; Browser: {status.browser_url}"
        )
    else:
        click.echo(f"not running (home {status.home})")
        ctx.exit(3)


@cli.command("migrate")
@click.option("--info", "show_info", is_flag=True, help="List applied and pending versions.")
@click.pass_context
def migrate_cmd(ctx: click.Context, show_info: bool) -> None:
    """Apply the Cypher migrations in cypher/ that are not applied yet, in version order."""
    settings = settings_of(ctx)
    driver = db.connect(settings)
    try:
        if show_info:
            rows = migrations.info(driver, settings)
            click.echo(f"{'version':<9} {'state':<8} {'installed on':<32} {'by':<10} source")
            for r in rows:
                click.echo(
                    f"{r.version:<9} {r.state:<8} {r.installed_on or '':<32} "
                    f"{r.installed_by or '':<10} {r.source}"
                )
            return
        report = migrations.migrate(driver, settings, log=click.echo)
        if report.applied:
            click.echo(
                f"applied {len(report.applied)} migration(s); now at {report.current_version}"
            )
        else:
            click.echo(f"database is up to date at version {report.current_version}")
    finally:
        driver.close()


@cli.command("serve")
@click.option("--host", default=None, help="Interface to bind (default C360_API_HOST).")
@click.option("--port", type=int, default=None, help="Port (default C360_API_PORT).")
@click.pass_context
def serve(ctx: click.Context, host: str | None, port: int | None) -> None:
    """Serve the GraphQL API (/graphql, /health, /ready) with uvicorn."""
    import uvicorn  # the API server is only needed by this command
    from uvicorn.config import LOGGING_CONFIG

    settings = settings_of(ctx)
    if settings.api_keys is None:
        settings = _write_dev_api_key(ctx)
    db.connect(settings).close()  # fail here with one clear line, not in a lifespan traceback
    # An import string keeps graph free of any import of api (dependencies point api -> graph).
    uvicorn.run(
        "api.app:create_app",
        factory=True,
        host=host or settings.api_host,
        port=port or settings.api_port,
        log_level="info",
        log_config=_log_config(LOGGING_CONFIG),
        ws_max_size=settings.max_body_bytes,  # a WebSocket message obeys the body limit too
    )


def _log_config(uvicorn_config: dict) -> dict:
    """uvicorn's logging, plus the API's own lines (``customer360.*``: one line per client
    error, a traceback for an unexpected one) on its console handler."""
    config = copy.deepcopy(uvicorn_config)
    config["loggers"]["customer360"] = {
        "handlers": ["default"],
        "level": "INFO",
        "propagate": False,
    }
    return config


def _write_dev_api_key(ctx: click.Context) -> Settings:
    """Generate an admin API key for a local API and keep it in the .env file (git-ignored)."""
    key = secrets.token_urlsafe(24)
    path = env_file()
    _append(path, f"C360_API_KEYS={key}=admin\n")
    click.echo(
        f"C360_API_KEYS was not set: generated an admin API key and saved it in "
        f"{path}; send it as the X-API-Key header"
    )
    ctx.obj["settings"] = load_settings()
    return ctx.obj["settings"]


def _write_dev_password(ctx: click.Context) -> Settings:
    """Generate a password for a local server and keep it in the .env file (git-ignored)."""
    path = env_file()
    password = secrets.token_urlsafe(18)
    _append(path, f"NEO4J_PASSWORD={password}\n")
    click.echo(f"NEO4J_PASSWORD was not set: generated one and saved it in {path}")
    ctx.obj["settings"] = load_settings()
    return ctx.obj["settings"]


def _append(path: Path, line: str) -> None:
    """Add ``line`` to the .env file ``path``, on a line of its own."""
    text = path.read_text(encoding="utf-8") if path.is_file() else ""
    with path.open("a", encoding="utf-8") as fh:
        fh.write(("\n" if text and not text.endswith("\n") else "") + line)
