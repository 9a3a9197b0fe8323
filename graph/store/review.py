"""The review queue: ``(:PossibleMatch {key, a, b, weight, comparisons, modelVersion,
createdAt, updatedAt})-[:BETWEEN]->(:SourceRecord)`` (twice).

A possible match is a candidate pair whose match weight lies between the model's review and
link thresholds and whose records are in different people. Resolution writes and clears them
(:mod:`graph.store.components`, in the transaction that decides); a steward accepts one (a
must-link) or rejects it (a cannot-link) through :class:`graph.services.resolver.Resolver`.
Pages are ordered by weight, strongest first, with a keyset cursor on ``(weight, key)``.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from typing import Any, LiteralString

import neo4j

from graph.db import read
from graph.errors import FieldError, ValidationError
from graph.settings import Settings

__all__ = [
    "PossibleMatch",
    "PossibleMatchPage",
    "decode_cursor",
    "encode_cursor",
    "pair_key",
    "possible_match",
    "possible_matches",
]

_PAGE: LiteralString = """
MATCH (x:PossibleMatch)
WHERE $afterWeight IS NULL OR x.weight < $afterWeight
   OR (x.weight = $afterWeight AND x.key > $afterKey)
WITH x ORDER BY x.weight DESC, x.key LIMIT $limit
OPTIONAL MATCH (pa:Person)-[:HAS_RECORD]->(:SourceRecord {key: x.a})
OPTIONAL MATCH (pb:Person)-[:HAS_RECORD]->(:SourceRecord {key: x.b})
RETURN x.key AS key, x.a AS a, x.b AS b, x.weight AS weight, x.comparisons AS comparisons,
       x.modelVersion AS modelVersion, toString(x.updatedAt) AS updatedAt,
       pa.id AS personA, pb.id AS personB
"""

_COUNT: LiteralString = "MATCH (x:PossibleMatch) RETURN count(x) AS n"

_ONE: LiteralString = """
MATCH (x:PossibleMatch {key: $key})
OPTIONAL MATCH (pa:Person)-[:HAS_RECORD]->(:SourceRecord {key: x.a})
OPTIONAL MATCH (pb:Person)-[:HAS_RECORD]->(:SourceRecord {key: x.b})
RETURN x.key AS key, x.a AS a, x.b AS b, x.weight AS weight, x.comparisons AS comparisons,
       x.modelVersion AS modelVersion, toString(x.updatedAt) AS updatedAt,
       pa.id AS personA, pb.id AS personB
"""


def pair_key(a: str, b: str) -> str:
    """The key of the possible match between records ``a`` and ``b`` (order-free)."""
    first, second = sorted((a, b))
    return f"{first}|{second}"


@dataclass(frozen=True, slots=True)
class PossibleMatch:
    """A pair for a steward: record keys ``a`` < ``b``, their people now, the match weight
    (bits), ``comparisons`` (comparison -> {level, weight}) and the model version."""

    key: str
    a: str
    b: str
    weight: float
    comparisons: dict[str, dict[str, Any]]
    model_version: str | None
    updated_at: str | None
    person_a: str | None
    person_b: str | None


@dataclass(frozen=True, slots=True)
class PossibleMatchPage:
    """One page of the queue and the size of the whole queue."""

    matches: list[PossibleMatch]
    total: int
    has_next: bool


def _match(row: neo4j.Record) -> PossibleMatch:
    return PossibleMatch(
        row["key"],
        row["a"],
        row["b"],
        float(row["weight"]),
        json.loads(row["comparisons"] or "{}"),
        row["modelVersion"],
        row["updatedAt"],
        row["personA"],
        row["personB"],
    )


def encode_cursor(match: PossibleMatch) -> str:
    """An opaque cursor after ``match``."""
    return base64.urlsafe_b64encode(json.dumps([match.weight, match.key]).encode()).decode()


def decode_cursor(cursor: str) -> tuple[float, str]:
    """``(weight, key)`` of a cursor; raises :class:`ValidationError` on field ``after``."""
    try:
        weight, key = json.loads(base64.urlsafe_b64decode(cursor.encode()))
        return float(weight), str(key)
    except (ValueError, TypeError, UnicodeDecodeError):
        raise ValidationError(FieldError("after", "is not a cursor of this list")) from None


def possible_matches(
    driver: neo4j.Driver, settings: Settings, *, first: int, after: str | None = None
) -> PossibleMatchPage:
    """Up to ``first`` possible matches after the cursor ``after``, strongest first."""
    if first < 0:
        raise ValidationError(FieldError("first", "must not be negative"))
    weight, key = decode_cursor(after) if after else (None, "")
    rows = read(driver, settings, _PAGE, afterWeight=weight, afterKey=key, limit=first + 1)
    total = read(driver, settings, _COUNT)[0]["n"]
    matches = [_match(r) for r in rows[:first]]
    return PossibleMatchPage(matches, int(total), len(rows) > first)


def possible_match(driver: neo4j.Driver, settings: Settings, key: str) -> PossibleMatch | None:
    """The possible match ``key`` (``a|b``), or None."""
    rows = read(driver, settings, _ONE, key=key)
    return _match(rows[0]) if rows else None
