"""Batch and single-record ingestion into the graph.

A file is read as a stream, each row is renamed to canonical fields (the source's mapping),
parsed and normalised in Python, and written in batches with one ``UNWIND`` statement per
batch while the next batch is being parsed (one writer thread: Neo4j and Python work at the
same time on two cores). Rejected rows (and a record's malformed values, kept as invalid) go to
an errors CSV with line, severity, field and reason; good rows of the same file are stored.
Every write is an idempotent managed transaction, so the driver's retries of transient errors
(deadlocks included) never double anything. While Neo4j is unavailable (stopped, restarting,
killed) each batch and each batch resolution is tried again with exponential backoff for up
to ``C360_INGEST_WAIT_S`` (:func:`graph.db.outlive_outage`; the progress bar says it is
waiting for Neo4j); past that the run stops with :class:`IngestInterrupted`, which carries
what was written, and re-running the same input resumes it (nothing is doubled; records
stored but not resolved stay pending and are resolved first).
"""

from __future__ import annotations

import csv
import sys
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import neo4j
from tqdm import tqdm

from graph.db import outlive_outage, translate_errors
from graph.errors import FieldError, Neo4jUnavailable, ValidationError
from graph.ingest.mappings import mapping_for, rename
from graph.ingest.parse import PARSERS
from graph.ingest.reader import RowError, iter_rows
from graph.models import EVENT_TYPES, Source
from graph.settings import Settings
from graph.store import activity, consents, journeys, orders, records
from graph.store.privacy import forget_salt, identifier_hash
from graph.store.sources import require_source

__all__ = [
    "IngestInterrupted",
    "IngestSummary",
    "RecordOutcome",
    "guess_file_type",
    "ingest_and_resolve",
    "ingest_file",
    "ingest_record",
    "ingest_rows",
    "parse_row",
    "write_errors",
]

T = TypeVar("T")

#: Called after each written batch with the file type and ``[(key, outcome)]`` (hook used by
#: identity resolution to resolve the records a batch created or changed).
AfterBatch = Callable[[str, list[tuple[str, str]]], None]

_WRITERS: dict[str, Callable[..., list[tuple[str, str]]]] = {
    "records": records.upsert_records,
    "products": orders.upsert_products,
    "orders": orders.upsert_orders,
    "order_lines": orders.upsert_order_lines,
    "carts": orders.upsert_carts,
    "cases": activity.upsert_cases,
    "engagement": activity.upsert_engagement,
    "consents": consents.upsert_consents,
}

#: How many batches ``after_batch`` (batch resolution) may lag behind the writers: enough to
#: keep Neo4j busy on both while one resolves, few enough to bound memory.
_HOOKS_AHEAD = 2

_FILE_NAMES = {
    "records": "records",
    "customers": "records",
    "contacts": "records",
    "subscribers": "records",
    "profiles": "records",
    "products": "products",
    "orders": "orders",
    "order_lines": "order_lines",
    "lines": "order_lines",
    "carts": "carts",
    "baskets": "carts",
    "cases": "cases",
    "engagement": "engagement",
    "events": "engagement",
    "tracking": "engagement",
    "consents": "consents",
}


@dataclass
class IngestSummary:
    """Counts of one ingest run. ``seconds`` is wall time; ``rate`` rows/s.

    ``rejected`` rows were not stored (``errors``: line, field, reason); ``warned`` records
    were stored with one or more malformed values kept as invalid (``warnings``, one per
    value).
    """

    source: str
    file_type: str
    rows: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    stale: int = 0
    rejected: int = 0
    warned: int = 0
    seconds: float = 0.0
    errors_file: Path | None = None
    errors: list[FieldError] = field(default_factory=list)
    warnings: list[FieldError] = field(default_factory=list)

    @property
    def rate(self) -> float:
        return self.rows / self.seconds if self.seconds > 0 else 0.0

    def count(self, outcomes: Iterable[tuple[str, str]]) -> None:
        for _, outcome in outcomes:
            setattr(self, outcome, getattr(self, outcome) + 1)

    def __str__(self) -> str:
        text = (
            f"{self.file_type} of {self.source}: {self.rows} rows in {self.seconds:.1f} s "
            f"({self.rate:,.0f} rows/s): {self.created} created, {self.updated} updated, "
            f"{self.unchanged} unchanged, {self.stale} stale (older, ignored), "
            f"{self.rejected} rejected, {self.warned} stored with invalid values "
            f"({len(self.warnings)} warnings)"
        )
        if self.errors_file is not None:
            text += f"; rejected rows and invalid values are listed in {self.errors_file}"
        return text


class IngestInterrupted(Neo4jUnavailable):
    """Neo4j stayed unavailable longer than ``C360_INGEST_WAIT_S``: the run stopped.
    ``summary`` counts what was written before (committed batches only; ``rows`` is what was
    read); re-running the same input resumes safely."""

    def __init__(self, message: str, summary: IngestSummary):
        super().__init__(message)
        self.summary = summary


@dataclass(frozen=True, slots=True)
class RecordOutcome:
    """Result of :func:`ingest_record`: the record key, created/updated/unchanged/stale, and
    the record's malformed values kept as invalid (field named as the caller sent it)."""

    key: str
    outcome: str
    warnings: tuple[FieldError, ...] = ()


def guess_file_type(path: Path) -> str:
    """The file type from a file name such as ``orders.csv`` or ``shop-carts.jsonl``.

    Raises :class:`ValidationError` when the name does not say; pass the type explicitly then.
    """
    stem = "_" + path.name.split(".")[0].lower().replace("-", "_").replace(" ", "_") + "_"
    for name in sorted(_FILE_NAMES, key=len, reverse=True):
        if f"_{name}_" in stem:
            return _FILE_NAMES[name]
    by_type: dict[str, list[str]] = {}
    for name, kind in _FILE_NAMES.items():
        by_type.setdefault(kind, []).append(name)
    names = "; ".join(f"{kind}: {', '.join(found)}" for kind, found in by_type.items())
    raise ValidationError(
        FieldError(
            "type",
            f"cannot tell what {path.name} holds from its name: pass --type with one of "
            f"{', '.join(EVENT_TYPES)}, or put a word naming its type in the file name "
            f"({names})",
        )
    )


def _native(field_name: str, row: Mapping[str, Any], mapping: Mapping[str, str]) -> str:
    """The column a canonical field came from, as the source named it (``PersonEmail``)."""
    for native, canonical in mapping.items():
        if canonical == field_name and native in row:
            return native
    return field_name


def parse_row(
    source: Source,
    file_type: str,
    row: Mapping[str, Any],
    *,
    mapping: Mapping[str, str] | None = None,
    salt: str | None = None,
    line: int | None = None,
) -> dict[str, Any]:
    """One native row of ``file_type`` renamed (the source's mapping) and parsed, ready to
    write. For records, ``salt`` (see :func:`graph.store.privacy.forget_salt`) adds the hashes that
    flag identifiers of forgotten people. Raises :class:`ValidationError` listing every bad
    field under the source's own column name (``PersonEmail``), with ``line``; a record's
    ``warnings`` (values kept as invalid, see :func:`graph.ingest.parse.parse_record`) are
    named and numbered the same way."""
    if mapping is None:
        mapping = mapping_for(source.kind, file_type, source.mapping)
    canonical, extras = rename(row, mapping, file_type)
    try:
        parsed = PARSERS[file_type](source, canonical, extras, row)
    except ValidationError as exc:
        raise ValidationError(
            [FieldError(_native(e.field, row, mapping), e.reason, line) for e in exc.errors]
        ) from None
    if file_type == "records":
        parsed["warnings"] = [
            FieldError(_native(w.field, row, mapping), w.reason, line) for w in parsed["warnings"]
        ]
        parsed["forgotten"] = (
            [identifier_hash(salt, i["type"], i["value"]) for i in parsed["identifiers"]]
            if salt
            else []
        )
    return parsed


def _write(
    driver: neo4j.Driver,
    settings: Settings,
    source_id: str,
    file_type: str,
    rows: list[tuple[int, dict[str, Any]]],
    product_field: str = "sku",
) -> tuple[list[tuple[str, str]], list[tuple[int, FieldError]]]:
    """One batch in one managed transaction; returns outcomes and rows refused by the graph."""
    writer = _WRITERS[file_type]

    def work(tx: neo4j.ManagedTransaction):
        refused: list[tuple[int, FieldError]] = []
        good = rows
        if file_type in ("order_lines", "carts"):
            skus = (
                [r["sku"] for _, r in rows]
                if file_type == "order_lines"
                else [i["sku"] for _, r in rows for i in r["items"]]
            )
            known = orders.known_skus(tx, skus)
            good = []
            for line, row in rows:
                wanted = (
                    [row["sku"]] if file_type == "order_lines" else [i["sku"] for i in row["items"]]
                )
                unknown = sorted(set(wanted) - known)
                if unknown:
                    refused.append(
                        (
                            line,
                            FieldError(
                                product_field, f"unknown product {', '.join(unknown)}", line
                            ),
                        )
                    )
                else:
                    good.append((line, row))
        outcomes = writer(tx, source_id, [r for _, r in good]) if good else []
        journeys.schedule_batch(tx, file_type, outcomes)  # the events' journey actions
        return outcomes, refused

    with translate_errors(settings), driver.session(database=settings.neo4j_database) as s:
        return s.execute_write(work)


def ingest_rows(
    driver: neo4j.Driver,
    settings: Settings,
    source: Source,
    file_type: str,
    rows: Iterable[tuple[int, Mapping[str, Any] | RowError]],
    *,
    batch_size: int = 2000,
    progress: tqdm | None = None,
    after_batch: AfterBatch | None = None,
    mapping: Mapping[str, str] | None = None,
    writers: int = 2,
) -> IngestSummary:
    """Parse and write native rows ``(line, row)`` of one file type for ``source``.

    Up to ``writers`` batches are written concurrently while the next is parsed (Neo4j uses a
    core per transaction). A key seen again while an earlier batch holding it is still being
    written waits for that batch, so rows of one key are applied in file order and newer-wins
    holds. ``after_batch`` (batch resolution) runs in a thread of its own, one call at a time
    in batch order, each after its batch is committed, while later batches are written; it
    lags at most a few batches behind, and its errors are raised from here. Returns the
    :class:`IngestSummary`; rejected rows are in ``summary.errors`` (line, field, reason).
    While Neo4j is unavailable every batch and ``after_batch`` call is retried with backoff
    (:func:`graph.db.outlive_outage`, ``C360_INGEST_WAIT_S``); past that it raises
    :class:`IngestInterrupted` with the counts of what was written (batches already written
    stay written; re-running the same input is safe). Raises :class:`graph.errors.Neo4jError`
    for any other failure of Neo4j.
    """
    if file_type not in PARSERS:
        raise ValidationError(FieldError("type", f"must be one of {', '.join(EVENT_TYPES)}"))
    mapping = (
        mapping if mapping is not None else mapping_for(source.kind, file_type, source.mapping)
    )
    summary = IngestSummary(source=source.id, file_type=file_type)
    salt = forget_salt(driver, settings, create=True) if file_type == "records" else None
    product_field = _product_field(mapping, file_type)
    started = time.monotonic()
    pending: list[tuple[Future, set[str]]] = []
    hooks: list[Future] = []  # after_batch calls, run one at a time in batch order
    batch: list[tuple[int, dict[str, Any]]] = []
    batch_keys: set[str] = set()

    waiting = threading.Lock()
    shown = [False]  # "waiting for Neo4j" is on the progress bar

    def on_wait(attempt: int, delay: float, error: BaseException) -> None:
        message = (
            f"waiting for Neo4j at {settings.uri}: try {attempt} failed ({error}); "
            f"next in {delay:.1f} s (gives up after {settings.ingest_wait_s:g} s)"
        )
        if progress is not None:
            with waiting:
                shown[0] = True
                progress.set_postfix_str("waiting for Neo4j", refresh=False)
                progress.write(message, file=sys.stderr)

    def patiently(work: Callable[..., T], *args: Any) -> T:
        result = outlive_outage(settings, lambda: work(*args), on_wait=on_wait)
        if progress is not None and shown[0]:
            with waiting:
                shown[0] = False
                progress.set_postfix_str("", refresh=False)
        return result

    def collect(future: Future) -> None:
        outcomes, refused = future.result()
        summary.count(outcomes)
        summary.rejected += len(refused)
        summary.errors.extend(err for _, err in refused)
        if after_batch is not None and outcomes:
            while len(hooks) > _HOOKS_AHEAD:
                hooks.pop(0).result()  # re-raises the hook's error here
            hooks.append(after.submit(patiently, after_batch, file_type, outcomes))

    def in_flight(key: str) -> bool:
        return any(key in keys for _, keys in pending)

    with (
        ThreadPoolExecutor(max_workers=1, thread_name_prefix="c360-after-batch") as after,
        ThreadPoolExecutor(max_workers=max(1, writers), thread_name_prefix="c360-writer") as pool,
    ):

        def drain(keep: int) -> None:
            while len(pending) > keep:
                collect(pending.pop(0)[0])

        def flush() -> None:
            nonlocal batch, batch_keys
            if batch:
                future = pool.submit(
                    patiently, _write, driver, settings, source.id, file_type, batch, product_field
                )
                pending.append((future, batch_keys))
                batch, batch_keys = [], set()
            drain(max(1, writers))
            while pending and pending[0][0].done():
                collect(pending.pop(0)[0])

        try:
            for line, row in rows:
                summary.rows += 1
                if progress is not None:
                    progress.update(1)
                if isinstance(row, RowError):
                    summary.rejected += 1
                    summary.errors.append(FieldError("row", row.reason, line))
                    continue
                try:
                    parsed = parse_row(
                        source, file_type, row, mapping=mapping, salt=salt, line=line
                    )
                except ValidationError as exc:
                    summary.rejected += 1
                    summary.errors.extend(exc.errors)
                    continue
                warnings = parsed.pop("warnings", None)  # reported here, not written
                if warnings:
                    summary.warned += 1
                    summary.warnings.extend(warnings)
                key = str(parsed.get("key") or parsed.get("sku") or "")
                if key and key in batch_keys:
                    flush()  # a key twice in one UNWIND would race itself: keep file order
                if key and in_flight(key):
                    drain(0)
                if key:
                    batch_keys.add(key)
                batch.append((line, parsed))
                if len(batch) >= batch_size:
                    flush()
            flush()
            drain(0)
            for hook in hooks:
                hook.result()
        except Neo4jUnavailable as exc:
            # queued work would wait for Neo4j all over again: drop it, keep what is written
            for future in [f for f, _ in pending] + hooks:
                future.cancel()
            raise IngestInterrupted(str(exc), summary) from exc
    summary.seconds = time.monotonic() - started
    return summary


def ingest_file(
    driver: neo4j.Driver,
    settings: Settings,
    path: Path,
    source_id: str,
    file_type: str | None = None,
    *,
    batch_size: int = 5000,
    errors_path: Path | None = None,
    show_progress: bool = True,
    after_batch: AfterBatch | None = None,
) -> IngestSummary:
    """Ingest a CSV or JSON Lines file of one type (guessed from the name when not given).

    Problems are written to ``errors_path`` (default ``<file>.errors.csv`` beside the input)
    as CSV ``line,severity,field,reason``, by line: ``ERROR`` for a rejected row (not stored),
    ``WARNING`` for a malformed value of a stored record (kept as invalid, not used); the
    file is only written when there was one. A progress
    bar on stderr shows rows and rows/s. Raises :class:`graph.errors.NotFound` for an
    unregistered source and :class:`ValidationError` for an unknown file type or format.
    """
    source = require_source(driver, settings, source_id)
    file_type = file_type or guess_file_type(path)
    if file_type not in PARSERS:
        raise ValidationError(FieldError("type", f"must be one of {', '.join(EVENT_TYPES)}"))
    if not path.is_file():
        raise ValidationError(FieldError("file", f"{path} does not exist"))
    with tqdm(
        desc=f"{source_id}/{path.name}",
        unit=" rows",
        unit_scale=True,
        disable=None if show_progress else True,
        mininterval=0.5,
    ) as bar:
        summary = ingest_rows(
            driver,
            settings,
            source,
            file_type,
            iter_rows(path),
            batch_size=batch_size,
            progress=bar,
            after_batch=after_batch,
        )
    if summary.errors or summary.warnings:
        summary.errors_file = errors_path or path.with_name(path.name + ".errors.csv")
        write_errors(summary.errors_file, summary.errors, summary.warnings)
    return summary


def write_errors(path: Path, errors: list[FieldError], warnings: list[FieldError]) -> None:
    """Write rejected rows (``ERROR``) and invalid values (``WARNING``) to ``path`` as CSV
    ``line,severity,field,reason``, by line."""
    rows = [(e, "ERROR") for e in errors] + [(w, "WARNING") for w in warnings]
    with path.open("w", newline="", encoding="utf-8") as fh:
        out = csv.writer(fh)
        out.writerow(["line", "severity", "field", "reason"])
        for err, severity in sorted(rows, key=lambda r: (r[0].line or 0, r[1], r[0].field)):
            out.writerow([err.line, severity, err.field, err.reason])


def ingest_record(
    driver: neo4j.Driver,
    settings: Settings,
    source_id: str,
    record: Mapping[str, Any],
    *,
    file_type: str = "records",
    after_batch: AfterBatch | None = None,
) -> RecordOutcome:
    """Ingest one native or canonical row (the API's path) and return its key and outcome.

    Raises :class:`ValidationError` listing every bad field (nothing is written then),
    :class:`graph.errors.NotFound` for an unregistered source. A record with malformed values
    other than its key is stored, those values kept as invalid and listed in ``warnings``.
    """
    source, parsed, warnings, product_field = _prepare_one(
        driver, settings, source_id, record, file_type
    )
    outcomes, refused = _write(driver, settings, source.id, file_type, [(1, parsed)], product_field)
    if refused:
        raise ValidationError([FieldError(e.field, e.reason) for _, e in refused])
    if after_batch is not None and outcomes:
        after_batch(file_type, outcomes)
    key, outcome = outcomes[0]
    return RecordOutcome(key, outcome, warnings)


def ingest_and_resolve(
    driver: neo4j.Driver,
    settings: Settings,
    source_id: str,
    record: Mapping[str, Any],
    resolve: Callable[[neo4j.ManagedTransaction, list[str]], T],
) -> tuple[RecordOutcome, T]:
    """Ingest one source record and resolve it in the same transaction: the record is never
    visible unresolved, and it costs one transaction instead of two (real-time latency).

    ``resolve(tx, [key])`` runs after the upsert whatever its outcome (an unchanged record
    may still be unresolved); see :meth:`graph.services.resolver.Resolver.ingest_record`.
    Raises like :func:`ingest_record`; a failure writes nothing (one transaction, retried by
    the driver on transient errors).
    """
    source, parsed, warnings, _ = _prepare_one(driver, settings, source_id, record, "records")

    def work(tx: neo4j.ManagedTransaction) -> tuple[RecordOutcome, T]:
        [(key, outcome)] = records.upsert_records(tx, source.id, [parsed])
        return RecordOutcome(key, outcome, warnings), resolve(tx, [key])

    with translate_errors(settings), driver.session(database=settings.neo4j_database) as s:
        return s.execute_write(work)


def _prepare_one(
    driver: neo4j.Driver,
    settings: Settings,
    source_id: str,
    record: Mapping[str, Any],
    file_type: str,
) -> tuple[Source, dict[str, Any], tuple[FieldError, ...], str]:
    """The source, the parsed row (without its warnings), the warnings, the product column."""
    if file_type not in PARSERS:
        raise ValidationError(FieldError("type", f"must be one of {', '.join(EVENT_TYPES)}"))
    source = require_source(driver, settings, source_id)
    mapping = mapping_for(source.kind, file_type, source.mapping)
    salt = forget_salt(driver, settings, create=True) if file_type == "records" else None
    try:
        parsed = parse_row(source, file_type, dict(record), mapping=mapping, salt=salt)
    except ValidationError as exc:
        raise ValidationError([FieldError(e.field, e.reason) for e in exc.errors]) from None
    warnings = tuple(parsed.pop("warnings", ()))
    return source, parsed, warnings, _product_field(mapping, file_type)


def _product_field(mapping: Mapping[str, str], file_type: str) -> str:
    """The source's name for the product column (errors name the field as the source does)."""
    canonical = "sku" if file_type == "order_lines" else "items"
    return next((n for n, c in mapping.items() if c == canonical), canonical)
