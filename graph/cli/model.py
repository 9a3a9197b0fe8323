"""``c360 model train|show|list|activate`` and ``c360 review list|accept|reject``."""

from __future__ import annotations

import json
import shutil

import click
from tqdm import tqdm

from graph import db
from graph.cli.app import cli, settings_of
from graph.errors import NotFound
from graph.resolution.model import Model, load_model, model_from_json
from graph.services.resolver import Resolver
from graph.services.training import train_model
from graph.store import match_models, review

__all__ = ["histogram_lines", "weights_table"]


@cli.group("model")
def model_group() -> None:
    """Train, inspect and choose the probabilistic match model."""


@model_group.command("train")
@click.option(
    "--sample-pairs",
    default=200_000,
    show_default=True,
    type=click.IntRange(min=1),
    help="Random record pairs u is estimated from.",
)
@click.option("--seed", default=0, show_default=True)
@click.option("--activate/--no-activate", default=True, show_default=True)
@click.pass_context
def train_cmd(ctx: click.Context, sample_pairs: int, seed: int, activate: bool) -> None:
    """Learn m and u from the records in the graph (no labels) and store a new version."""
    settings = settings_of(ctx)
    driver = db.connect(settings)
    bars: dict[str, tqdm] = {}

    def progress(stage: str, done: int, total: int) -> None:
        bar = bars.get(stage)
        if bar is None:
            bar = bars[stage] = tqdm(
                total=total or None,
                desc=stage,
                unit=" pairs",
                leave=False,
                disable=None,  # no bar when stderr is not a terminal (logs, CI)
            )
        bar.update(done - bar.n)

    try:
        report = train_model(
            driver,
            settings,
            u_sample_pairs=sample_pairs,
            seed=seed,
            activate=activate,
            progress=progress,
        )
    finally:
        for bar in bars.values():
            bar.close()
        driver.close()
    click.echo(
        f"trained model {report.version} on {report.records:,} records "
        f"({report.candidate_pairs:,} candidate pairs) in {report.seconds:.1f} s"
        + ("; active now: run `c360 resolve --all` to re-resolve with it" if activate else "")
    )
    click.echo(weights_table(report.model))
    if report.records < FEW_RECORDS or report.candidate_pairs < FEW_RECORDS:
        click.echo(
            f"warning: {report.records:,} records and {report.candidate_pairs:,} candidate pairs "
            f"are few to estimate m and u from (at least {FEW_RECORDS:,} of each is better); "
            "if the weights above look wrong, `c360 model activate default` goes back to the "
            "packaged default",
            err=True,
        )


#: Below this many records or candidate pairs, ``model train`` warns that its estimates are
#: rough (EM needs matches to learn m from; a few hundred pairs hold only a handful).
FEW_RECORDS = 1_000


@model_group.command("show")
@click.argument("version", required=False)
@click.pass_context
def show_cmd(ctx: click.Context, version: str | None) -> None:
    """The weights per level of the stored model VERSION, else of the active one (or the
    packaged default), and the match weight distribution of its training data with the
    thresholds."""
    settings = settings_of(ctx)
    driver = db.connect(settings)
    try:
        if version is None:
            stored = match_models.active_model(driver, settings)
        elif version in ("default", load_model().version):
            stored = None
        else:
            stored = match_models.stored_model(driver, settings, version)
            if stored is None:
                raise NotFound(f"no stored model {version!r} (see `c360 model list`)")
    finally:
        driver.close()
    model = model_from_json(stored.json) if stored and stored.json else load_model()
    origin = (
        f"stored model {stored.version}{'' if stored.active else ' (not active)'}"
        if stored
        else f"packaged default {load_model().version} (untrained)"
    )
    click.echo(
        f"{origin}: prior {model.prior:.3g} ({model.prior_weight:+.1f} bits), "
        f"link >= {model.link:g}, review >= {model.review:g} bits"
    )
    click.echo(weights_table(model))
    if stored and stored.training:
        histogram = json.loads(stored.training).get("histogram", {})
        click.echo("\nmatch weight of the candidate pairs (bits):")
        for line in histogram_lines(histogram, model.link, model.review):
            click.echo(line)


@model_group.command("list")
@click.pass_context
def list_cmd(ctx: click.Context) -> None:
    """Every stored model version, newest first; * marks the active one."""
    settings = settings_of(ctx)
    driver = db.connect(settings)
    try:
        models = match_models.list_models(driver, settings)
    finally:
        driver.close()
    default = load_model()
    active = any(m.active for m in models)
    click.echo(
        f"{' ' if active else '*'} {default.version}  (packaged default, `activate default`)  "
        f"{default.description}"
    )
    for m in models:
        click.echo(f"{'*' if m.active else ' '} {m.version}  {m.created_at}  {m.description}")


@model_group.command("activate")
@click.argument("version")
@click.pass_context
def activate_cmd(ctx: click.Context, version: str) -> None:
    """Make a stored model version the one every process resolves with; VERSION `default`
    (or the packaged model's version) goes back to the packaged default model."""
    settings = settings_of(ctx)
    driver = db.connect(settings)
    try:
        if version in ("default", load_model().version):
            match_models.activate_default(driver, settings)
            version = f"default ({load_model().version})"
        else:
            match_models.activate_model(driver, settings, version)
    finally:
        driver.close()
    click.echo(f"model {version} is active; run `c360 resolve --all` to re-resolve with it")


def weights_table(model: Model) -> str:
    """One row per comparison level: m, u and the weight log2(m/u) in bits."""
    rows = [f"{'comparison':<12} {'level':<18} {'m':>9} {'u':>11} {'weight':>8}"]
    for c in model.comparisons:
        for lv in c.levels:
            if lv.kind == "null":
                rows.append(f"{c.name:<12} {lv.name:<18} {'-':>9} {'-':>11} {0.0:>+8.2f}")
                continue
            rows.append(
                f"{c.name:<12} {lv.name:<18} {lv.m:>9.4g} {lv.u:>11.4g} {lv.weight:>+8.2f}"
                + ("  (tf)" if lv.tf else "")
            )
    return "\n".join(rows)


def histogram_lines(histogram: dict[str, int], link: float, review_at: float) -> list[str]:
    """A terminal bar chart of ``{bin: count}`` (whole bits), marking the thresholds."""
    if not histogram:
        return ["(no candidate pairs)"]
    width = max(10, min(60, shutil.get_terminal_size((80, 20)).columns - 30))
    peak = max(histogram.values())
    lines = []
    for low in range(min(map(int, histogram)), max(map(int, histogram)) + 1):
        n = histogram.get(str(low), 0)
        mark = " link" if low <= link < low + 1 else " review" if low <= review_at < low + 1 else ""
        bar = "#" * max(1 if n else 0, round(width * n / peak))
        lines.append(f"{low:>+5} {n:>9,} {bar}{mark}")
    return lines


@cli.group("review")
def review_group() -> None:
    """The review queue: possible matches between the review and link thresholds."""


@review_group.command("list")
@click.option("--first", default=20, show_default=True)
@click.pass_context
def review_list(ctx: click.Context, first: int) -> None:
    """The strongest possible matches first, with each comparison's level and weight."""
    settings = settings_of(ctx)
    driver = db.connect(settings)
    try:
        page = review.possible_matches(driver, settings, first=first)
    finally:
        driver.close()
    click.echo(f"{page.total} possible match(es)")
    for m in page.matches:
        levels = ", ".join(
            f"{n} {c['level']} {c['weight']:+g}"
            for n, c in m.comparisons.items()
            if c["level"] != "null"
        )
        click.echo(f"{m.key}  weight {m.weight:+.2f}  ({m.person_a} / {m.person_b})\n  {levels}")


@review_group.command("accept")
@click.argument("key")
@click.option("--actor", default="steward", show_default=True)
@click.option("--reason", default="")
@click.pass_context
def review_accept(ctx: click.Context, key: str, actor: str, reason: str) -> None:
    """Accept a possible match: its two records become one person (a must-link)."""
    _decide(ctx, key, True, actor, reason)


@review_group.command("reject")
@click.argument("key")
@click.option("--actor", default="steward", show_default=True)
@click.option("--reason", default="")
@click.pass_context
def review_reject(ctx: click.Context, key: str, actor: str, reason: str) -> None:
    """Reject a possible match: its two records stay apart (a cannot-link)."""
    _decide(ctx, key, False, actor, reason)


def _decide(ctx: click.Context, key: str, accept: bool, actor: str, reason: str) -> None:
    settings = settings_of(ctx)
    driver = db.connect(settings)
    try:
        result = Resolver(driver, settings, actor=actor).decide_possible_match(
            key, accept=accept, actor=actor, reason=reason
        )
    finally:
        driver.close()
    pair_people = sorted({r.person_id or "-" for r in result.records})
    click.echo(f"{'accepted' if accept else 'rejected'} {key}: now {', '.join(pair_people)}")
    others = sorted(set(result.people) - set(pair_people))
    if others:
        # a must-link can move records whose cannot-links (earlier splits, rejections) keep
        # them from the merged person: say so rather than leave it to the audit trail
        split = f", {result.split} split" if result.split else ""
        click.echo(f"  also changed: {', '.join(others)}{split} (see `c360 explain PERSON`)")
