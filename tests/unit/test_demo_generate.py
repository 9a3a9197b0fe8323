"""The demo data generator: deterministic, complete, mappable, consistent and realistically noisy."""

from __future__ import annotations

import csv
import json
import re
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from decimal import Decimal
from pathlib import Path

import phonenumbers
import pycountry
import pytest

from graph.demo import DEMO_SOURCES, DemoFile, Manifest, generate
from graph.errors import ValidationError
from graph.ingest import mappings

PEOPLE = 600
SEED = 7
KINDS = {source.id: source.kind for source in DEMO_SOURCES}
LOAD_ORDER = (
    "products",
    "records",
    "orders",
    "order_lines",
    "carts",
    "cases",
    "engagement",
    "consents",
)
PLACEHOLDER_PHONES = {"0000000000"}
PLACEHOLDER_EMAILS = {"noemail@example.com", "none@none.com"}
REGIONS = ("GB", "US", "DE", "FR", "ES", "PL")
TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{3})?Z$")


@dataclass(frozen=True)
class Demo:
    out: Path
    manifest: Manifest


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Demo:
    out = tmp_path_factory.mktemp("demo")
    return Demo(out, generate(out, PEOPLE, SEED))


def native_rows(demo: Demo, file: DemoFile) -> Iterator[dict[str, object]]:
    path = demo.out / file.path
    with path.open(encoding="utf-8", newline="") as handle:
        if path.suffix == ".csv":
            yield from csv.DictReader(handle)
        else:
            for line in handle:
                yield json.loads(line)


def canonical_rows(demo: Demo, file_type: str) -> Iterator[tuple[str, dict[str, object]]]:
    for file in demo.manifest.files:
        if file.file_type == file_type:
            mapping = mappings.mapping_for(KINDS[file.source], file_type)
            for row in native_rows(demo, file):
                yield file.source, mappings.rename(row, mapping, file_type)[0]


def truth(demo: Demo) -> dict[tuple[str, str], str]:
    with (demo.out / demo.manifest.truth).open(encoding="utf-8", newline="") as handle:
        return {(r["source"], r["sourceId"]): r["personId"] for r in csv.DictReader(handle)}


def records_by_person(demo: Demo) -> dict[str, list[tuple[str, dict[str, object]]]]:
    owner = truth(demo)
    people: dict[str, list[tuple[str, dict[str, object]]]] = defaultdict(list)
    for source, record in canonical_rows(demo, "records"):
        people[owner[source, str(record["sourceId"])]].append((source, record))
    return people


def region_of(country: object) -> str | None:
    return pycountry.countries.lookup(str(country)).alpha_2 if country else None


def e164(phone: object, country: object) -> str | None:
    """The phone in E.164 when it parses as a valid number (for the record's country, else any
    demo country, else with a ``+`` in front of bare international digits)."""
    text = str(phone or "")
    if not text or text in PLACEHOLDER_PHONES:
        return None
    region = region_of(country)
    candidates = [(text, r) for r in ([region] if region else REGIONS)] + [("+" + text, None)]
    for candidate, default in candidates:
        try:
            number = phonenumbers.parse(candidate, default)
        except phonenumbers.NumberParseException:
            continue
        if phonenumbers.is_valid_number(number):
            return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    return None


def test_same_seed_writes_identical_bytes_and_another_seed_does_not(tmp_path: Path) -> None:
    def snapshot(seed: int, name: str) -> dict[str, bytes]:
        out = tmp_path / name
        generate(out, 150, seed)
        return {str(p.relative_to(out)): p.read_bytes() for p in sorted(out.rglob("*.*"))}

    first, again, other = snapshot(3, "a"), snapshot(3, "b"), snapshot(4, "c")
    assert first == again
    assert first.keys() == other.keys()
    assert first["service_desk/records.csv"] != other["service_desk/records.csv"]
    assert first["truth.csv"] != other["truth.csv"]


def test_manifest_lists_every_file_in_load_order_with_its_row_count(demo: Demo) -> None:
    written = json.loads((demo.out / "manifest.json").read_text(encoding="utf-8"))
    assert written == json.loads(json.dumps(asdict(demo.manifest)))
    assert (demo.manifest.people, demo.manifest.seed) == (PEOPLE, SEED)
    on_disk = {str(p.relative_to(demo.out)) for p in demo.out.rglob("*.*")}
    assert on_disk == {f.path for f in demo.manifest.files} | {"manifest.json", "truth.csv"}
    for file in demo.manifest.files:
        assert sum(1 for _ in native_rows(demo, file)) == file.rows, file.path
        assert file.rows > 0, file.path
    order = [LOAD_ORDER.index(f.file_type) for f in demo.manifest.files]
    assert order == sorted(order)
    assert demo.manifest.files[0].file_type == "products"


def test_products_are_a_fixed_catalogue_of_about_200_priced_skus(demo: Demo) -> None:
    products = [row for _, row in canonical_rows(demo, "products")]
    assert 150 <= len(products) <= 250
    assert len({p["sku"] for p in products}) == len(products)
    assert all(re.fullmatch(r"SKU-\d{5}", str(p["sku"])) for p in products)
    assert all(Decimal(str(p["price"])) > 0 and p["name"] and p["category"] for p in products)


def test_truth_maps_exactly_the_records_written(demo: Demo) -> None:
    with (demo.out / "truth.csv").open(encoding="utf-8", newline="") as handle:
        rows = list(csv.reader(handle))
    assert rows[0] == ["source", "sourceId", "personId"]
    pairs = [(source, source_id) for source, source_id, _ in rows[1:]]
    assert len(pairs) == len(set(pairs))
    written = [(source, str(r["sourceId"])) for source, r in canonical_rows(demo, "records")]
    assert sorted(pairs) == sorted(written)
    people = {person for _, _, person in rows[1:]}
    assert people == {f"P{n:07d}" for n in range(1, PEOPLE + 1)}


def test_every_native_column_maps_to_a_canonical_field(demo: Demo) -> None:
    for file in demo.manifest.files:
        mapping = mappings.mapping_for(KINDS[file.source], file.file_type)
        for row in native_rows(demo, file):
            canonical, extras = mappings.rename(row, mapping, file.file_type)
            assert extras == {}, (file.path, extras)
            assert canonical.keys() <= mappings.CANONICAL_NAMES[file.file_type]


def test_each_true_person_appears_in_one_to_three_sources(demo: Demo) -> None:
    spread = Counter(len({s for s, _ in recs}) for recs in records_by_person(demo).values())
    assert set(spread) == {1, 2, 3}
    assert 0.30 < spread[1] / PEOPLE < 0.60
    assert spread[3] < spread[2] < spread[1]


def test_some_people_hold_two_accounts_in_one_source(demo: Demo) -> None:
    doubled = [
        p for p, recs in records_by_person(demo).items() if len(recs) > len({s for s, _ in recs})
    ]
    assert 0 < len(doubled) < 0.1 * PEOPLE


def test_hard_cases_exist_placeholders_and_households(demo: Demo) -> None:
    store = [r for s, r in canonical_rows(demo, "records") if s == "store_db"]
    placeholders = [
        r for r in store if r["phone"] in PLACEHOLDER_PHONES or r["email"] in PLACEHOLDER_EMAILS
    ]
    assert 0 < len(placeholders) < 0.1 * len(store)
    homes: dict[tuple[str, str], set[str]] = defaultdict(set)
    for person, recs in records_by_person(demo).items():
        for _, r in recs:
            if r.get("addressLine1") and r.get("familyName"):
                homes[str(r["familyName"]).casefold(), str(r["addressLine1"])].add(person)
    assert any(len(people) > 1 for people in homes.values())


def test_order_totals_equal_the_sum_of_their_lines(demo: Demo) -> None:
    skus = {row["sku"] for _, row in canonical_rows(demo, "products")}
    lines: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
    counts: Counter[tuple[str, str]] = Counter()
    for source, line in canonical_rows(demo, "order_lines"):
        assert line["sku"] in skus
        key = (source, str(line["orderId"]))
        lines[key] += int(str(line["quantity"])) * Decimal(str(line["unitPrice"]))
        counts[key] += 1
    orders = {
        (s, str(o["orderId"])): Decimal(str(o["total"])) for s, o in canonical_rows(demo, "orders")
    }
    assert orders.keys() == lines.keys()
    assert all(1 <= n <= 4 for n in counts.values())
    assert all(orders[key] == lines[key].quantize(Decimal("0.01")) for key in orders)
    for _, cart in canonical_rows(demo, "carts"):
        assert all(item["sku"] in skus for item in cart["items"])  # type: ignore[attr-defined]


def test_every_event_refers_to_a_record_of_its_own_source(demo: Demo) -> None:
    records = {(s, str(r["sourceId"])) for s, r in canonical_rows(demo, "records")}
    for file_type in ("orders", "carts", "cases", "engagement", "consents"):
        for source, event in canonical_rows(demo, file_type):
            assert (source, str(event["sourceId"])) in records, (file_type, event)


def test_event_ids_are_unique_per_source(demo: Demo) -> None:
    for file_type, key in (("orders", "orderId"), ("carts", "cartId"), ("cases", "caseId")):
        ids = [(s, e[key]) for s, e in canonical_rows(demo, file_type)]
        assert len(ids) == len(set(ids)), file_type
    events = [
        (s, e["eventId"]) for t in ("engagement", "consents") for s, e in canonical_rows(demo, t)
    ]
    assert len(events) == len(set(events))


def test_phones_other_than_placeholders_are_valid(demo: Demo) -> None:
    phones = [
        (r["phone"], r.get("country"))
        for _, r in canonical_rows(demo, "records")
        if r.get("phone") and r["phone"] not in PLACEHOLDER_PHONES
    ]
    assert phones
    invalid = [(phone, country) for phone, country in phones if e164(phone, country) is None]
    assert invalid == []


def test_records_are_noisy_yet_most_multi_source_people_share_an_email_or_phone(demo: Demo) -> None:
    people = records_by_person(demo)
    multi = {p: recs for p, recs in people.items() if len({s for s, _ in recs}) > 1}

    def names(recs: list[tuple[str, dict[str, object]]]) -> set[tuple[str, str]]:
        return {(str(r["givenName"]), str(r["familyName"])) for _, r in recs}

    def linked(recs: list[tuple[str, dict[str, object]]]) -> bool:
        keys: dict[str, set[str]] = defaultdict(set)
        for source, r in recs:
            email = str(r.get("email") or "").strip().lower()
            if email and email not in PLACEHOLDER_EMAILS:
                keys[f"email:{email}"].add(source)
            phone = e164(r.get("phone"), r.get("country"))
            if phone:
                keys[f"phone:{phone}"].add(source)
        return any(len(sources) > 1 for sources in keys.values())

    noisy = [p for p, recs in multi.items() if len(names(recs)) > 1]
    assert 0.05 * len(multi) < len(noisy) < 0.6 * len(multi)
    assert sum(linked(recs) for recs in multi.values()) > 0.6 * len(multi)
    assert not all(linked(recs) for recs in multi.values())


def test_times_are_utc_iso_in_2021_to_october_2026_and_births_in_1940_to_2007(demo: Demo) -> None:
    fields = {
        "records": ("updatedAt",),
        "orders": ("placedAt",),
        "carts": ("updatedAt",),
        "cases": ("openedAt", "closedAt"),
        "engagement": ("at",),
        "consents": ("at",),
    }
    for file_type, names in fields.items():
        for _, row in canonical_rows(demo, file_type):
            for name in names:
                value = str(row[name] or "")
                if name == "closedAt" and not value:
                    assert row["status"] != "Closed"
                    continue
                assert TIMESTAMP.match(value), (file_type, name, value)
                assert "2021-01-01T00:00:00" <= value[:19] <= "2026-10-31T23:59:59"
            if file_type == "cases" and row["closedAt"]:
                assert str(row["closedAt"]) >= str(row["openedAt"])
    births = [str(r["birthDate"]) for _, r in canonical_rows(demo, "records") if r["birthDate"]]
    assert births and all(re.fullmatch(r"\d{4}-\d{2}-\d{2}", b) for b in births)
    assert all(1940 <= int(b[:4]) <= 2007 for b in births)


def test_opens_follow_sends_clicks_follow_opens_and_unsubscribes_withdraw_consent(
    demo: Demo,
) -> None:
    seen: dict[tuple[str, str, str], list[str]] = defaultdict(list)
    unsubscribed: dict[str, str] = {}
    for _, e in sorted(canonical_rows(demo, "engagement"), key=lambda se: str(se[1]["at"])):
        subscriber, campaign, at, kind = (
            str(e["sourceId"]),
            str(e["campaign"]),
            str(e["at"]),
            str(e["type"]),
        )
        needs = {"OPENED": "SENT", "CLICKED": "OPENED", "UNSUBSCRIBED": "SENT"}.get(kind)
        if needs:
            assert seen[subscriber, campaign, needs], (kind, e)
        assert not (kind == "SENT" and subscriber in unsubscribed)
        seen[subscriber, campaign, kind].append(at)
        if kind == "UNSUBSCRIBED":
            unsubscribed[subscriber] = at
    assert {k for _, _, k in seen} == {"SENT", "OPENED", "CLICKED", "UNSUBSCRIBED"}
    withdrawn = defaultdict(list)
    for source, c in canonical_rows(demo, "consents"):
        if source == "marketing" and (c["channel"], c["purpose"], c["status"]) == (
            "EMAIL",
            "MARKETING",
            "WITHDRAWN",
        ):
            withdrawn[str(c["sourceId"])].append(str(c["at"]))
    for subscriber, at in unsubscribed.items():
        assert any(w >= at for w in withdrawn[subscriber]), subscriber


def test_progress_is_reported_every_thousand_people_and_at_the_end(tmp_path: Path) -> None:
    calls: list[int] = []
    generate(tmp_path, 2001, 1, progress=calls.append)
    assert calls == [1000, 2000, 2001]


def test_fewer_than_one_person_is_rejected(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="people"):
        generate(tmp_path, 0, 1)
