"""Parsing one source record: what is refused, with the field named as the source names it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from graph.errors import ValidationError
from graph.ingest import parse_row
from graph.models import Source, SourceKind

SHOP = Source(id="shop", kind=SourceKind.COMMERCE, name="Shop", priority=10)


def _fields(row: dict) -> set[str]:
    with pytest.raises(ValidationError) as caught:
        parse_row(SHOP, "records", row)
    return {e.field for e in caught.value.errors}


def test_a_json_object_or_list_where_text_belongs_is_refused_not_stringified():
    assert _fields({"sourceId": "C1", "givenName": {"a": 1}, "familyName": ["x"]}) == {
        "givenName",
        "familyName",
    }
    assert _fields({"customer_no": {"id": 1}}) == {"customer_no"}  # named as the source does


def test_an_updated_at_in_the_future_is_refused_beyond_a_day_of_clock_skew():
    soon = (datetime.now(UTC) + timedelta(hours=2)).isoformat()
    assert parse_row(SHOP, "records", {"sourceId": "C1", "updatedAt": soon})["updatedAt"]
    assert _fields({"sourceId": "C1", "updatedAt": "2999-01-01T00:00:00Z"}) == {"updatedAt"}
