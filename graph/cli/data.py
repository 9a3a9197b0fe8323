"""``c360 sources``, ``c360 ingest`` and ``c360 load``."""

from __future__ import annotations

import os
import shlex
from pathlib import Path

import click

from graph import db
from graph.cli.app import cli, settings_of
from graph.ingest import IngestInterrupted, guess_file_type, ingest_file
from graph.ingest.mappings import load_mapping_file
from graph.models import EVENT_TYPES, SourceKind
from graph.services.bulkload import bulk_load, files_from, manifest_files
from graph.services.resolver import Resolver, resolve_after_ingest
from graph.store import sources

__all__: list[str] = ["EXIT_NEO4J_GONE", "EXIT_REJECTED"]

#: Exit status when rows were rejected (the good rows are stored).
EXIT_REJECTED = 3
#: Exit status when Neo4j stayed unavailable past C360_INGEST_WAIT_S: re-run the printed command.
EXIT_NEO4J_GONE = 4


@cli.group("sources")
def sources_group() -> None:
    """Register and list the systems records come from."""


@sources_group.command("add")
@click.argument("source_id")
@click.option(
    "--kind", required=True, type=click.Choice([k.value for k in SourceKind], case_sensitive=False)
)
@click.option("--name", required=True, help="Human name, e.g. 'EU web shop'.")
@click.option(
    "--priority",
    type=int,
    default=0,
    show_default=True,
    help="0-1000; higher wins source-priority reconciliation.",
)
@click.option(
    "--mapping",
    "mapping_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help='TOML file of field-name overrides: [records] Native = "canonical".',
)
@click.pass_context
def sources_add(
    ctx: click.Context,
    source_id: str,
    kind: str,
    name: str,
    priority: int,
    mapping_file: Path | None,
) -> None:
    """Register SOURCE_ID (again: update it)."""
    mapping = load_mapping_file(mapping_file) if mapping_file else {}
    source = sources.validate_source(source_id, kind, name, priority, mapping)
    settings = settings_of(ctx)
    driver = db.connect(settings)
    try:
        stored = sources.register_source(driver, settings, source)
    finally:
        driver.close()
    click.echo(f"registered {stored.id} ({stored.kind.value}, priority {stored.priority})")


@sources_group.command("list")
@click.pass_context
def sources_list(ctx: click.Context) -> None:
    """List registered sources."""
    settings = settings_of(ctx)
    driver = db.connect(settings)
    try:
        rows = sources.list_sources(driver, settings)
    finally:
        driver.close()
    click.echo(f"{'id':<20} {'kind':<10} {'priority':>8}  name")
    for s in rows:
        click.echo(f"{s.id:<20} {s.kind.value:<10} {s.priority:>8}  {s.name}")


@cli.command("ingest")
@click.argument(
    "files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path)
)
@click.option("--source", "source_id", required=True, help="Registered source id.")
@click.option(
    "--type",
    "file_type",
    type=click.Choice(EVENT_TYPES),
    help="What the rows are; guessed from the file name when left out.",
)
@click.option(
    "--errors",
    "errors_path",
    type=click.Path(path_type=Path),
    help="Where to write rejected rows and invalid values: a file (one FILE) or a folder "
    "(FILE.errors.csv in it); default FILE.errors.csv beside each FILE.",
)
@click.option("--batch-size", type=click.IntRange(1, 50_000), default=5000, show_default=True)
@click.option(
    "--defer-resolution",
    is_flag=True,
    help="Only store records; resolve later in batch with `c360 resolve --all`.",
)
@click.pass_context
def ingest_cmd(
    ctx: click.Context,
    files: tuple[Path, ...],
    source_id: str,
    file_type: str | None,
    errors_path: Path | None,
    batch_size: int,
    defer_resolution: bool,
) -> None:
    """Ingest CSV or JSON Lines FILES of one source; records are resolved per batch as they
    arrive (two writers store batches while the batch before is resolved in one transaction).
    Records an earlier run stored but did not resolve (pending) are resolved first.

    While Neo4j is unavailable the run waits, retrying with backoff for C360_INGEST_WAIT_S
    (default 120 s). Exit status 3 when rows were rejected (listed as ERROR in the errors
    file); the good rows are stored. A record stored with a malformed value (a WARNING there)
    leaves it at 0. Exit status 4 when Neo4j stayed unavailable: what was written is printed
    with the command that resumes."""
    # every file's type and errors file are checked before anything is ingested
    for path in files:
        if file_type is None:
            guess_file_type(path)
    errors_files = [_errors_file(path, errors_path, len(files)) for path in files]
    settings = settings_of(ctx)
    # the driver's own retries stay short (its backoff doubles from 1 s, so a long window
    # overshoots Neo4j's return by seconds): the pipeline's waits are bounded, logged, shown
    driver = db.connect(settings, retry_s=1.0)
    resolver = None if defer_resolution else Resolver(driver, settings, actor=f"ingest:{source_id}")
    hook = None if resolver is None else resolve_after_ingest(resolver)
    rejected = 0
    try:
        if resolver is not None:
            pending = db.outlive_outage(settings, resolver.resolve_pending)
            if pending:
                click.echo(f"resolved {pending} records an earlier run left pending")
        for done, (path, errors_file) in enumerate(zip(files, errors_files, strict=True)):
            try:
                summary = ingest_file(
                    driver,
                    settings,
                    path,
                    source_id,
                    file_type,
                    batch_size=batch_size,
                    errors_path=errors_file,
                    after_batch=hook,
                )
            except IngestInterrupted as exc:
                _gave_up(
                    exc,
                    files[done:],
                    source_id,
                    file_type,
                    errors_path,
                    batch_size,
                    defer_resolution,
                )
                ctx.exit(EXIT_NEO4J_GONE)
            click.echo(str(summary))
            rejected += summary.rejected
    finally:
        driver.close()
    if rejected:
        ctx.exit(EXIT_REJECTED)


def _gave_up(
    exc: IngestInterrupted,
    left: tuple[Path, ...],
    source_id: str,
    file_type: str | None,
    errors_path: Path | None,
    batch_size: int,
    defer_resolution: bool,
) -> None:
    """Say what an interrupted ingest wrote and the command that resumes it."""
    s = exc.summary
    written = s.created + s.updated + s.unchanged + s.stale
    click.echo(
        f"error: gave up waiting for Neo4j: {exc}\n"
        f"{left[0]}: {written} of the {s.rows} rows read were written "
        f"({s.created} created, {s.updated} updated, {s.unchanged} unchanged, {s.stale} stale); "
        "written records not resolved yet stay pending and the next run resolves them first",
        err=True,
    )
    command = ["c360", "ingest", *map(str, left), "--source", source_id]
    if file_type:
        command += ["--type", file_type]
    if errors_path is not None:
        command += ["--errors", str(errors_path)]
    command += ["--batch-size", str(batch_size)]
    if defer_resolution:
        command.append("--defer-resolution")
    click.echo(
        "resume, once Neo4j answers again (rows already written are skipped as unchanged):\n"
        f"  {shlex.join(command)}",
        err=True,
    )


def _errors_file(path: Path, errors_path: Path | None, count: int) -> Path:
    """Where the problems of ``path`` go (see ``--errors``); raises click.UsageError when that
    place cannot be written, before any row is ingested."""
    if errors_path is None:
        target = path.with_name(path.name + ".errors.csv")
    elif errors_path.is_dir():
        target = errors_path / (path.name + ".errors.csv")
    elif count > 1:
        raise click.UsageError(
            f"--errors {errors_path} is a file but {count} files are ingested: give a folder"
        )
    else:
        target = errors_path
    folder = target.parent
    if (
        not folder.is_dir()
        or not os.access(folder, os.W_OK)
        or (target.exists() and not os.access(target, os.W_OK))
    ):
        raise click.UsageError(
            f"cannot write the errors file {target} (its folder is missing or read-only): "
            "pass --errors PATH (a file or a folder)"
        )
    return target


@cli.command("load")
@click.argument("files", nargs=-1, metavar="SOURCE=FILE...")
@click.option(
    "--manifest",
    "manifest_path",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="A manifest.json listing the files (as `c360 demo generate` writes) instead.",
)
@click.option(
    "--transactions",
    is_flag=True,
    help="Write with batched transactions even to the local server (default: neo4j-admin "
    "import for the local server, transactions for NEO4J_URI).",
)
@click.pass_context
def load_cmd(
    ctx: click.Context, files: tuple[str, ...], manifest_path: Path | None, transactions: bool
) -> None:
    """Bulk first load: the FILES of several sources into an EMPTY database, resolved in
    memory with the same rules and model as `c360 ingest`, written at once.

    Each argument is SOURCE=FILE (a registered source; the file type from the name, as
    for `c360 ingest`). Records files are parsed, resolved and written (with neo4j-admin
    import for the local server, which restarts); the other files are then ingested onto
    them. A database holding anything but sources and match models is refused. Exit status
    3 when rows were rejected (see FILE.errors.csv)."""
    entries = list(files_from(files))
    if manifest_path is not None:
        entries += manifest_files(manifest_path)
    if not entries:
        raise click.UsageError("give SOURCE=FILE arguments or --manifest")
    report = bulk_load(settings_of(ctx), entries, use_import=False if transactions else None)
    for summary in (*report.files, *report.events):
        click.echo(str(summary))
    click.echo(f"load: {report}")
    if any(s.rejected for s in (*report.files, *report.events)):
        ctx.exit(3)
