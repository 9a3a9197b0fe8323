"""Parsing one source record: only a row without a key is refused; a malformed value is kept
as received, marked invalid and never used as evidence, named as the source names it."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from graph.errors import ValidationError
from graph.ingest import parse_row
from graph.ingest.mappings import NATIONAL_ID_NAMES, mapping_for
from graph.models import CANONICAL_FIELDS, CANONICAL_NAMES, Source, SourceKind
from graph.normalize import normalize_national_id

SHOP = Source(id="shop", kind=SourceKind.COMMERCE, name="Shop", priority=10)
STORE = Source(id="store", kind=SourceKind.STORE, name="Store", priority=5)


def _fields(row: dict) -> set[str]:
    with pytest.raises(ValidationError) as caught:
        parse_row(SHOP, "records", row)
    return {e.field for e in caught.value.errors}


def _invalid(parsed: dict) -> dict:
    text = parsed["props"]["invalidFields"]
    return json.loads(text) if text else {}


def test_only_a_row_without_a_usable_source_id_is_refused():
    assert _fields({"customer_no": " ", "email": "x@", "birthday": "soon"}) == {"customer_no"}
    assert _fields({"customer_no": {"id": 1}}) == {"customer_no"}  # named as the source does


def test_a_json_object_or_list_where_text_belongs_is_kept_as_invalid_not_stringified():
    parsed = parse_row(
        SHOP, "records", {"sourceId": "C1", "givenName": {"a": 1}, "familyName": ["x"]}
    )
    assert parsed["props"]["givenName"] is None and parsed["props"]["familyName"] is None
    assert _invalid(parsed) == {
        "familyName": {"value": '["x"]', "reason": "must be text, not a JSON object or list"},
        "givenName": {"value": '{"a": 1}', "reason": "must be text, not a JSON object or list"},
    }


def test_a_malformed_birth_date_is_kept_as_received_and_is_no_blocking_evidence():
    good = parse_row(
        STORE,
        "records",
        {
            "store_customer_id": "1",
            "given_name": "Ann",
            "surname": "Lee",
            "date_of_birth": "1955-11-12",
        },
    )
    bad = parse_row(
        STORE,
        "records",
        {
            "store_customer_id": "1",
            "given_name": "Ann",
            "surname": "Lee",
            "date_of_birth": "1955-11-92",
        },
        line=7,
    )
    assert bad["props"]["birthDate"] is None
    assert _invalid(bad)["birthDate"]["value"] == "1955-11-92"
    assert "1955" not in " ".join(bad["blocks"]) and set(bad["blocks"]) < set(good["blocks"])
    assert [(w.field, w.line) for w in bad["warnings"]] == [("date_of_birth", 7)]
    assert any(f.startswith("birthDate: invalid") for f in bad["props"]["qualityFlags"])


def test_an_invalid_email_is_kept_as_invalid_and_is_no_identifier():
    parsed = parse_row(
        SHOP,
        "records",
        {"customer_no": "C1", "email": "bad@@example", "phone_home": "+447700900123"},
    )
    assert parsed["props"]["email"] is None
    assert _invalid(parsed)["email"]["value"] == "bad@@example"
    assert parsed["identifiers"] == [{"type": "PHONE", "value": "+447700900123"}]
    assert [w.field for w in parsed["warnings"]] == ["email"]


@pytest.mark.parametrize(
    "updated",
    ["yesterday-ish", "2999-01-01T00:00:00Z"],
    ids=["unreadable", "far-future"],
)
def test_an_unusable_updated_at_counts_as_none_and_is_kept_as_invalid(updated):
    parsed = parse_row(SHOP, "records", {"customer_no": "C1", "last_modified": updated})
    assert parsed["updatedAt"] is None
    assert _invalid(parsed)["updatedAt"]["value"] == updated
    assert [w.field for w in parsed["warnings"]] == ["last_modified"]


def test_an_updated_at_within_a_day_of_clock_skew_is_accepted():
    soon = (datetime.now(UTC) + timedelta(hours=2)).isoformat()
    parsed = parse_row(SHOP, "records", {"sourceId": "C1", "updatedAt": soon})
    assert parsed["updatedAt"] and not parsed["warnings"]


def test_invalid_values_change_the_content_hash_and_good_values_leave_none():
    good = parse_row(SHOP, "records", {"sourceId": "C1", "birthDate": "1955-11-12"})
    bad = parse_row(SHOP, "records", {"sourceId": "C1", "birthDate": "1955-11-92"})
    other = parse_row(SHOP, "records", {"sourceId": "C1", "birthDate": "1955-11-93"})
    assert good["props"]["invalidFields"] is None and good["warnings"] == []
    assert (
        len(
            {
                good["props"]["contentHash"],
                bad["props"]["contentHash"],
                other["props"]["contentHash"],
            }
        )
        == 3
    )


# --- nationalId ---------------------------------------------------------------------------------


def test_national_id_is_a_canonical_record_field():
    assert "nationalId" in CANONICAL_NAMES["records"] and "nationalId" in CANONICAL_FIELDS


@pytest.mark.parametrize("kind", list(SourceKind))
@pytest.mark.parametrize("native", NATIONAL_ID_NAMES)
def test_every_source_kind_maps_the_common_government_id_columns(kind, native):
    assert mapping_for(kind, "records")[native] == "nationalId"


def test_service_desk_custom_fields_map_to_national_id():
    assert mapping_for(SourceKind.SERVICE, "records")["SSN__c"] == "nationalId"


@pytest.mark.parametrize(
    ("raw", "key"),
    [
        ("078-05-1120", "078051120"),
        (" 078 05 1120 ", "078051120"),
        ("ab 12 34 56 c", "AB123456C"),
        ("1734919", "1734919"),
        (4491823, "4491823"),
    ],
)
def test_national_id_drops_separators_and_upper_cases(raw, key):
    result = normalize_national_id(raw)
    assert (result.status, result.value, result.key) == ("ok", key, key)


@pytest.mark.parametrize(
    ("raw", "status"),
    [
        ("000-00-0000", "placeholder"),
        ("000000000", "placeholder"),
        ("999999999", "placeholder"),
        ("123456789", "placeholder"),
        ("987654321", "placeholder"),
        ("12#45678", "invalid"),
        ("12", "invalid"),
        ("1" * 21 + "2", "invalid"),
        ("", "empty"),
        (None, "empty"),
    ],
)
def test_placeholder_and_malformed_national_ids_are_not_ok(raw, status):
    result = normalize_national_id(raw)
    assert result.status == status and result.key is None


@given(st.text(max_size=30))
def test_a_national_id_reason_never_repeats_the_value(text):
    result = normalize_national_id(text)
    if result.status == "ok":
        assert result.key and result.key.isalnum() and result.key == result.key.upper()
    elif result.reason and len(text.strip()) > 3:
        assert text.strip() not in result.reason


def test_a_national_id_becomes_a_normalised_property_and_identifier():
    parsed = parse_row(STORE, "records", {"store_customer_id": "1", "soc_sec_id": "078-05-1120"})
    assert parsed["props"]["nationalId"] == "078051120"
    assert {"type": "NATIONAL_ID", "value": "078051120"} in parsed["identifiers"]
    assert parsed["props"]["attributes"] is None  # mapped, so not among the free attributes


@pytest.mark.parametrize("raw", ["000-00-0000", "12#45678"])
def test_a_placeholder_or_malformed_national_id_is_kept_as_invalid_and_is_no_identifier(raw):
    parsed = parse_row(STORE, "records", {"store_customer_id": "1", "soc_sec_id": raw})
    assert parsed["props"]["nationalId"] is None
    assert all(i["type"] != "NATIONAL_ID" for i in parsed["identifiers"])
    assert _invalid(parsed)["nationalId"]["value"] == raw
    flags = " ".join(parsed["props"]["qualityFlags"])
    assert "nationalId: invalid" in flags and raw not in flags
    assert [w.field for w in parsed["warnings"]] == ["soc_sec_id"]


def test_an_empty_unmapped_cell_is_no_attribute():
    parsed = parse_row(
        STORE,
        "records",
        {"store_customer_id": "1", "favourite_colour": "", "shoe_size": "42"},
    )
    assert json.loads(parsed["props"]["attributes"]) == {"shoe_size": "42"}
    blank = parse_row(STORE, "records", {"store_customer_id": "2", "favourite_colour": ""})
    assert blank["props"]["attributes"] is None
