"""Train the match model on the records in the graph, without labels, and store it.

``c360 model train`` calls :func:`train_model`: every resolvable record is read once, its
features and blocking keys built as resolution builds them, the model trained by
:func:`graph.resolution.training.train` (u from random pairs, m by EM over blocked candidate
pairs), term frequencies counted, the match-weight distribution of the candidate pairs
measured for ``c360 model show``, and the model stored as a new ``(:MatchModel)`` version,
active unless asked otherwise. People are not changed: ``c360 resolve --all`` re-resolves
with the new model.
"""

from __future__ import annotations

import json
import math
import random
import time
from collections import Counter
from dataclasses import dataclass

import neo4j

from graph.db import translate_errors
from graph.errors import FieldError, ValidationError
from graph.resolution.blocking import pairs_sharing_keys, probabilistic_keys
from graph.resolution.features import Features
from graph.resolution.fs_score import compile_model, term_frequencies, tf_from_json, tf_to_json
from graph.resolution.model import Model, load_model, model_to_json
from graph.resolution.rules import load_rules
from graph.resolution.training import Progress, train
from graph.settings import Settings
from graph.store import components, match_models

__all__ = ["TrainReport", "read_features", "train_model", "weight_histogram"]

#: Match weights are binned by whole bits for the stored distribution.
_HISTOGRAM_PAIRS = 200_000


@dataclass(frozen=True, slots=True)
class TrainReport:
    """A training run: the model, its stored version, records read, candidate pairs, seconds
    (wall time), and the report stored with the model (JSON text)."""

    model: Model
    version: str
    records: int
    candidate_pairs: int
    seconds: float
    training: str


def read_features(
    driver: neo4j.Driver, settings: Settings, max_identifier: int
) -> dict[str, Features]:
    """Features of every resolvable record (placeholders and forgotten matches left out), as
    resolution builds them: record key -> :class:`Features`."""
    found: dict[str, Features] = {}

    def read(tx: neo4j.ManagedTransaction) -> None:
        found.clear()
        for record, _ in components.read_all_records(tx, max_identifier):
            found[record.key] = record.features()

    with (
        translate_errors(settings),
        driver.session(
            database=settings.neo4j_database, default_access_mode=neo4j.READ_ACCESS
        ) as session,
    ):
        session.execute_read(read)
    return found


def weight_histogram(
    features: dict[str, Features],
    pairs: set[tuple[str, str]],
    model: Model,
    tf_json: str | None = None,
    *,
    seed: int = 0,
) -> dict[str, int]:
    """Match weights of (a sample of at most 200,000) candidate ``pairs`` counted per whole
    bit: ``{"-3": 120, "0": 40, ...}`` (a bin ``b`` holds weights in [b, b+1))."""
    compiled = compile_model(model, tf_from_json(tf_json) if tf_json else None)
    ordered = sorted(pairs)
    if len(ordered) > _HISTOGRAM_PAIRS:
        ordered = random.Random(seed).sample(ordered, _HISTOGRAM_PAIRS)
    counts = Counter(str(math.floor(compiled.weight(features[a], features[b]))) for a, b in ordered)
    return dict(sorted(counts.items(), key=lambda kv: int(kv[0])))


def train_model(
    driver: neo4j.Driver,
    settings: Settings,
    *,
    base: Model | None = None,
    max_identifier: int | None = None,
    max_block: int | None = None,
    u_sample_pairs: int = 200_000,
    seed: int = 0,
    activate: bool = True,
    progress: Progress | None = None,
) -> TrainReport:
    """Train ``base`` (default: the packaged model) on the graph's records and store it.

    ``max_identifier`` and ``max_block`` default to the rule file's limits, so training
    compares the candidate pairs resolution compares. Raises
    :class:`graph.errors.ValidationError` (field ``records``) when fewer than two records can
    be read: there is nothing to learn from, and (field ``samplePairs``) for
    ``u_sample_pairs`` < 1.
    """
    started = time.monotonic()
    if u_sample_pairs < 1:
        raise ValidationError(
            FieldError("samplePairs", f"must be at least 1 random pair for u, not {u_sample_pairs}")
        )
    if max_identifier is None or max_block is None:
        limits = load_rules(settings.rules_file).limits
        max_identifier = limits.max_identifier_records if max_identifier is None else max_identifier
        max_block = limits.max_block_records if max_block is None else max_block
    base = base or load_model()
    features = read_features(driver, settings, max_identifier)
    if len(features) < 2:
        raise ValidationError(
            FieldError("records", f"{len(features)} resolvable records: ingest data first")
        )
    keys = {k: probabilistic_keys(f) for k, f in features.items()}
    trained = train(
        features,
        keys,
        base,
        u_sample_pairs=u_sample_pairs,
        max_block=max_block,
        seed=seed,
        progress=progress,
    )
    model = trained.model
    tf_fields = [c.field for c in model.comparisons if any(lv.tf for lv in c.levels)]
    tf_json = tf_to_json(term_frequencies(features.values(), tf_fields))
    pairs = pairs_sharing_keys(keys, max_block)
    report = {
        "records": len(features),
        "candidatePairs": len(pairs),
        "seed": seed,
        "passes": {
            block: {
                "pairs": n,
                "iterations": result.iterations,
                "converged": result.converged,
                "prior": result.prior,
            }
            for block, (n, result) in trained.passes.items()
        },
        "histogram": weight_histogram(features, pairs, model, tf_json, seed=seed),
    }
    seconds = time.monotonic() - started
    report["seconds"] = round(seconds, 1)
    training = json.dumps(report, sort_keys=True)
    match_models.save_model(
        driver,
        settings,
        version=model.version,
        json_text=model_to_json(model),
        description=model.description,
        training=training,
        tf=tf_json,
        activate=activate,
    )
    return TrainReport(model, model.version, len(features), len(pairs), seconds, training)
