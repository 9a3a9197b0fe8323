"""The parse phase of a bulk first load: records files parsed in worker processes.

Each row is parsed exactly as ``c360 ingest`` parses it (:func:`graph.ingest.parse_row`
with the source's mapping); what is spread over the workers is only the work per row, and
each worker also computes the row's comparison features (:class:`~graph.resolution.
features.Features`, as resolution computes them from the stored record), which resolution
would otherwise compute again in one process. The rows come back in file order, so the
outcome (newer row wins, a record's age = the order its key was first seen, the errors
file) is that of one process reading the files one after the other.

Workers are forked (they inherit the process's input limits and loaded modules); where
``fork`` is not available, or with one CPU, the rows are parsed in this process.
"""

from __future__ import annotations

import multiprocessing
import os
import time
from collections import deque
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from tqdm import tqdm

from graph.errors import FieldError, ValidationError
from graph.ingest import IngestSummary, parse_row
from graph.ingest.mappings import mapping_for
from graph.ingest.pipeline import write_errors
from graph.ingest.reader import RowError, iter_rows
from graph.models import Source
from graph.resolution.features import Features, record_features

__all__ = ["Parsed", "parse_files", "parse_workers"]

#: Rows per task sent to a worker: large enough that pickling stays a small share.
CHUNK_ROWS = 1000
#: Tasks in flight per worker: bounds the rows held in memory while the workers parse.
IN_FLIGHT_PER_WORKER = 4


@dataclass(slots=True)
class Parsed:
    """One parsed record: ``order`` is when its key was first seen (the record's age),
    ``row`` what :func:`graph.ingest.parse_row` gives, ``features`` its comparison features
    with every identifier as evidence."""

    order: int
    source: Source
    row: dict[str, Any]
    features: Features


def parse_workers() -> int:
    """How many worker processes parse: the CPUs this process may use, at most 4; 1 (parse
    in this process) without ``fork``."""
    if "fork" not in multiprocessing.get_all_start_methods():
        return 1
    try:
        cpus = len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        cpus = os.cpu_count() or 1
    return max(1, min(cpus, 4))


def record_data_features(key: str, source: str, row: Mapping[str, Any]) -> Features:
    """The features :meth:`graph.resolution.plan.RecordData.features` gives for a parsed
    record when all its identifiers are evidence (birth date as ISO text)."""
    props = row["props"]
    birth = props.get("birthDate")
    evidence = {i["type"]: i["value"] for i in row["identifiers"]}
    return record_features(
        key,
        source,
        {**props, "birthDate": None if birth is None else birth.isoformat()},
        evidence.get("EMAIL") or None,
        evidence.get("PHONE"),
        evidence.get("LOYALTY_ID"),
    )


# what a worker gives back for one row: the parsed row and its features' values (a tuple
# unpickles several times faster than the dataclass), or the row's errors
_Outcome = tuple[dict[str, Any], tuple[Any, ...]] | list[FieldError]
_FEATURES = [f.name for f in fields(Features)]


def _parse_chunk(
    source: Source, mapping: Mapping[str, str], salt: str | None, rows: list[tuple[int, Any]]
) -> list[_Outcome]:
    out: list[_Outcome] = []
    for line, row in rows:
        if isinstance(row, RowError):
            out.append([FieldError("row", row.reason, line)])
            continue
        try:
            one = parse_row(source, "records", row, mapping=mapping, salt=salt, line=line)
        except ValidationError as exc:
            out.append(list(exc.errors))
            continue
        features = record_data_features(one["key"], source.id, one)
        out.append((one, tuple([getattr(features, name) for name in _FEATURES])))
    return out


def _chunks(path: Path) -> Iterator[list[tuple[int, Any]]]:
    chunk: list[tuple[int, Any]] = []
    for item in iter_rows(path):
        chunk.append(item)
        if len(chunk) >= CHUNK_ROWS:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _outcomes(
    pool: Any, source: Source, mapping: Mapping[str, str], salt: str | None, path: Path, depth: int
) -> Iterator[tuple[int, list[_Outcome]]]:
    """(rows read, outcomes) per chunk of ``path``, in file order; at most ``depth`` chunks
    in flight."""
    if pool is None:
        for chunk in _chunks(path):
            yield len(chunk), _parse_chunk(source, mapping, salt, chunk)
        return
    pending: deque[tuple[int, Any]] = deque()
    for chunk in _chunks(path):
        pending.append((len(chunk), pool.apply_async(_parse_chunk, (source, mapping, salt, chunk))))
        if len(pending) >= depth:
            n, result = pending.popleft()
            yield n, result.get()
    while pending:
        n, result = pending.popleft()
        yield n, result.get()


def _newer_wins(stored: dict[str, Any], row: dict[str, Any]) -> bool:
    """Whether ``row`` replaces ``stored`` (the rule of graph.store.records' upsert)."""
    old, new = stored.get("updatedAt"), row.get("updatedAt")
    return old is None or (new is not None and new >= old)


def parse_files(
    inputs: Sequence[tuple[Path, Source]],
    salt: str | None,
    show_progress: bool,
    workers: int | None = None,
) -> tuple[dict[str, Parsed], list[IngestSummary]]:
    """Parse every records file of ``inputs`` (``(path, source)``, in order) with
    ``workers`` processes (default :func:`parse_workers`); returns key -> :class:`Parsed`
    (the row ingest would keep) and one summary per file, whose rejected rows and warnings
    are written to ``FILE.errors.csv``. Raises :class:`ValidationError` as
    :func:`iter_rows` does."""
    workers = parse_workers() if workers is None else workers
    if workers > 1:
        with multiprocessing.get_context("fork").Pool(workers) as pool:
            return _parse_all(inputs, salt, show_progress, pool, workers)
    return _parse_all(inputs, salt, show_progress, None, 1)


def _parse_all(
    inputs: Sequence[tuple[Path, Source]],
    salt: str | None,
    show_progress: bool,
    pool: Any,
    workers: int,
) -> tuple[dict[str, Parsed], list[IngestSummary]]:
    parsed: dict[str, Parsed] = {}
    summaries: list[IngestSummary] = []
    for path, source in inputs:
        summary = IngestSummary(source=source.id, file_type="records")
        mapping = mapping_for(source.kind, "records", source.mapping)
        started = time.monotonic()
        with tqdm(
            desc=f"parse {source.id}/{path.name}",
            unit=" rows",
            unit_scale=True,
            disable=None if show_progress else True,
            mininterval=0.5,
        ) as bar:
            depth = workers * IN_FLIGHT_PER_WORKER
            for n, outcomes in _outcomes(pool, source, mapping, salt, path, depth):
                summary.rows += n
                bar.update(n)
                for outcome in outcomes:
                    if isinstance(outcome, list):
                        summary.rejected += 1
                        summary.errors.extend(outcome)
                        continue
                    one, values = outcome
                    features = Features(*values)
                    warnings = one.pop("warnings", None)
                    if warnings:
                        summary.warned += 1
                        summary.warnings.extend(warnings)
                    seen = parsed.get(one["key"])
                    if seen is None:
                        summary.created += 1
                        parsed[one["key"]] = Parsed(len(parsed), source, one, features)
                    elif _newer_wins(seen.row, one):
                        summary.updated += 1
                        seen.row, seen.features = one, features
                    else:
                        summary.stale += 1
        summary.seconds = time.monotonic() - started
        if summary.errors or summary.warnings:
            summary.errors_file = path.with_name(path.name + ".errors.csv")
            write_errors(summary.errors_file, summary.errors, summary.warnings)
        summaries.append(summary)
    return parsed, summaries
