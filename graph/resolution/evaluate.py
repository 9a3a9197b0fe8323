"""Clustering quality: how far a resolution's clusters agree with known true entities.

Pure Python. :func:`evaluate` computes the standard pairwise measures of record linkage
(Christen, "Data Matching", Springer 2012, ch. 7): a pair of records is *predicted* when both
are in one cluster, *true* when both belong to one entity, *correct* when both. Precision =
correct / predicted, recall = correct / true, F1 their harmonic mean. Pairs are never
enumerated: a group of n records holds C(n, 2) = n(n-1)/2 pairs, so the counts are sums over
clusters, entities and the (cluster, entity) intersection table, in O(n) time and memory.

Every truth record is scored: one the prediction lacks (never ingested, rejected, still a
placeholder) counts as unresolved, alone in a cluster of its own, so it lowers recall instead
of vanishing from the figures. A comparison with nothing to compare (no predicted record, no
truth record, or none in common) is refused rather than scored 1.0.

:func:`read_truth` reads the true entities from a CSV file and :func:`format_evaluation` prints
a result for the command line.
"""

from __future__ import annotations

import csv
from collections import Counter
from collections.abc import Hashable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from graph.errors import FieldError, ValidationError

__all__ = ["ENTITY_COLUMNS", "Evaluation", "evaluate", "format_evaluation", "read_truth"]

#: Columns :func:`read_truth` takes the true entity id from, the first present winning.
ENTITY_COLUMNS = ("personId", "entityId", "entity_id", "truth", "cluster")

# A truth file with thousands of bad lines reports this many, then a count of the rest.
_MAX_REPORTED_ERRORS = 20


@dataclass(frozen=True, slots=True)
class Evaluation:
    """Pairwise clustering quality over every record of the truth.

    ``records`` is the number of truth records scored (all of them); ``true_entities`` and
    ``predicted_clusters`` count distinct ids over those records, each record missing from the
    prediction counting as a cluster of its own; ``*_pairs`` count record pairs sharing an
    entity, a cluster, and both; ``precision``, ``recall`` and ``f1`` lie in [0, 1].
    ``missing_in_prediction`` counts truth records the prediction lacks (scored as unresolved),
    ``missing_in_truth`` predicted records the truth lacks (not scored: nothing says who they
    are).
    """

    records: int
    true_entities: int
    predicted_clusters: int
    true_pairs: int
    predicted_pairs: int
    correct_pairs: int
    precision: float
    recall: float
    f1: float
    missing_in_prediction: int
    missing_in_truth: int


def _pairs(group_sizes: Iterable[int]) -> int:
    return sum(n * (n - 1) // 2 for n in group_sizes)


def _ratio(part: int, whole: int) -> float:
    return part / whole if whole else 1.0


class _Unresolved:
    """The cluster of a truth record missing from the prediction: equal to nothing else."""

    __slots__ = ()


def evaluate(predicted: Mapping[str, Hashable], truth: Mapping[str, Hashable]) -> Evaluation:
    """Pairwise precision, recall and F1 of ``predicted`` against ``truth``.

    ``predicted`` maps a record key (``"source:id"``) to its cluster id, ``truth`` a record key
    to its true entity id. Every truth record is scored; one missing from ``predicted`` is
    alone in a cluster of its own (unresolved: it lowers recall) and is counted in
    ``missing_in_prediction``; predicted records the truth lacks are left out and counted in
    ``missing_in_truth``. With no predicted pairs (every record alone) nothing wrong was
    merged, so precision is 1.0; with no true pairs nothing was there to find, so recall is
    1.0; F1 is 0.0 only when precision or recall is. O(n) in records.

    Raises :class:`~graph.errors.ValidationError` when there is nothing to compare: field
    ``prediction`` when ``predicted`` is empty (an empty database), ``truth`` when ``truth``
    is empty or shares no record key with ``predicted`` (another data set, or keys spelled
    differently); the reason says which.
    """
    problems = []
    if not predicted:
        problems.append(FieldError("prediction", "has no records (is the database empty?)"))
    if not truth:
        problems.append(FieldError("truth", "has no records"))
    if problems:
        raise ValidationError(problems)
    missing = sum(1 for key in truth if key not in predicted)
    if missing == len(truth):
        raise ValidationError(
            FieldError(
                "truth",
                f"shares no record with the prediction ({len(truth):,} truth records, "
                f"{len(predicted):,} predicted, none in common; e.g. truth key "
                f"{next(iter(truth))!r}, predicted key {next(iter(predicted))!r})",
            )
        )
    cluster_ids = [predicted[key] if key in predicted else _Unresolved() for key in truth]
    entity_ids = list(truth.values())
    clusters, entities = Counter(cluster_ids), Counter(entity_ids)
    both = Counter(zip(cluster_ids, entity_ids, strict=True))
    predicted_pairs = _pairs(clusters.values())
    true_pairs = _pairs(entities.values())
    correct_pairs = _pairs(both.values())
    precision = _ratio(correct_pairs, predicted_pairs)
    recall = _ratio(correct_pairs, true_pairs)
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return Evaluation(
        records=len(truth),
        true_entities=len(entities),
        predicted_clusters=len(clusters),
        true_pairs=true_pairs,
        predicted_pairs=predicted_pairs,
        correct_pairs=correct_pairs,
        precision=precision,
        recall=recall,
        f1=f1,
        missing_in_prediction=missing,
        missing_in_truth=len(predicted) - (len(truth) - missing),
    )


def _columns(
    header: list[str], key_columns: tuple[str, str], entity_column: str | None
) -> tuple[tuple[str, ...], str]:
    """The key column(s) and the entity column to read; raises naming each missing one."""
    errors = []
    keys: tuple[str, ...] = ()
    if "key" in header:
        keys = ("key",)
    elif all(name in header for name in key_columns):
        keys = key_columns
    else:
        errors.append(
            FieldError(
                "key",
                f"no 'key' column and no '{key_columns[0]}' and '{key_columns[1]}' columns",
                1,
            )
        )
    choices = (entity_column,) if entity_column else ENTITY_COLUMNS
    entity = next((name for name in choices if name in header), None)
    if entity is None:
        errors.append(
            FieldError(
                choices[0],
                f"missing column; the true entity id is read from one of {', '.join(choices)}",
                1,
            )
        )
    if errors or entity is None:
        raise ValidationError(errors)
    return keys, entity


def _row_key(row: dict[str, str], keys: tuple[str, ...]) -> str | FieldError:
    """The record key of a row, or the error saying why it has none."""
    if keys == ("key",):
        key = row["key"]
        source, sep, source_id = key.partition(":")
        if not (source and sep and source_id):
            return FieldError("key", f"{key!r} is not 'source:id'")
        return key
    for name in keys:
        if not row[name]:
            return FieldError(name, "is empty")
    return ":".join(row[name] for name in keys)


class _TruthRows:
    """Builds ``{key: entity}`` from data rows, collecting bad lines (the first few kept)."""

    def __init__(self, header: list[str], keys: tuple[str, ...], entity: str) -> None:
        self.header, self.keys, self.entity = header, keys, entity
        self.truth: dict[str, str] = {}
        self.first_line: dict[str, int] = {}
        self.errors: list[FieldError] = []
        self.unreported = 0

    def add(self, line: int, cells: list[str]) -> None:
        padded = [cell.strip() for cell in cells] + [""] * (len(self.header) - len(cells))
        row = dict(zip(self.header, padded, strict=False))
        key, value = _row_key(row, self.keys), row[self.entity]
        error = self._error(len(cells), key, value)
        if error is not None:
            self._report(FieldError(error.field, error.reason, line))
        elif isinstance(key, str):
            self.truth[key] = value
            self.first_line.setdefault(key, line)

    def _error(self, cells: int, key: str | FieldError, value: str) -> FieldError | None:
        if isinstance(key, FieldError):
            return key
        if cells > len(self.header):
            return FieldError("row", f"{cells} cells but {len(self.header)} header columns")
        if not value:
            return FieldError(self.entity, "is empty")
        if self.truth.get(key, value) != value:
            return FieldError(
                self.entity,
                f"{key} is {self.truth[key]!r} on line {self.first_line[key]} and {value!r} here",
            )
        return None

    def _report(self, error: FieldError) -> None:
        if len(self.errors) < _MAX_REPORTED_ERRORS:
            self.errors.append(error)
        else:
            self.unreported += 1

    def result(self) -> dict[str, str]:
        """The truth read; raises :class:`ValidationError` listing the bad lines, if any."""
        if self.unreported:
            self.errors.append(FieldError("file", f"{self.unreported} more bad lines not shown"))
        if self.errors:
            raise ValidationError(self.errors)
        return self.truth


def read_truth(
    path: Path,
    *,
    key_columns: tuple[str, str] = ("source", "sourceId"),
    entity_column: str | None = None,
) -> dict[str, str]:
    """Read a CSV file of true entities: ``{"source:id": entity id}``.

    The header must name the record in a ``key`` column (``"commerce:CM-1"``; used when
    present) or in the two ``key_columns`` (key = ``f"{source}:{sourceId}"``), and the entity
    in ``entity_column`` or else the first of :data:`ENTITY_COLUMNS` present. Cells are
    stripped, blank lines skipped, a key repeated with the same entity accepted. Raises
    :class:`~graph.errors.ValidationError` naming each missing column (line 1), or listing each
    bad line (empty or malformed key, empty entity, extra cells, a key given two entities) with
    its 1-based line number: the first 20, then a count of the rest.
    """
    try:
        with path.open(newline="", encoding="utf-8-sig") as fh:
            reader = csv.reader(fh)
            header = [name.strip() for name in next(reader, [])]
            if not any(header):
                raise ValidationError(FieldError("header", f"{path.name} has no header", 1))
            rows = _TruthRows(header, *_columns(header, key_columns, entity_column))
            line = reader.line_num + 1
            for cells in reader:
                if cells:  # a blank line reads as []
                    rows.add(line, cells)
                line = reader.line_num + 1  # where the next row starts
            return rows.result()
    except OSError as exc:
        raise ValidationError(FieldError("truth", f"cannot read {path}: {exc.strerror}")) from exc
    except UnicodeDecodeError as exc:
        raise ValidationError(FieldError("truth", f"{path.name} is not UTF-8 text")) from exc
    except csv.Error as exc:
        raise ValidationError(
            FieldError("truth", f"{path.name}: bad CSV ({exc})", reader.line_num)
        ) from exc


def format_evaluation(e: Evaluation) -> str:
    """A few aligned lines for the command line: the three measures (4 decimals), the counts."""
    return "\n".join(
        [
            f"precision  {e.precision:.4f}",
            f"recall     {e.recall:.4f}",
            f"F1         {e.f1:.4f}",
            f"records    {e.records:,} in the truth: {e.true_entities:,} true entities, "
            f"{e.predicted_clusters:,} predicted clusters",
            f"pairs      {e.correct_pairs:,} correct of {e.predicted_pairs:,} predicted, "
            f"{e.true_pairs:,} true",
            f"missing    {e.missing_in_prediction:,} truth records not in the database "
            f"(scored as unresolved), {e.missing_in_truth:,} records not in the truth "
            "(not scored)",
        ]
    )
