"""Input limits in parsing: an over-long or control-character value is refused (a key
rejects its row, any other record field is kept as invalid), a row over the byte limit is
rejected whatever its type, and a number or a letterless text where a name belongs is a
warning. Every refusal names the field (as the source names it) and the reason."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from hypothesis import given
from hypothesis import strategies as st

from graph.errors import ValidationError
from graph.ingest import parse_row
from graph.ingest.parse import input_limits, set_input_limits
from graph.models import Source, SourceKind
from graph.normalize import control_character, text_problem
from graph.settings import InputLimits, load_settings

SHOP = Source(id="shop", kind=SourceKind.COMMERCE, name="Shop", priority=10)


@pytest.fixture(autouse=True)
def default_limits() -> Iterator[None]:
    before = input_limits()
    set_input_limits(InputLimits())
    yield
    set_input_limits(before)


def _refused(file_type: str, row: dict) -> list[tuple[str, str]]:
    with pytest.raises(ValidationError) as caught:
        parse_row(SHOP, file_type, row)
    return [(e.field, e.reason) for e in caught.value.errors]


def _invalid(parsed: dict) -> dict:
    text = parsed["props"]["invalidFields"]
    return json.loads(text) if text else {}


def test_the_defaults_are_a_thousand_characters_a_field_and_64_kb_a_row():
    limits = load_settings(_env_file=None).input_limits
    assert (limits.max_field_chars, limits.max_row_bytes) == (1_000, 65_536)


def test_a_name_over_the_limit_is_not_stored_and_is_kept_only_by_its_start():
    parsed = parse_row(SHOP, "records", {"customer_no": "C1", "first_name": "A" * 1_001})
    assert parsed["props"]["givenName"] is None
    kept = _invalid(parsed)["givenName"]
    assert kept["reason"] == "is 1,001 characters long; the limit is 1,000"
    assert kept["value"] == "A" * 100 + "…"
    assert [(w.field, w.reason) for w in parsed["warnings"]] == [("first_name", kept["reason"])]
    ok = parse_row(SHOP, "records", {"customer_no": "C1", "first_name": "Aa" * 500})
    assert ok["props"]["givenName"] == "Aa" * 500 and ok["warnings"] == []


def test_a_name_with_a_nul_character_is_refused_naming_where():
    parsed = parse_row(SHOP, "records", {"customer_no": "C1", "last_name": "Sm\x00ith"})
    assert parsed["props"]["familyName"] is None
    assert _invalid(parsed)["familyName"]["reason"] == (
        "contains the control character U+0000 at character 3"
    )


def test_a_key_with_a_control_character_or_over_the_limit_rejects_the_row():
    assert _refused("records", {"customer_no": "C\x071"}) == [
        ("customer_no", "contains the control character U+0007 at character 2")
    ]
    order = {"order_no": "O" * 1_001, "customer_no": "C1", "creation_date": "2024-01-01"}
    assert _refused("orders", order) == [
        ("order_no", "is 1,001 characters long; the limit is 1,000")
    ]


def test_a_row_over_the_byte_limit_is_rejected_whatever_its_type():
    big = {"customer_no": "C1", "notes": "é" * 40_000}  # 80,000 bytes in UTF-8
    [(field, reason)] = _refused("records", big)
    assert field == "row" and reason.endswith("bytes as JSON; the limit is 65,536")
    assert _refused("products", {"sku": "S1", "blob": "x" * 70_000})[0][0] == "row"
    under = parse_row(SHOP, "records", {"customer_no": "C1", "notes": "x" * 60_000})
    assert under["key"] == "shop:C1"


def test_a_row_of_numbers_and_lists_is_measured_too():
    row = {"customer_no": "C1", "device_ids": [str(n) for n in range(20_000)]}
    assert _refused("records", row)[0][0] == "row"


def test_limits_come_from_the_settings():
    set_input_limits(load_settings(_env_file=None, max_field_chars=5).input_limits)
    parsed = parse_row(SHOP, "records", {"customer_no": "C1", "first_name": "Alexandra"})
    assert _invalid(parsed)["givenName"]["reason"] == "is 9 characters long; the limit is 5"


def test_a_number_or_text_without_letters_where_a_name_belongs_is_a_warning():
    parsed = parse_row(
        SHOP, "records", {"customer_no": 17, "first_name": 42, "last_name": "12345", "city": "Lyon"}
    )
    assert parsed["sourceId"] == "17"  # a numeric id is an id
    invalid = _invalid(parsed)
    assert invalid["givenName"] == {"value": "42", "reason": "is a number (42), not text"}
    assert invalid["familyName"]["reason"] == "has no letters ('12345')"
    assert parsed["props"]["givenName"] is None and parsed["props"]["familyName"] is None
    assert parsed["props"]["city"] == "Lyon"
    assert {w.field for w in parsed["warnings"]} == {"first_name", "last_name"}


def test_names_in_any_script_have_letters():
    parsed = parse_row(
        SHOP, "records", {"customer_no": "C1", "first_name": "明", "last_name": "Ødegård-Ng"}
    )
    assert parsed["warnings"] == []


def test_tabs_and_newlines_are_whitespace_not_control_characters():
    parsed = parse_row(SHOP, "records", {"customer_no": "C1", "first_name": "Ada\tMary\n"})
    assert parsed["props"]["givenName"] == "Ada Mary" and parsed["warnings"] == []


@given(st.text(max_size=50))
def test_text_problem_names_a_control_character_exactly_when_there_is_one(text):
    found = control_character(text)
    controls = [
        c
        for c in text
        if (ord(c) < 32 and c not in "\t\n\r")
        or 0x7F <= ord(c) <= 0x9F
        or 0xD800 <= ord(c) <= 0xDFFF
    ]
    assert (found is None) == (not controls)
    assert (text_problem(text, 1_000) is None) == (not controls)
