"""``c360 resolve``, ``rules check``, ``evaluate``, ``explain``, ``merge``, ``split``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import LiteralString

import click
import neo4j

from graph import db
from graph.cli.app import cli, settings_of
from graph.errors import FieldError, ValidationError
from graph.resolution.evaluate import evaluate, format_evaluation, read_truth
from graph.resolution.rules import load_rules
from graph.services.resolver import ResolutionResult, Resolver

__all__: list[str] = []

_CLUSTERING: LiteralString = """
MATCH (r:SourceRecord) WHERE r.placeholder IS NULL
OPTIONAL MATCH (p:Person)-[:HAS_RECORD]->(r)
RETURN r.key AS key, coalesce(p.id, r.key) AS cluster
"""

_rules_option = click.option(
    "--rules",
    "rules_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Rule file (default C360_RULES or the packaged default_rules.toml).",
)


def _resolver(
    ctx: click.Context, rules_file: Path | None, actor: str = "cli"
) -> tuple[neo4j.Driver, Resolver]:
    settings = settings_of(ctx)
    rules = load_rules(rules_file or settings.rules_file)
    driver = db.connect(settings)
    return driver, Resolver(driver, settings, rules, actor=actor)


@cli.group("rules")
def rules_group() -> None:
    """Inspect match rule files."""


@rules_group.command("check")
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
def rules_check(path: Path) -> None:
    """Validate a rule file; every problem is listed with its rule and field."""
    try:
        rules = load_rules(path)
    except ValidationError as exc:
        for error in exc.errors:
            click.echo(f"{path}: {error}", err=True)
        raise click.exceptions.Exit(1) from exc
    click.echo(
        f"{path}: OK, {len(rules.rules)} rules "
        f"({', '.join(r.name for r in rules.rules)}), {len(rules.conflicts)} conflicts, "
        f"version {rules.version}"
    )


@cli.command("resolve")
@click.option(
    "--all",
    "resolve_all",
    is_flag=True,
    help="Re-resolve every record in batch (after a bulk load or a rule change).",
)
@click.option(
    "--pending",
    "pending_only",
    is_flag=True,
    help="Resolve only the records stored but not resolved yet (pending).",
)
@click.argument("keys", nargs=-1)
@_rules_option
@click.pass_context
def resolve_cmd(
    ctx: click.Context,
    resolve_all: bool,
    pending_only: bool,
    keys: tuple[str, ...],
    rules_file: Path | None,
) -> None:
    """Resolve source records KEYS (source:id) now, every record with --all, or the pending
    ones with --pending. Records pending resolution (stored by a run that did not resolve
    them) are resolved first in every case; Neo4j being unavailable is waited for
    (C360_INGEST_WAIT_S)."""
    if sum((resolve_all, pending_only, bool(keys))) > 1:
        raise ValidationError(
            FieldError("keys", "give record keys (source:id), --all or --pending, only one")
        )
    if not (resolve_all or pending_only or keys):
        raise ValidationError(
            FieldError(
                "keys",
                "give record keys (source:id) to resolve, --pending for the records not "
                "resolved yet, or --all for every record",
            )
        )
    driver, resolver = _resolver(ctx, rules_file)
    settings = resolver.settings
    try:
        if resolve_all:
            click.echo(str(db.outlive_outage(settings, resolver.resolve_all)))
            # records stored while it ran, or held back then, are resolved too
            db.outlive_outage(settings, resolver.resolve_pending)
            return
        pending = db.outlive_outage(settings, resolver.resolve_pending)
        if pending or pending_only:
            click.echo(f"resolved {pending} pending records")
        if pending_only:
            return
        result = db.outlive_outage(settings, lambda: resolver.resolve(list(keys)))
        missing = 0
        for r in result.records:
            if r.person_id is None:
                missing += 1
                click.echo(
                    f"{r.key}: no such source record (or only a placeholder with no data yet)",
                    err=True,
                )
                continue
            rule = f" by {r.rule} ({r.score:g})" if r.rule and r.score is not None else ""
            click.echo(f"{r.key}: {r.decision} -> {r.person_id}{rule}")
    finally:
        driver.close()
    if missing:
        ctx.exit(1)


@cli.command("evaluate")
@click.option(
    "--truth",
    "truth_file",
    required=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="CSV of source record key (key, or source + sourceId) -> true entity id.",
)
@click.pass_context
def evaluate_cmd(ctx: click.Context, truth_file: Path) -> None:
    """Compare the current people with a ground truth: pairwise precision, recall, F1.

    Every truth record is scored; one missing from the database counts as unresolved (alone,
    lowering recall). Refused (exit status 1) when the database holds no records or shares
    none with the truth."""
    truth = read_truth(truth_file)
    settings = settings_of(ctx)
    driver = db.connect(settings)
    try:
        predicted: dict[str, str] = {}
        with driver.session(
            database=settings.neo4j_database, default_access_mode=neo4j.READ_ACCESS
        ) as session:
            for row in session.run(_CLUSTERING):
                predicted[row["key"]] = row["cluster"]
    finally:
        driver.close()
    if not predicted:
        raise ValidationError(
            FieldError(
                "database",
                f"database {settings.neo4j_database!r} holds no source records: ingest the "
                "data the truth describes first; an empty database scores nothing",
            )
        )
    click.echo(format_evaluation(evaluate(predicted, truth)))


@cli.command("explain")
@click.argument("first")
@click.argument("second", required=False)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@_rules_option
@click.pass_context
def explain_cmd(
    ctx: click.Context, first: str, second: str | None, as_json: bool, rules_file: Path | None
) -> None:
    """Explain a person (FIRST = 360 ID or alias) or a pair of records (two source:id keys)."""
    if second is None and ":" in first:
        raise ValidationError(
            FieldError(
                "first",
                f"{first!r} looks like a record key: give a person id, or two record keys "
                "to compare",
            )
        )
    if second is not None and first == second:
        raise ValidationError(FieldError("second", "give two different record keys"))
    driver, resolver = _resolver(ctx, rules_file)
    try:
        if second is None:
            person = resolver.explain_person(first)
            if as_json:
                click.echo(
                    json.dumps(
                        {
                            "personId": person.person_id,
                            "aliases": list(person.aliases),
                            "links": [_camel(link) for link in person.links],
                        },
                        indent=2,
                    )
                )
                return
            aliases = f" (aliases: {', '.join(person.aliases)})" if person.aliases else ""
            click.echo(f"{person.person_id}{aliases}")
            for link in person.links:
                scores = ", ".join(f"{k} {v:g}" for k, v in link.scores.items())
                via = f" matching {link.matched}" if link.matched else ""
                click.echo(
                    f"  {link.key} [{link.source}]: {link.rule}{via}"
                    + (f" ({scores})" if scores else "")
                    + f", linked {link.linked_at} by {link.actor}"
                    + (f", re-explained {link.explained_at}" if link.explained_at else "")
                )
            return
        pair = resolver.explain_pair(first, second)
        if as_json:
            click.echo(json.dumps(pair.as_dict(), indent=2, default=str))
            return
        click.echo(pair.summary())
        for outcome in pair.verdict.outcomes:
            scores = ", ".join(
                f"{k} {'-' if v is None else f'{v:g}'}" for k, v in outcome.scores.items()
            )
            click.echo(f"  {'PASS' if outcome.passed else 'fail'} {outcome.rule}: {scores}")
        if pair.model is not None:
            click.echo(
                f"  match model {pair.model_version}: weight {pair.model.weight:+.2f} bits "
                f"(link >= {pair.link:g}, review >= {pair.review:g}), probability "
                f"{pair.model.probability:.4f}"
            )
            for name, level, weight in zip(
                pair.model.comparisons, pair.model.levels, pair.model.weights, strict=True
            ):
                click.echo(f"    {name:<12} {level:<22} {weight:+7.2f}")
            if pair.penalty:
                click.echo(
                    f"    {'conflicts':<12} {'penalty (rule file)':<22} {pair.penalty:+7.2f}"
                    f"  = {pair.match_weight:+.2f} bits"
                )
    finally:
        driver.close()


def _camel(link: object) -> dict[str, object]:
    def camel(name: str) -> str:
        head, *rest = name.split("_")
        return head + "".join(part.title() for part in rest)

    return {camel(name): getattr(link, name) for name in link.__slots__}  # type: ignore[attr-defined]


@cli.command("merge")
@click.argument("person_a")
@click.argument("person_b")
@click.option("--actor", default="steward", show_default=True)
@click.option("--reason", default="")
@click.option(
    "--override",
    is_flag=True,
    help="Replace cannot-links from an earlier split between the two people.",
)
@click.pass_context
def merge_cmd(
    ctx: click.Context, person_a: str, person_b: str, actor: str, reason: str, override: bool
) -> None:
    """Merge two people (a steward's must-link); the oldest 360 ID survives and the other
    keeps resolving as its alias."""
    driver, resolver = _resolver(ctx, None, actor)
    try:
        result = resolver.merge_people(
            person_a, person_b, actor=actor, reason=reason, override=override
        )
    finally:
        driver.close()
    survivor = result.records[0].person_id
    click.echo(f"merged {person_a} and {person_b} into {survivor}")
    _report_people(result)


def _report_people(result: ResolutionResult) -> None:
    for pid in result.people:
        keys = [r.key for r in result.records if r.person_id == pid]
        click.echo(f"  {pid}" + (f": {', '.join(keys)}" if keys else ""))


@cli.command("split")
@click.argument("record_key")
@click.option("--actor", default="steward", show_default=True)
@click.option("--reason", default="")
@click.pass_context
def split_cmd(ctx: click.Context, record_key: str, actor: str, reason: str) -> None:
    """Split a source record out of its person (a steward's cannot-link)."""
    driver, resolver = _resolver(ctx, None, actor)
    try:
        result = resolver.split_record(record_key, actor=actor, reason=reason)
    finally:
        driver.close()
    click.echo(
        f"{record_key} is now in {result.of(record_key).person_id}; people changed "
        f"({result.split} new by the split):"
    )
    _report_people(result)


@cli.command("forget")
@click.argument("person_id")
@click.option("--actor", default="steward", show_default=True)
@click.option("--reason", default="")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@click.pass_context
def forget_cmd(ctx: click.Context, person_id: str, actor: str, reason: str, yes: bool) -> None:
    """Erase PERSON_ID's personal data and records everywhere (right to be forgotten)."""
    from graph.store.privacy import forget_person

    if not yes:
        click.confirm(f"Erase {person_id} and all its records for good?", abort=True)
    settings = settings_of(ctx)
    driver = db.connect(settings)
    try:
        report = forget_person(driver, settings, person_id, actor=actor, reason=reason)
    finally:
        driver.close()
    click.echo(
        f"erased {report.records} record(s) from {', '.join(report.sources) or '-'}; "
        f"{report.identifiers_remembered} identifier hash(es) kept to flag a return; "
        f"audit event {report.event_id}"
    )
