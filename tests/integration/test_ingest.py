from __future__ import annotations

import csv
import json

import pytest

from graph.errors import NotFound, ValidationError
from graph.ingest import ingest_file, ingest_record
from graph.store import sources
from graph.store.sources import validate_source


def _run(driver, settings, query, **params):
    records, _, _ = driver.execute_query(query, params, database_=settings.neo4j_database)
    return records


def _csv(path, header, rows):
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def _jsonl(path, rows):
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


@pytest.fixture
def shop(neo4j_driver, settings):
    for sid, kind in (("shop", "COMMERCE"), ("desk", "SERVICE"), ("mail", "MARKETING")):
        sources.register_source(neo4j_driver, settings, validate_source(sid, kind, sid.title(), 10))
    return "shop"


SHOP_HEADER = [
    "customer_no",
    "first_name",
    "last_name",
    "email",
    "phone_home",
    "birthday",
    "country_code",
    "last_modified",
]


def _graph_snapshot(driver, settings):
    nodes = _run(
        driver,
        settings,
        "MATCH (n) WHERE NOT n:__Neo4jMigration RETURN labels(n) AS l, properties(n) AS p",
    )
    rels = _run(
        driver,
        settings,
        "MATCH (a)-[r]->(b) WHERE NOT a:__Neo4jMigration RETURN elementId(a) + type(r) + elementId(b) AS k, properties(r) AS p",
    )

    def norm(props):
        return json.dumps({k: str(v) for k, v in sorted(props.items())})

    return sorted(norm(r["p"]) + str(r["l"]) for r in nodes), sorted(
        r["k"] + norm(r["p"]) for r in rels
    )


def test_record_for_unknown_source_is_refused(neo4j_driver, settings, tmp_path):
    path = _csv(
        tmp_path / "records.csv", SHOP_HEADER, [["C1", "Ann", "Lee", "a@x.com", "", "", "GB", ""]]
    )
    with pytest.raises(NotFound, match="'nowhere' is not registered"):
        ingest_file(neo4j_driver, settings, path, "nowhere", show_progress=False)
    assert _run(neo4j_driver, settings, "MATCH (r:SourceRecord) RETURN count(r) AS c")[0]["c"] == 0


def test_second_ingest_of_same_file_changes_nothing(neo4j_driver, settings, shop, tmp_path):
    path = _csv(
        tmp_path / "records.csv",
        SHOP_HEADER,
        [
            [
                "C1",
                "Ann",
                "Lee",
                "Ann.Lee@Example.com",
                "+44 7700 900123",
                "1980-02-03",
                "GB",
                "2025-01-01T10:00:00Z",
            ],
            ["C2", "Bo", "Ek", "bo@example.com", "", "", "SE", "2025-01-02T10:00:00Z"],
        ],
    )
    first = ingest_file(neo4j_driver, settings, path, shop, show_progress=False)
    assert (first.created, first.rejected) == (2, 0)
    before = _graph_snapshot(neo4j_driver, settings)
    second = ingest_file(neo4j_driver, settings, path, shop, show_progress=False)
    assert (second.created, second.updated, second.unchanged) == (0, 0, 2)
    assert _graph_snapshot(neo4j_driver, settings) == before


def test_newer_update_wins_and_older_is_ignored(neo4j_driver, settings, shop):
    base = {
        "customer_no": "C1",
        "first_name": "Ann",
        "last_name": "Lee",
        "email": "ann@example.com",
        "country_code": "GB",
        "last_modified": "2025-01-01T10:00:00Z",
    }
    assert ingest_record(neo4j_driver, settings, shop, base).outcome == "created"
    newer = base | {"email": "ann.lee@example.com", "last_modified": "2025-03-01T10:00:00Z"}
    assert ingest_record(neo4j_driver, settings, shop, newer).outcome == "updated"
    older = base | {"last_name": "Old", "last_modified": "2024-06-01T10:00:00Z"}
    assert ingest_record(neo4j_driver, settings, shop, older).outcome == "stale"
    row = _run(
        neo4j_driver,
        settings,
        """
        MATCH (r:SourceRecord {key: 'shop:C1'})
        RETURN r.familyName AS family, r.email AS email,
               [(r)-[:HAS_IDENTIFIER]->(i:Identifier {type: 'EMAIL'}) | i.value] AS emails""",
    )[0]
    assert row["family"] == "Lee" and row["email"] == "ann.lee@example.com"
    assert row["emails"] == ["ann.lee@example.com"]  # the superseded email is no longer linked


def test_a_bad_value_loses_no_record_and_only_a_row_without_a_key_is_rejected(
    neo4j_driver, settings, shop, tmp_path
):
    path = _csv(
        tmp_path / "records.csv",
        SHOP_HEADER,
        [
            ["C1", "Ann", "Lee", "ann@example.com", "", "1980-02-03", "GB", ""],
            ["", "No", "Id", "noid@example.com", "", "", "GB", ""],
            ["C3", "Bad", "Date", "bd@example.com", "", "1955-11-92", "GB", ""],
            ["C4", "Bad", "Mail", "bad@@example", "", "", "GB", ""],
            ["C5", "Eve", "Ok", "eve@example.com", "", "", "FR", "yesterday-ish"],
            ["C6", "Bo", "Ek", "bo@example.com", "", "31/02/1990", "Narnia", ""],
        ],
    )
    summary = ingest_file(neo4j_driver, settings, path, shop, show_progress=False)
    assert (summary.rows, summary.created, summary.rejected, summary.warned) == (6, 5, 1, 4)
    assert len(summary.warnings) == 5 and "4 stored with invalid values (5 warnings)" in str(
        summary
    )
    with summary.errors_file.open() as fh:
        assert fh.readline().strip() == "line,severity,field,reason"
        fh.seek(0)
        errors = list(csv.DictReader(fh))
    assert [(e["line"], e["severity"], e["field"]) for e in errors] == [
        ("3", "ERROR", "customer_no"),
        ("4", "WARNING", "birthday"),
        ("5", "WARNING", "email"),
        ("6", "WARNING", "last_modified"),
        ("7", "WARNING", "birthday"),
        ("7", "WARNING", "country_code"),
    ]
    assert all(e["reason"] for e in errors)
    rows = _run(
        neo4j_driver,
        settings,
        """
        MATCH (r:SourceRecord)
        RETURN r.key AS k, r.birthDate AS b, r.email AS e, r.invalidFields AS invalid,
               [(r)-[:HAS_IDENTIFIER]->(i) | i.type + ':' + i.value] AS ids
        ORDER BY k""",
    )
    by_key = {r["k"]: r for r in rows}
    assert set(by_key) == {"shop:C1", "shop:C3", "shop:C4", "shop:C5", "shop:C6"}
    assert by_key["shop:C1"]["invalid"] is None
    c3 = json.loads(by_key["shop:C3"]["invalid"])
    assert by_key["shop:C3"]["b"] is None
    assert c3["birthDate"]["value"] == "1955-11-92" and c3["birthDate"]["reason"]
    c4 = by_key["shop:C4"]
    assert c4["e"] is None and c4["ids"] == []  # an invalid email is no identifier
    assert json.loads(c4["invalid"])["email"]["value"] == "bad@@example"
    assert set(json.loads(by_key["shop:C6"]["invalid"])) == {"birthDate", "country"}


def test_a_bad_value_in_an_update_does_not_erase_the_stored_good_value_of_other_fields(
    neo4j_driver, settings, shop
):
    first = {
        "customer_no": "C1",
        "first_name": "Ann",
        "email": "ann@example.com",
        "last_modified": "2025-01-01T00:00:00Z",
    }
    ingest_record(neo4j_driver, settings, shop, first)
    outcome = ingest_record(
        neo4j_driver,
        settings,
        shop,
        {**first, "birthday": "1955-11-92", "last_modified": "2025-02-01T00:00:00Z"},
    )
    assert outcome.outcome == "updated" and [w.field for w in outcome.warnings] == ["birthday"]
    row = _run(
        neo4j_driver,
        settings,
        "MATCH (r:SourceRecord {key: 'shop:C1'}) RETURN r.email AS e, r.givenName AS g, "
        "r.invalidFields AS invalid",
    )[0]
    assert (row["e"], row["g"]) == ("ann@example.com", "Ann")
    assert "1955-11-92" in row["invalid"]
    again = ingest_record(
        neo4j_driver,
        settings,
        shop,
        {**first, "birthday": "1955-11-12", "last_modified": "2025-03-01T00:00:00Z"},
    )
    assert again.warnings == ()
    fixed = _run(
        neo4j_driver,
        settings,
        "MATCH (r:SourceRecord {key: 'shop:C1'}) RETURN r.invalidFields AS invalid, "
        "toString(r.birthDate) AS b",
    )[0]
    assert (fixed["invalid"], fixed["b"]) == (None, "1955-11-12")


def test_an_unreadable_updated_at_never_overrides_a_dated_record(neo4j_driver, settings, shop):
    dated = {"customer_no": "C1", "first_name": "Ann", "last_modified": "2025-01-01T00:00:00Z"}
    ingest_record(neo4j_driver, settings, shop, dated)
    outcome = ingest_record(
        neo4j_driver, settings, shop, {**dated, "first_name": "Zed", "last_modified": "soon"}
    )
    assert outcome.outcome == "stale" and [w.field for w in outcome.warnings] == ["last_modified"]
    name = _run(neo4j_driver, settings, "MATCH (r:SourceRecord) RETURN r.givenName AS g")[0]["g"]
    assert name == "Ann"


def test_malformed_json_line_is_reported_and_the_rest_stored(
    neo4j_driver, settings, shop, tmp_path
):
    path = tmp_path / "records.jsonl"
    path.write_text(
        '{"customer_no": "C1", "email": "a@example.com"}\n{not json\n[1, 2]\n'
        '{"customer_no": "C2", "email": "b@example.com"}\n'
    )
    summary = ingest_file(neo4j_driver, settings, path, shop, show_progress=False)
    assert (summary.created, summary.rejected) == (2, 2)
    assert sorted(e.line for e in summary.errors) == [2, 3]


def test_single_record_without_a_key_names_the_field_and_writes_nothing(
    neo4j_driver, settings, shop
):
    with pytest.raises(ValidationError) as info:
        ingest_record(
            neo4j_driver, settings, shop, {"customer_no": " ", "email": "x@", "birthday": "soon"}
        )
    assert {e.field for e in info.value.errors} == {"customer_no"}  # named as the caller sent it
    assert _run(neo4j_driver, settings, "MATCH (r:SourceRecord) RETURN count(r) AS c")[0]["c"] == 0


def test_single_record_with_bad_values_is_stored_and_returns_every_warning(
    neo4j_driver, settings, shop
):
    outcome = ingest_record(
        neo4j_driver, settings, shop, {"customer_no": "C1", "email": "x@", "birthday": "soon"}
    )
    assert outcome.outcome == "created"
    assert {w.field for w in outcome.warnings} == {"email", "birthday"}
    assert all(w.reason for w in outcome.warnings)


def test_identifiers_are_normalised_shared_and_placeholders_skipped(neo4j_driver, settings, shop):
    ingest_record(
        neo4j_driver,
        settings,
        "shop",
        {
            "customer_no": "C1",
            "email": " Ann@Example.COM ",
            "phone_home": "07700 900123",
            "country_code": "GB",
        },
    )
    ingest_record(
        neo4j_driver,
        settings,
        "desk",
        {"Id": "003A", "PersonEmail": "ann@example.com", "PersonMobilePhone": "+447700900123"},
    )
    ingest_record(
        neo4j_driver,
        settings,
        "shop",
        {
            "customer_no": "C9",
            "email": "noemail@example.com",
            "phone_home": "0000000000",
            "country_code": "US",
        },
    )
    ids = _run(
        neo4j_driver,
        settings,
        """
        MATCH (i:Identifier) RETURN i.type AS t, i.value AS v,
        COUNT { (i)<-[:HAS_IDENTIFIER]-(:SourceRecord) } AS n ORDER BY t""",
    )
    assert [(r["t"], r["v"], r["n"]) for r in ids] == [
        ("EMAIL", "ann@example.com", 2),
        ("PHONE", "+447700900123", 2),
    ]
    flags = _run(
        neo4j_driver,
        settings,
        "MATCH (r:SourceRecord {key: 'shop:C9'}) RETURN r.qualityFlags AS f, r.raw AS raw",
    )[0]
    assert any(f.startswith("email: placeholder") for f in flags["f"])
    assert any(f.startswith("phone: placeholder") for f in flags["f"])
    assert json.loads(flags["raw"])["phone_home"] == "0000000000"  # the raw value is kept


def test_events_before_their_record_are_kept_and_attach_when_it_arrives(
    neo4j_driver, settings, shop, tmp_path
):
    _csv(
        tmp_path / "products.csv",
        ["product_id", "product_name", "category", "price", "currency"],
        [["SKU-1", "Mug", "Kitchen", "9.50", "EUR"]],
    )
    ingest_file(neo4j_driver, settings, tmp_path / "products.csv", shop, show_progress=False)
    _jsonl(
        tmp_path / "orders.jsonl",
        [
            {
                "order_no": "O1",
                "customer_no": "C7",
                "creation_date": "2025-04-01T09:00:00Z",
                "status": "paid",
                "order_total": "19.00",
                "currency": "EUR",
            }
        ],
    )
    _csv(
        tmp_path / "order_lines.csv",
        ["order_no", "position", "product_id", "quantity", "base_price"],
        [["O1", "1", "SKU-1", "2", "9.50"]],
    )
    _jsonl(
        tmp_path / "consents.jsonl",
        [
            {
                "customer_no": "C7",
                "channel": "email",
                "purpose": "marketing",
                "status": "opt-in",
                "at": "2025-04-01T09:00:00Z",
            }
        ],
    )
    for name in (
        "order_lines.csv",
        "orders.jsonl",
        "consents.jsonl",
    ):  # lines even before their order
        assert (
            ingest_file(neo4j_driver, settings, tmp_path / name, shop, show_progress=False).rejected
            == 0
        )
    placeholder = _run(
        neo4j_driver, settings, "MATCH (r:SourceRecord {key: 'shop:C7'}) RETURN r.placeholder AS p"
    )[0]
    assert placeholder["p"] is True
    ingest_record(
        neo4j_driver,
        settings,
        shop,
        {"customer_no": "C7", "first_name": "Kim", "email": "kim@example.com"},
    )
    row = _run(
        neo4j_driver,
        settings,
        """
        MATCH (r:SourceRecord {key: 'shop:C7'})
        RETURN r.placeholder AS p, r.givenName AS g,
               [(r)-[:PLACED]->(o:Order)-[c:CONTAINS]->(p:Product) | [o.id, o.status, p.sku, c.quantity]] AS lines,
               [(r)-[:CAPTURED]->(c:Consent) | c.status] AS consents""",
    )[0]
    assert row["p"] is None and row["g"] == "Kim"
    assert row["lines"] == [["O1", "PAID", "SKU-1", 2]]
    assert row["consents"] == ["GRANTED"]


def test_order_line_for_unknown_product_is_rejected(neo4j_driver, settings, shop, tmp_path):
    path = _csv(
        tmp_path / "order_lines.csv",
        ["order_no", "position", "product_id", "quantity", "base_price"],
        [
            ["O1", "1", "SKU-404", "1", "5.00"],
            ["O1", "2", "", "1", "5.00"],
            ["O1", "3", "SKU-1", "0", "5.00"],
        ],
    )
    summary = ingest_file(neo4j_driver, settings, path, shop, show_progress=False)
    assert summary.rejected == 3
    reasons = {(e.line, e.field): e.reason for e in summary.errors}
    assert "unknown product SKU-404" in reasons[(2, "product_id")]  # named as in the file
    assert (3, "product_id") in reasons and (4, "quantity") in reasons


def test_provenance_from_order_back_to_source_record_and_source(neo4j_driver, settings, shop):
    ingest_record(
        neo4j_driver,
        settings,
        shop,
        {"customer_no": "C1", "first_name": "Ann", "email": "ann@example.com"},
    )
    ingest_record(
        neo4j_driver,
        settings,
        shop,
        {
            "order_no": "O9",
            "customer_no": "C1",
            "creation_date": "2025-05-05T12:00:00Z",
            "order_total": "3.00",
            "currency": "GBP",
        },
        file_type="orders",
    )
    row = _run(
        neo4j_driver,
        settings,
        """
        MATCH (o:Order {id: 'O9'})<-[:PLACED]-(r:SourceRecord)-[:FROM]->(s:Source)
        RETURN r.key AS record, r.raw AS raw, s.id AS source, s.kind AS kind""",
    )[0]
    assert (row["record"], row["source"], row["kind"]) == ("shop:C1", "shop", "COMMERCE")
    assert json.loads(row["raw"])["first_name"] == "Ann"


def test_cart_update_replaces_items_and_older_update_is_ignored(
    neo4j_driver, settings, shop, tmp_path
):
    _csv(
        tmp_path / "products.csv",
        ["product_id", "product_name", "price", "currency"],
        [["A", "Apple", "1", "EUR"], ["B", "Bread", "2", "EUR"]],
    )
    ingest_file(neo4j_driver, settings, tmp_path / "products.csv", shop, show_progress=False)
    cart = {
        "basket_id": "K1",
        "customer_no": "C1",
        "status": "open",
        "last_modified": "2025-01-01T00:00:00Z",
        "items": [{"sku": "A", "quantity": 1}, {"sku": "B", "quantity": 2}],
    }
    ingest_record(neo4j_driver, settings, shop, cart, file_type="carts")
    ingest_record(
        neo4j_driver,
        settings,
        shop,
        cart
        | {
            "status": "abandoned",
            "last_modified": "2025-01-03T00:00:00Z",
            "items": [{"sku": "B", "quantity": 3}],
        },
        file_type="carts",
    )
    assert ingest_record(neo4j_driver, settings, shop, cart, file_type="carts").outcome == "stale"
    row = _run(
        neo4j_driver,
        settings,
        "MATCH (c:Cart {key: 'shop:K1'}) RETURN c.status AS s, [(c)-[l:CONTAINS]->(p) | [p.sku, l.quantity]] AS items",
    )[0]
    assert row["s"] == "ABANDONED" and row["items"] == [["B", 3]]


def test_engagement_and_cases_are_idempotent_and_cases_newer_wins(neo4j_driver, settings, shop):
    event = {
        "SubscriberKey": "S1",
        "EventType": "opened",
        "CampaignName": "Spring",
        "EventDate": "2025-03-01T08:00:00Z",
    }
    assert (
        ingest_record(neo4j_driver, settings, "mail", event, file_type="engagement").outcome
        == "created"
    )
    assert (
        ingest_record(neo4j_driver, settings, "mail", event, file_type="engagement").outcome
        == "unchanged"
    )
    case = {
        "CaseNumber": "00001",
        "ContactId": "003A",
        "Subject": "Late parcel",
        "Status": "New",
        "CreatedDate": "2025-02-01T08:00:00Z",
    }
    ingest_record(neo4j_driver, settings, "desk", case, file_type="cases")
    ingest_record(
        neo4j_driver,
        settings,
        "desk",
        case | {"Status": "Closed", "ClosedDate": "2025-02-03T08:00:00Z"},
        file_type="cases",
    )
    row = _run(
        neo4j_driver,
        settings,
        "MATCH (:SourceRecord {key: 'desk:003A'})-[:OPENED]->(c:Case) RETURN c.status AS s, count(*) AS n",
    )[0]
    assert (row["s"], row["n"]) == ("CLOSED", 1)
    assert _run(neo4j_driver, settings, "MATCH (e:Engagement) RETURN count(e) AS c")[0]["c"] == 1


def test_source_mapping_override_renames_native_fields(neo4j_driver, settings):
    source = validate_source(
        "legacy", "OTHER", "Legacy CRM", 5, {"records": {"CustID": "sourceId", "Mail": "email"}}
    )
    sources.register_source(neo4j_driver, settings, source)
    outcome = ingest_record(
        neo4j_driver, settings, "legacy", {"CustID": "L1", "Mail": "l1@example.com", "Shoe": "42"}
    )
    assert outcome.key == "legacy:L1"
    row = _run(
        neo4j_driver,
        settings,
        "MATCH (r:SourceRecord {key: 'legacy:L1'}) RETURN r.email AS e, r.attributes AS a",
    )[0]
    assert row["e"] == "l1@example.com" and json.loads(row["a"]) == {"Shoe": "42"}


@pytest.mark.parametrize("record_id", ["0", "NA", "X", "none"])
def test_ids_that_look_like_placeholders_are_real_ids(neo4j_driver, settings, shop, record_id):
    outcome = ingest_record(
        neo4j_driver, settings, shop, {"customer_no": record_id, "email": "id@example.com"}
    )
    assert outcome.key == f"shop:{record_id}"
