from __future__ import annotations

from pathlib import Path

import pytest

from graph.errors import ValidationError
from graph.ingest import guess_file_type
from graph.ingest.mappings import load_mapping_file, mapping_for, rename
from graph.ingest.reader import RowError, iter_rows
from graph.models import SourceKind
from graph.store.sources import validate_source


def test_valid_source_is_normalised():
    source = validate_source("eu-shop", "commerce", "  EU shop ", 40)
    assert (source.id, source.kind, source.name, source.priority) == (
        "eu-shop",
        SourceKind.COMMERCE,
        "EU shop",
        40,
    )


def test_invalid_source_names_every_bad_field_at_once():
    with pytest.raises(ValidationError) as info:
        validate_source("Bad Id!", "CRM", "", 5000, {"records": {"X": "shoeSize"}, "nope": {}})
    assert {e.field for e in info.value.errors} == {
        "id",
        "kind",
        "name",
        "priority",
        "mapping.records.X",
        "mapping.nope",
    }


@pytest.mark.parametrize(
    ("kind", "native", "canonical"),
    [
        (SourceKind.SERVICE, "PersonEmail", "email"),
        (SourceKind.SERVICE, "PersonMobilePhone", "phone"),
        (SourceKind.SERVICE, "FirstName", "givenName"),
        (SourceKind.MARKETING, "SubscriberKey", "sourceId"),
        (SourceKind.MARKETING, "EmailAddress", "email"),
        (SourceKind.COMMERCE, "customer_no", "sourceId"),
        (SourceKind.COMMERCE, "phone_home", "phone"),
        (SourceKind.STORE, "loyalty_card", "loyaltyId"),
    ],
)
def test_default_mappings_know_each_systems_native_names(kind, native, canonical):
    assert mapping_for(kind, "records")[native] == canonical


def test_rename_keeps_unmapped_fields_and_takes_first_non_empty_of_two_natives():
    mapping = mapping_for(SourceKind.COMMERCE, "records")
    canonical, extras = rename(
        {
            "customer_no": "C1",
            "phone_home": "",
            "phone_mobile": "0770",
            "email": "a@b.c",
            "shoe_size": 42,
        },
        mapping,
        "records",
    )
    assert canonical == {"sourceId": "C1", "phone": "0770", "email": "a@b.c"}
    assert extras == {"shoe_size": 42}


def test_override_wins_over_default_mapping():
    mapping = mapping_for(SourceKind.COMMERCE, "records", {"records": {"email": "loyaltyId"}})
    assert mapping["email"] == "loyaltyId"


def test_mapping_file_errors_name_the_bad_entries(tmp_path: Path):
    path = tmp_path / "m.toml"
    path.write_text('[records]\nMail = "email"\nShoe = "shoeSize"\n[widgets]\nA = "b"\n')
    with pytest.raises(ValidationError) as info:
        load_mapping_file(path)
    assert {e.field for e in info.value.errors} == {"mapping.records.Shoe", "mapping.widgets"}
    path.write_text('[records]\nMail = "email"\n')
    assert load_mapping_file(path) == {"records": {"Mail": "email"}}


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("orders.csv", "orders"),
        ("eu_order_lines.jsonl", "order_lines"),
        ("contacts.csv", "records"),
        ("shop-carts.jsonl", "carts"),
        ("consents.csv", "consents"),
        ("engagement.jsonl", "engagement"),
    ],
)
def test_file_type_is_guessed_from_the_name(name, expected):
    assert guess_file_type(Path(name)) == expected


def test_unguessable_file_type_asks_for_it():
    with pytest.raises(ValidationError, match="cannot tell what .* holds from its name"):
        guess_file_type(Path("dump.csv"))


def test_csv_rows_carry_their_physical_line_numbers(tmp_path: Path):
    path = tmp_path / "r.csv"
    path.write_text('id,note\n1,plain\n2,"two\nlines"\n3,"x",extra\n4,last\n')
    rows = list(iter_rows(path))
    assert [line for line, _ in rows] == [2, 3, 5, 6]
    assert isinstance(rows[2][1], RowError)
    assert rows[1][1] == {"id": "2", "note": "two\nlines"}


def test_csv_line_numbers_count_blank_lines_and_multi_line_cells(tmp_path: Path):
    path = tmp_path / "r.csv"
    path.write_text('id,note\n\n1,plain\n\n\n2,"two\n\nlines"\n\n3,"x",extra\n4,last\n\n')
    rows = list(iter_rows(path))
    assert [line for line, _ in rows] == [3, 6, 10, 11]
    assert rows[1][1] == {"id": "2", "note": "two\n\nlines"}
    assert isinstance(rows[2][1], RowError)
    assert (rows[2][1].line, str(rows[2][1])) == (10, "line 10: more cells than header columns")


def test_csv_short_row_has_none_for_missing_cells(tmp_path: Path):
    path = tmp_path / "r.csv"
    path.write_text(" id , note \n1\n")
    assert list(iter_rows(path)) == [(2, {"id": "1", "note": None})]


def test_unknown_file_format_is_refused(tmp_path: Path):
    with pytest.raises(ValidationError, match="unknown format"):
        list(iter_rows(tmp_path / "r.xlsx"))


def test_an_undecodable_csv_line_is_rejected_alone_with_its_line_number(tmp_path: Path):
    path = tmp_path / "records.csv"
    path.write_bytes(b"customer_no,first_name\nC1,Ann\nC2,Ren\xe9\nC3,Bo\n")
    rows = list(iter_rows(path))
    assert [line for line, _ in rows] == [2, 3, 4]
    assert rows[0][1] == {"customer_no": "C1", "first_name": "Ann"}
    assert isinstance(rows[1][1], RowError) and "not UTF-8" in rows[1][1].reason
    assert "0xe9" in rows[1][1].reason
    assert rows[2][1] == {"customer_no": "C3", "first_name": "Bo"}


def test_an_undecodable_jsonl_line_is_rejected_alone_with_its_line_number(tmp_path: Path):
    path = tmp_path / "records.jsonl"
    path.write_bytes(b'{"id": "1"}\n{"id": "2", "n": "Ren\xe9"}\n{"id": "3"}\n')
    rows = list(iter_rows(path))
    assert [line for line, _ in rows] == [1, 2, 3]
    assert isinstance(rows[1][1], RowError) and "not UTF-8" in rows[1][1].reason
    assert rows[2][1] == {"id": "3"}


def test_an_undecodable_csv_header_refuses_the_file(tmp_path: Path):
    path = tmp_path / "records.csv"
    path.write_bytes("customer_no,pr\xe9nom\nC1,Ann\n".encode("latin-1"))
    with pytest.raises(ValidationError, match="header.*not UTF-8"):
        list(iter_rows(path))
