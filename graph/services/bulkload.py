"""Bulk first load: the files of several sources into an empty database, resolved in memory.

``c360 load`` does in one pass what ``c360 ingest`` of every file would do, without a round
trip per batch and without reading anything back:

1. **parse**: every records file is read and parsed as ingest parses it
   (:func:`graph.ingest.parse_row`, the source's mapping; rejected rows and invalid values go
   to ``FILE.errors.csv``); a key seen twice keeps the row ingest would keep (newer wins);
2. **resolve**: the records become the :class:`~graph.resolution.plan.RecordData` resolution
   reads from the graph (an identifier held by more than ``max_identifier_records`` records
   is no evidence), candidate pairs come from shared identifiers and blocking keys, and
   :func:`~graph.resolution.plan.make_plan` clusters them with the same rules and active
   match model as incremental resolution, golden records reconciled;
3. **write**: for the local server, the whole graph (sources, records, identifiers, blocking
   keys, people, links, audit events, possible matches, and the nodes kept from before: match
   models, configuration) is written as CSV and imported with ``neo4j-admin database import
   full`` into a store beside the live one, which then replaces it (the server restarts);
   then the migrations are applied (constraints, indexes and their history). For a remote
   server (``NEO4J_URI``: Aura, a cluster) the same records and plan are written by batched
   transactions instead;
4. **events**: the other files (orders, cases, consents ...) are ingested as ``c360 ingest``
   does, onto the resolved records.

Later records resolve incrementally on top, as after any ingest. The database must be empty
(nothing but sources, match models and configuration): a load refuses anything else with the
reason. On the local server a killed load leaves the database as it was (empty) or complete:
the store is built aside and swapped in by renames (killed between the swap and the
migrations, the graph is complete and ``c360 migrate`` adds its constraints). Batched
transactions cannot promise that: a killed transactional load leaves some records stored,
and ``c360 ingest`` of the same files (idempotent) then completes it.
"""

from __future__ import annotations

import gc
import json
import shutil
import time
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, LiteralString

import neo4j
from tqdm import tqdm

from graph import db, migrate
from graph.db import translate_errors
from graph.errors import Conflict, FieldError, ValidationError
from graph.import_csv import ARRAY_DELIMITER, ImportFiles
from graph.ingest import IngestSummary, guess_file_type, ingest_file
from graph.ingest.parse import PARSERS
from graph.localneo4j import LocalNeo4j
from graph.resolution.features import Features
from graph.resolution.plan import RecordData, candidate_pairs, make_plan
from graph.resolution.rules import RuleSet
from graph.services.bulk_parse import Parsed, parse_files, parse_workers
from graph.services.resolver import Resolver, new_person_id
from graph.settings import Settings
from graph.store import components, records
from graph.store.graph_import import write_import_files
from graph.store.sources import require_source

__all__ = [
    "KEPT_LABELS",
    "LoadFile",
    "LoadReport",
    "bulk_load",
    "check_empty",
    "files_from",
    "manifest_files",
]

#: Labels a database may hold and still count as empty for a bulk load; kept by the load.
KEPT_LABELS = ("Source", "MatchModel", "C360Config")

_OTHER_NODES: LiteralString = """
MATCH (n) WHERE NOT n:__Neo4jMigration AND NOT n:Source AND NOT n:MatchModel
  AND NOT n:C360Config
WITH labels(n)[0] AS label, count(*) AS n
RETURN label, n ORDER BY n DESC
"""

_AWAIT_INDEXES: LiteralString = "CALL db.awaitIndexes(3600)"

_KEPT_NODES: LiteralString = """
MATCH (n) WHERE n:Source OR n:MatchModel OR n:C360Config
RETURN elementId(n) AS id, labels(n) AS labels, properties(n) AS props
"""

# The record properties resolution reads (graph.store.components.RECORD_FIELDS)
_RECORD_FIELDS = (
    "givenName",
    "familyName",
    "email",
    "phone",
    "addressLine1",
    "addressLine2",
    "city",
    "postcode",
    "country",
    "loyaltyId",
    "nationalId",
    "attributes",
)


@dataclass(frozen=True, slots=True)
class LoadFile:
    """One input file: the registered source it comes from and what its rows are."""

    source: str
    path: Path
    file_type: str


@dataclass
class LoadReport:
    """What a bulk load did. ``phases``: seconds per phase; ``writer``: ``neo4j-admin
    import`` or ``transactions``; ``files``: one summary per records file (rejected rows,
    warnings), ``events``: one per other file, ingested after the records."""

    records: int = 0
    people: int = 0
    candidate_pairs: int = 0
    possible_matches: int = 0
    writer: str = ""
    seconds: float = 0.0
    phases: dict[str, float] = field(default_factory=dict)
    files: list[IngestSummary] = field(default_factory=list)
    events: list[IngestSummary] = field(default_factory=list)

    @property
    def rate(self) -> float:
        """Source records per second, end to end."""
        return self.records / self.seconds if self.seconds else 0.0

    def __str__(self) -> str:
        phases = ", ".join(f"{k} {v:.1f} s" for k, v in self.phases.items())
        return (
            f"{self.records} records -> {self.people} people in {self.seconds:.1f} s "
            f"({self.rate:,.0f} records/s, {self.writer}): {self.candidate_pairs} candidate "
            f"pairs, {self.possible_matches} possible matches; {phases}"
        )


def check_empty(driver: neo4j.Driver, settings: Settings) -> None:
    """Raise :class:`Conflict` naming what the database holds unless it is empty but for
    sources, match models and configuration (what a bulk load keeps)."""
    rows = db.read(driver, settings, _OTHER_NODES)
    if rows:
        held = ", ".join(f"{r['n']:,} {r['label']}" for r in rows[:4])
        raise Conflict(
            f"database {settings.neo4j_database!r} is not empty (it holds {held}): a bulk "
            "load only fills an empty database; use `c360 ingest` to add to it"
        )


# -- resolve ----------------------------------------------------------------------------------
def _iso(value: Any) -> str | None:
    return None if value is None else value.isoformat()


def _record_data(
    parsed: Mapping[str, Parsed], max_identifier: int, created: Mapping[str, int]
) -> tuple[list[RecordData], dict[str, Features], Counter[tuple[str, str]]]:
    """The records as resolution reads them, their features (the parse's, computed again
    for a record holding an identifier too common to be evidence) and how many records hold
    each identifier."""
    holders: Counter[tuple[str, str]] = Counter(
        (i["type"], i["value"]) for p in parsed.values() for i in p.row["identifiers"]
    )
    out = []
    features = {}
    for key, p in parsed.items():
        props = {name: p.row["props"].get(name) for name in _RECORD_FIELDS}
        props["birthDate"] = _iso(p.row["props"].get("birthDate"))
        every = p.row["identifiers"]
        evidence = tuple(
            (i["type"], i["value"])
            for i in every
            if holders[(i["type"], i["value"])] <= max_identifier
        )
        record = RecordData(
            key=key,
            source=p.source.id,
            priority=p.source.priority,
            created_at=f"{created[key]:020d}",
            updated_at=_iso(p.row.get("updatedAt")),
            props=props,
            identifiers=evidence,
        )
        out.append(record)
        features[key] = p.features if len(evidence) == len(every) else record.features()
    return out, features, holders


# -- write: transactions (a remote server) ------------------------------------------------------
def _write_transactions(
    driver: neo4j.Driver,
    settings: Settings,
    parsed: Mapping[str, Parsed],
    plan_steps: list[tuple[LiteralString, str, list[Any], dict[str, Any]]],
    batch_size: int,
    show_progress: bool,
) -> None:
    by_source: dict[str, list[dict[str, Any]]] = {}
    for p in parsed.values():
        by_source.setdefault(p.source.id, []).append(p.row)
    chunks = [
        (source, rows[i : i + batch_size])
        for source, rows in by_source.items()
        for i in range(0, len(rows), batch_size)
    ]
    with (
        translate_errors(settings),
        tqdm(
            total=len(parsed) + sum(len(rows) for _, _, rows, _ in plan_steps),
            desc="write",
            unit=" rows",
            unit_scale=True,
            disable=None if show_progress else True,
            mininterval=0.5,
        ) as bar,
    ):

        def upsert(source: str, rows: list[dict[str, Any]]) -> int:
            with driver.session(database=settings.neo4j_database) as session:
                session.execute_write(lambda tx: records.upsert_records(tx, source, rows))
            return len(rows)

        # two writers: identifiers and blocking keys are locked in one order (see
        # graph.store.records), so they never deadlock
        with ThreadPoolExecutor(max_workers=2, thread_name_prefix="c360-load") as pool:
            for done in pool.map(lambda c: upsert(*c), chunks):
                bar.update(done)
        # the records upserted above are pending until their people are written
        plan_steps = [
            *plan_steps,
            (components.UNMARK_PENDING, "resolved", sorted(parsed), {}),
        ]
        with driver.session(database=settings.neo4j_database) as session:
            for query, name, rows, params in plan_steps:
                for i in range(0, len(rows), batch_size):
                    chunk = rows[i : i + batch_size]
                    session.execute_write(_run, query, {name: chunk, **params})
                    bar.update(len(chunk))


def _run(tx: neo4j.ManagedTransaction, query: LiteralString, params: dict[str, Any]) -> None:
    tx.run(query, params).consume()


# -- the load ---------------------------------------------------------------------------------
def bulk_load(
    settings: Settings,
    files: Sequence[LoadFile],
    *,
    rules: RuleSet | None = None,
    actor: str = "bulk-load",
    use_import: bool | None = None,
    batch_size: int = 5000,
    show_progress: bool = True,
) -> LoadReport:
    """Load ``files`` (records and event files of registered sources) into the empty
    database and resolve them; returns the report. Connects by itself: with the importer
    the store is replaced and the local server restarts, so any driver opened before holds
    bookmarks of the old store and must be replaced afterwards.

    ``use_import``: write with ``neo4j-admin import`` (default: when the server is the local
    one) or with batched transactions. Raises :class:`Conflict` when the database is not
    empty, :class:`graph.errors.NotFound` for an unregistered source,
    :class:`ValidationError` for a missing file or unknown type (before anything is
    written), :class:`graph.errors.LocalNeo4jError` when the importer or the restart fails,
    :class:`graph.errors.Neo4jError` when Neo4j does.
    """
    problems = [
        FieldError("file", f"{f.path} does not exist") for f in files if not f.path.is_file()
    ] + [
        FieldError("type", f"{f.path}: {f.file_type!r} is not one of {', '.join(PARSERS)}")
        for f in files
        if f.file_type not in PARSERS
    ]
    if problems:
        raise ValidationError(problems)
    driver = db.connect(settings)
    collecting = gc.isenabled()
    # millions of long-lived objects and almost no cycles: the cyclic collector would walk
    # them over and over (a third of the time at 100k records); cycles wait for the end
    gc.disable()
    try:
        report, driver = _load(
            driver, settings, files, rules, actor, use_import, batch_size, show_progress
        )
    finally:
        driver.close()
        if collecting:
            gc.enable()
    return report


def _load(
    driver: neo4j.Driver,
    settings: Settings,
    files: Sequence[LoadFile],
    rules: RuleSet | None,
    actor: str,
    use_import: bool | None,
    batch_size: int,
    show_progress: bool,
) -> tuple[LoadReport, neo4j.Driver]:
    started = time.monotonic()
    report = LoadReport()
    use_import = settings.uses_local_server if use_import is None else use_import
    report.writer = "neo4j-admin import" if use_import else "transactions"
    check_empty(driver, settings)
    resolver = Resolver(driver, settings, rules, actor=actor)
    registered = {s: require_source(driver, settings, s) for s in sorted({f.source for f in files})}
    record_files = [(f, registered[f.source]) for f in files if f.file_type == "records"]
    event_files = [f for f in files if f.file_type != "records"]
    limits = resolver.rules.limits

    parsed, report.files = parse_files([(f.path, s) for f, s in record_files], None, show_progress)
    report.records = len(parsed)
    report.phases["parse"] = time.monotonic() - started

    mark = time.monotonic()
    now = datetime.now(UTC)
    # a record's age is the order it came in: createdAt one microsecond apart, as ingest's
    created = {key: now + timedelta(microseconds=p.order) for key, p in parsed.items()}
    nanos = {
        key: int(at.timestamp()) * 1_000_000_000 + at.microsecond * 1000
        for key, at in created.items()
    }
    data, features, holders = _record_data(parsed, limits.max_identifier_records, nanos)
    # the parse's blocking keys: those of the features (they read no identifier)
    blocks = {key: p.row["blocks"] for key, p in parsed.items()}
    pairs = candidate_pairs(data, features, limits.max_block_records, blocks=blocks)
    del blocks
    report.candidate_pairs = len(pairs)
    new_ids: list[str] = []

    def new_id() -> str:
        new_ids.append(new_person_id())
        return new_ids[-1]

    model = resolver.model
    with tqdm(
        total=1, desc="resolve", unit=" plan", disable=None if show_progress else True
    ) as bar:
        plan = make_plan(
            data,
            resolver.rules,
            new_id=new_id,
            pairs=pairs,
            features=features,
            model=model,
        )
        bar.update(1)
    del features, pairs
    report.people = len(plan.assignments)
    report.possible_matches = len(plan.possible)
    steps = components.plan_steps(
        plan,
        actor=actor,
        rules_version=resolver.rules.version,
        new_people=new_ids,
        model_version=model.model.version,
    )
    report.phases["resolve"] = time.monotonic() - mark

    mark = time.monotonic()
    if use_import:
        kept = [
            {"id": r["id"], "labels": list(r["labels"]), "props": dict(r["props"])}
            for r in db.read(driver, settings, _KEPT_NODES)
        ]
        server = LocalNeo4j(settings, log=lambda m: None)
        # one fixed place beside the store, emptied first: a killed load leaves no litter
        csv_dir = settings.local_home / "import-csv"
        shutil.rmtree(csv_dir, ignore_errors=True)
        csv_dir.mkdir(parents=True)
        try:
            out = ImportFiles(csv_dir)
            with tqdm(
                total=1, desc="write CSV", unit=" files", disable=None if show_progress else True
            ) as bar:
                write_import_files(
                    out,
                    kept,
                    {key: (p.source.id, p.row) for key, p in parsed.items()},
                    created,
                    holders,
                    limits.max_identifier_records,
                    {name: (rows, params) for _, name, rows, params in steps},
                    now,
                    processes=parse_workers(),
                )
                bar.update(1)
            report.phases["write CSV"] = time.monotonic() - mark
            mark = time.monotonic()
            staged = server.import_database(
                out.nodes,
                out.relationships,
                array_delimiter=ARRAY_DELIMITER,
                multiline_fields=out.multiline,
                heap=_import_heap(settings),
                echo=show_progress,
            )
        finally:
            shutil.rmtree(csv_dir, ignore_errors=True)
        report.phases["import"] = time.monotonic() - mark
        mark = time.monotonic()
        check_empty(driver, settings)  # nothing came in meanwhile
        driver.close()
        server.replace_database(staged)
        db.clear_caches()
        driver = db.connect(settings)
        report.phases["restart"] = time.monotonic() - mark
        mark = time.monotonic()
        migrate.migrate(driver, settings, log=lambda m: None)
        # ingest's statements name indexes in hints: they must be online before it runs
        db.read(driver, settings, _AWAIT_INDEXES)
        report.phases["migrations"] = time.monotonic() - mark
    else:
        _write_transactions(driver, settings, parsed, steps, batch_size, show_progress)
        report.phases["write"] = time.monotonic() - mark
    del parsed, data, plan, steps

    mark = time.monotonic()
    for f in event_files:
        report.events.append(
            ingest_file(
                driver, settings, f.path, f.source, f.file_type, show_progress=show_progress
            )
        )
    if event_files:
        report.phases["events"] = time.monotonic() - mark
    report.seconds = time.monotonic() - started
    return report, driver


def _import_heap(settings: Settings) -> str:
    """The importer's heap: the server's, at least 1 GiB."""
    text = settings.heap_size.strip().lower()
    units = {"k": 1 / 1024 / 1024, "m": 1 / 1024, "g": 1.0}
    try:
        gib = float(text[:-1]) * units[text[-1]] if text[-1] in units else float(text) / 2**30
    except ValueError:
        return "1g"
    return text if gib >= 1 else "1g"


def files_from(pairs: Iterable[str], file_type: str | None = None) -> Iterator[LoadFile]:
    """``SOURCE=PATH`` arguments as :class:`LoadFile`; the type from the file name unless
    given. Raises :class:`ValidationError` for an argument without ``=``."""
    for arg in pairs:
        source, sep, path = arg.partition("=")
        if not sep or not source or not path:
            raise ValidationError(FieldError("file", f"{arg!r} is not SOURCE=PATH"))
        yield LoadFile(source, Path(path), file_type or guess_file_type(Path(path)))


def manifest_files(path: Path) -> list[LoadFile]:
    """The files a ``manifest.json`` lists (``{"files": [{source, file_type, path}]}``, paths
    relative to it), in its order. Raises :class:`ValidationError` when it is not one."""
    try:
        entries = json.loads(path.read_text(encoding="utf-8"))["files"]
        return [LoadFile(e["source"], path.parent / e["path"], e["file_type"]) for e in entries]
    except (ValueError, KeyError, TypeError) as exc:
        raise ValidationError(
            FieldError("manifest", f"{path} is not a manifest of files: {exc}")
        ) from None
