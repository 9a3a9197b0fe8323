"""Generate the demo data set: N true people scattered, noisily, over four source systems.

Each person is drawn, written and forgotten in turn, so memory stays flat however large N is;
only the ~200 products are held. The output is byte-identical for the same ``(people, seed)``
on the same library versions (Faker, phonenumbers). Layout under ``out_dir``::

    manifest.json              Manifest: files in load order with row counts
    truth.csv                  source,sourceId,personId for every source record written
    commerce/     products.csv records.jsonl orders.jsonl order_lines.csv carts.jsonl
    service_desk/ records.csv cases.csv consents.csv
    marketing/    records.csv engagement.jsonl consents.jsonl
    store_db/     records.csv orders.csv order_lines.csv

Every column is a native field name of :mod:`graph.ingest.mappings` for the source's kind. Every
event (order, cart, case, engagement, consent) refers to a record written in the same source:
none arrive "late", before or without their record.
"""

from __future__ import annotations

import csv
import json
import random
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import IO

from graph.demo import _activity, _clock
from graph.demo._catalog import Catalog, make_catalog
from graph.demo._noise import noisy_identity
from graph.demo._people import PersonFactory, TruePerson
from graph.demo._records import PROFILES, RECORD_COLUMNS, record_id, record_row
from graph.errors import FieldError, ValidationError
from graph.models import SourceKind

__all__ = ["DEMO_SOURCES", "DemoFile", "DemoSource", "Manifest", "generate"]

MANIFEST_NAME = "manifest.json"
TRUTH_NAME = "truth.csv"
PROGRESS_EVERY = 1000

SYSTEM_COUNT_WEIGHTS = (45, 35, 20)  # a person is in 1, 2 or 3 systems
DUPLICATE_RATE = 0.03  # a second account in one of their systems
OLD_EMAIL_USE = 0.33  # a record shows the person's old email, when they have one
OLD_EMAIL_USE_DUPLICATE = 0.5


@dataclass(frozen=True, slots=True)
class DemoSource:
    """A demo source system; ``id`` is also its folder name under the output directory."""

    id: str
    kind: SourceKind
    name: str
    priority: int


DEMO_SOURCES: tuple[DemoSource, ...] = (
    DemoSource("service_desk", SourceKind.SERVICE, "Service desk", 30),
    DemoSource("marketing", SourceKind.MARKETING, "Marketing platform", 10),
    DemoSource("commerce", SourceKind.COMMERCE, "Commerce platform", 40),
    DemoSource("store_db", SourceKind.STORE, "Store database", 20),
)
# How likely each system is to know a person, relative to the others.
_SOURCE_WEIGHTS = {"service_desk": 20, "marketing": 30, "commerce": 32, "store_db": 18}


@dataclass(frozen=True, slots=True)
class DemoFile:
    """One written file: ``path`` relative to the output directory, ``rows`` without header."""

    source: str
    file_type: str
    path: str
    rows: int


@dataclass(frozen=True, slots=True)
class Manifest:
    """What :func:`generate` wrote; ``files`` in load order, ``truth`` a relative path."""

    people: int
    seed: int
    files: tuple[DemoFile, ...]
    truth: str


# (source, file type, file name, CSV columns or None for JSON Lines), in load order.
_FILES: tuple[tuple[str, str, str, tuple[str, ...] | None], ...] = (
    (
        "commerce",
        "products",
        "products.csv",
        ("product_id", "product_name", "category", "price", "currency"),
    ),
    ("service_desk", "records", "records.csv", RECORD_COLUMNS["service_desk"]),
    ("marketing", "records", "records.csv", RECORD_COLUMNS["marketing"]),
    ("commerce", "records", "records.jsonl", None),
    ("store_db", "records", "records.csv", RECORD_COLUMNS["store_db"]),
    ("commerce", "orders", "orders.jsonl", None),
    (
        "store_db",
        "orders",
        "orders.csv",
        ("receipt_no", "store_customer_id", "sold_at", "status", "amount", "currency"),
    ),
    (
        "commerce",
        "order_lines",
        "order_lines.csv",
        ("order_no", "position", "product_id", "quantity", "base_price"),
    ),
    ("store_db", "order_lines", "order_lines.csv", ("receipt_no", "line", "sku", "qty", "price")),
    ("commerce", "carts", "carts.jsonl", None),
    (
        "service_desk",
        "cases",
        "cases.csv",
        ("CaseNumber", "ContactId", "Subject", "Status", "Origin", "CreatedDate", "ClosedDate"),
    ),
    ("marketing", "engagement", "engagement.jsonl", None),
    (
        "service_desk",
        "consents",
        "consents.csv",
        ("Id", "ContactId", "Channel", "Purpose", "Status", "CaptureDate"),
    ),
    ("marketing", "consents", "consents.jsonl", None),
)


def generate(
    out_dir: Path, people: int, seed: int, *, progress: Callable[[int], None] | None = None
) -> Manifest:
    """Write the demo data set for ``people`` true people under ``out_dir`` (created if
    missing, files overwritten) and return its manifest, also written as ``manifest.json``.

    ``progress(n)`` is called with the number of people done every 1000 people and at the end.
    Raises :class:`~graph.errors.ValidationError` when ``people`` is below 1.
    """
    if people < 1:
        raise ValidationError(FieldError("people", "must be at least 1"))
    rng = random.Random(seed)
    catalog = make_catalog(seed)
    with _Sink(out_dir) as sink:
        _write_products(sink, catalog)
        writer = _PersonWriter(sink, rng, catalog, PersonFactory(seed, rng))
        for done in range(1, people + 1):
            writer.write(writer.factory.next())
            if progress is not None and (done % PROGRESS_EVERY == 0 or done == people):
                progress(done)
        files = sink.files()
    manifest = Manifest(people=people, seed=seed, files=files, truth=TRUTH_NAME)
    text = json.dumps(asdict(manifest), indent=2, ensure_ascii=False) + "\n"
    (out_dir / MANIFEST_NAME).write_text(text, encoding="utf-8")
    return manifest


class _Sink:
    """The open output files; counts the rows written to each."""

    def __init__(self, out_dir: Path) -> None:
        self._out_dir = out_dir
        self._stack = ExitStack()
        self._csv: dict[tuple[str, str], csv.DictWriter[str]] = {}
        self._jsonl: dict[tuple[str, str], IO[str]] = {}
        self._rows: dict[tuple[str, str], int] = {}

    def __enter__(self) -> _Sink:
        for source, file_type, name, columns in _FILES:
            handle = self._open(Path(source) / name)
            if columns is None:
                self._jsonl[source, file_type] = handle
            else:
                self._csv[source, file_type] = self._csv_writer(handle, columns)
            self._rows[source, file_type] = 0
        self._truth = self._csv_writer(
            self._open(Path(TRUTH_NAME)), ("source", "sourceId", "personId")
        )
        return self

    def __exit__(self, *exc: object) -> None:
        self._stack.close()

    def write(self, source: str, file_type: str, row: dict[str, object]) -> None:
        """Append ``row`` to the file of ``source`` and ``file_type``."""
        key = (source, file_type)
        if key in self._csv:
            self._csv[key].writerow(row)
        else:
            self._jsonl[key].write(json.dumps(row, ensure_ascii=False, separators=(",", ":")))
            self._jsonl[key].write("\n")
        self._rows[key] += 1

    def truth(self, source: str, source_id: str, person_id: str) -> None:
        """Record that ``source_id`` of ``source`` is the true person ``person_id``."""
        self._truth.writerow({"source": source, "sourceId": source_id, "personId": person_id})

    def files(self) -> tuple[DemoFile, ...]:
        """Every data file written so far, in load order, with its row count."""
        return tuple(
            DemoFile(source, file_type, f"{source}/{name}", self._rows[source, file_type])
            for source, file_type, name, _ in _FILES
        )

    def _open(self, relative: Path) -> IO[str]:
        path = self._out_dir / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        return self._stack.enter_context(path.open("w", encoding="utf-8", newline=""))

    @staticmethod
    def _csv_writer(handle: IO[str], columns: tuple[str, ...]) -> csv.DictWriter[str]:
        writer = csv.DictWriter(
            handle, fieldnames=columns, extrasaction="raise", lineterminator="\n"
        )
        writer.writeheader()
        return writer


def _write_products(sink: _Sink, catalog: Catalog) -> None:
    for product in catalog.products:
        sink.write(
            "commerce",
            "products",
            {
                "product_id": product.sku,
                "product_name": product.name,
                "category": product.category,
                "price": f"{product.price:.2f}",
                "currency": "EUR",
            },
        )


class _PersonWriter:
    """Writes one true person's records, truth rows and activity, straight to the sink."""

    def __init__(
        self, sink: _Sink, rng: random.Random, catalog: Catalog, factory: PersonFactory
    ) -> None:
        self.factory = factory
        self._sink = sink
        self._rng = rng
        self._catalog = catalog
        self._seq = _activity.Sequences()

    def write(self, person: TruePerson) -> None:
        """Place ``person`` in 1-3 systems (sometimes twice in one) and write each copy."""
        rng = self._rng
        systems = _pick_systems(rng, rng.choices((1, 2, 3), SYSTEM_COUNT_WEIGHTS)[0])
        duplicate = rng.random() < DUPLICATE_RATE
        if duplicate:
            systems.append(rng.choice(systems))
        moved_in = rng.randrange(len(systems)) if person.old_address else -1
        for at, source in enumerate(systems):
            is_duplicate = duplicate and at == len(systems) - 1
            use_old = OLD_EMAIL_USE_DUPLICATE if is_duplicate else OLD_EMAIL_USE
            old_email = len(person.emails) > 1 and rng.random() < use_old
            self._write_record(person, source, old_email=old_email, old_address=at == moved_in)

    def _write_record(
        self, person: TruePerson, source: str, *, old_email: bool, old_address: bool
    ) -> None:
        rng = self._rng
        ident = noisy_identity(
            person, PROFILES[source], rng, old_email=old_email, old_address=old_address
        )
        native_id = record_id(source, self._seq.next(f"{source}-record"), rng)
        created = rng.randint(_clock.START, _clock.END - 30 * _clock.DAY)
        updated = _clock.between(rng, created, _clock.END)
        self._sink.write(
            source, "records", record_row(source, native_id, ident, person, rng, updated)
        )
        self._sink.truth(source, native_id, person.id)
        for file_type, row in self._activity(source, native_id, created, person):
            self._sink.write(source, file_type, row)

    def _activity(
        self, source: str, native_id: str, created: int, person: TruePerson
    ) -> Iterator[_activity.Row]:
        rng, seq, currency = self._rng, self._seq, person.locale.currency
        if source == "commerce":
            return _activity.commerce_activity(
                rng, seq, self._catalog, native_id, created, currency
            )
        if source == "store_db":
            return _activity.store_activity(rng, seq, self._catalog, native_id, created, currency)
        if source == "service_desk":
            return _activity.service_activity(rng, seq, native_id, created)
        return _activity.marketing_activity(rng, seq, native_id, created)


def _pick_systems(rng: random.Random, count: int) -> list[str]:
    """``count`` distinct source ids, drawn by :data:`_SOURCE_WEIGHTS` without replacement."""
    pool = dict(_SOURCE_WEIGHTS)
    chosen: list[str] = []
    for _ in range(count):
        source = rng.choices(list(pool), list(pool.values()))[0]
        chosen.append(source)
        del pool[source]
    return chosen
