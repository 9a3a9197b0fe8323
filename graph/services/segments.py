"""Segments as data: define, version, count, page, preview and explain them, and the
segments a person belongs to now (all computed on demand, never materialised).

Each read runs ONE parameterized statement around the predicate compiled by
:mod:`graph.services.segment_cypher`; the consent a definition tests is the effective one
(latest event, with the opt-outs engagement implies, following records through merges and
splits).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, LiteralString

import neo4j

from graph.db import read
from graph.errors import Conflict, FieldError, NotFound, ValidationError
from graph.services.segment_cypher import CompiledSegment, compile_definition, param_name
from graph.services.segment_definition import (
    canonical_json,
    segment_references,
    validate_definition,
)
from graph.settings import Settings
from graph.store import segments as store
from graph.store.segments import SegmentView

__all__ = [
    "PREVIEW_SIZE",
    "Explanation",
    "Preview",
    "compile_segment",
    "count_members",
    "create_segment",
    "explain",
    "member_page",
    "members_head",
    "preview",
    "remove_segment",
    "segments_of_person",
    "update_segment",
]

PREVIEW_SIZE = 10
_MAX_NAME = 200

_EVERYONE: LiteralString = "MATCH (p:Person) WHERE "
_COUNT_TAIL: LiteralString = "\nRETURN count(p) AS n"
_AFTER: LiteralString = "($after IS NULL OR p.id > $after) AND "
_PAGE_TAIL: LiteralString = "\nWITH p ORDER BY p.id LIMIT $limit RETURN p.id AS id"


def members_head(compiled: CompiledSegment) -> LiteralString:
    """The start of a statement over the members: every person, or the people the compiled
    segment's anchor finds through indexes (each once), ending in ``WHERE `` for the
    predicate to follow."""
    if compiled.anchor is None:
        return _EVERYONE
    return "CALL () {\n" + compiled.anchor + "\nRETURN DISTINCT p\n}\nWITH p WHERE "


@dataclass(frozen=True, slots=True)
class Preview:
    """A definition's member count and its first :data:`PREVIEW_SIZE` members (360 IDs)."""

    count: int
    person_ids: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Explanation:
    """What a segment selects: ``words`` (a sentence), ``cypher`` (the count statement) and
    ``parameters`` (its values by name, times as ISO text)."""

    words: str
    cypher: str
    parameters: dict[str, Any]


def _lookup(driver: neo4j.Driver, settings: Settings) -> dict[str, dict[str, Any]]:
    return {s.id: s.definition for s in store.list_segments(driver, settings)}


def compile_segment(
    driver: neo4j.Driver,
    settings: Settings,
    definition: dict[str, Any],
    *,
    segment_id: str | None = None,
    as_of: datetime | None = None,
    prefix: LiteralString = "c",
) -> CompiledSegment:
    """Compile a validated definition against the segments stored now (for ``inSegment``).
    Raises :class:`ValidationError` for an unknown segment or a cycle, naming its path."""
    known = _lookup(driver, settings)
    return compile_definition(
        definition, known.get, as_of=as_of, segment_id=segment_id, prefix=prefix
    )


def _checked_name(name: str | None) -> str:
    text = (name or "").strip()
    if not text:
        raise ValidationError(FieldError("name", "must be a non-empty text"))
    if len(text) > _MAX_NAME:
        raise ValidationError(FieldError("name", f"must be at most {_MAX_NAME} characters"))
    return text


def _checked_id(segment_id: str | None) -> str:
    if segment_id is None:
        return "seg-" + secrets.token_hex(8)
    text = segment_id.strip()
    if not text or len(text) > 64 or not text.replace("-", "").replace("_", "").isalnum():
        raise ValidationError(
            FieldError("id", "must be 1-64 letters, digits, hyphens or underscores")
        )
    return text


def _save(
    driver: neo4j.Driver,
    settings: Settings,
    segment_id: str,
    name: str,
    definition: Any,
    actor: str,
    create: bool,
) -> SegmentView:
    normalised = validate_definition(definition)
    compile_segment(driver, settings, normalised, segment_id=segment_id)  # refs and cycles
    return store.save_segment(
        driver,
        settings,
        segment_id,
        name,
        canonical_json(normalised),
        actor=actor,
        at=datetime.now(UTC).isoformat(),
        create=create,
    )


def create_segment(
    driver: neo4j.Driver,
    settings: Settings,
    name: str,
    definition: Any,
    *,
    actor: str,
    segment_id: str | None = None,
) -> SegmentView:
    """Validate and store a new segment as version 1 (``segment_id`` default ``seg-<hex>``).

    ``definition`` is a dict or JSON text (:mod:`graph.services.segment_definition`). Raises
    :class:`ValidationError` with every problem by path (``definition.and[1]...``),
    :class:`Conflict` when the id is taken by another definition.
    """
    checked_name, checked_id = _checked_name(name), _checked_id(segment_id)
    return _save(driver, settings, checked_id, checked_name, definition, actor, True)


def update_segment(
    driver: neo4j.Driver,
    settings: Settings,
    segment_id: str,
    definition: Any,
    *,
    actor: str,
    name: str | None = None,
) -> SegmentView:
    """Store a new version of a segment (the old ones are kept; the same definition and name
    again add none). Raises :class:`NotFound`, :class:`ValidationError` (a definition reaching
    this segment through ``inSegment`` is a cycle)."""
    current = store.get_segment(driver, settings, segment_id)
    if current is None:
        raise NotFound(f"no segment with id {segment_id!r}")
    new_name = current.name if name is None else _checked_name(name)
    return _save(driver, settings, segment_id, new_name, definition, actor, False)


def remove_segment(
    driver: neo4j.Driver, settings: Settings, segment_id: str, *, actor: str
) -> None:
    """Delete a segment (its versions and exports stay recorded). Raises :class:`NotFound`,
    and :class:`Conflict` while another segment's definition refers to it."""
    users = sorted(
        s.id
        for s in store.list_segments(driver, settings)
        if segment_id in segment_references(s.definition) and s.id != segment_id
    )
    if users:
        raise Conflict(f"segment {segment_id!r} is used by segment(s) {', '.join(users)}")
    if not store.delete_segment(driver, settings, segment_id, actor=actor):
        raise NotFound(f"no segment with id {segment_id!r}")


def count_members(driver: neo4j.Driver, settings: Settings, compiled: CompiledSegment) -> int:
    """How many people the compiled segment holds now."""
    query = members_head(compiled) + compiled.predicate + _COUNT_TAIL
    rows = read(driver, settings, query, **compiled.params)
    return int(rows[0]["n"])


def member_page(
    driver: neo4j.Driver,
    settings: Settings,
    compiled: CompiledSegment,
    first: int,
    after: str | None = None,
) -> tuple[list[str], bool]:
    """Up to ``first`` member 360 IDs after the id ``after`` (keyset, by id), and whether
    more follow."""
    rows = read(
        driver,
        settings,
        members_head(compiled) + _AFTER + compiled.predicate + _PAGE_TAIL,
        after=after,
        limit=first + 1,
        **compiled.params,
    )
    ids = [r["id"] for r in rows]
    return ids[:first], len(ids) > first


def preview(
    driver: neo4j.Driver, settings: Settings, definition: Any, *, as_of: datetime | None = None
) -> Preview:
    """Count and first members of a definition that is not saved. Raises
    :class:`ValidationError` by path."""
    compiled = compile_segment(driver, settings, validate_definition(definition), as_of=as_of)
    ids, _ = member_page(driver, settings, compiled, PREVIEW_SIZE)
    return Preview(count_members(driver, settings, compiled), tuple(ids))


def explain(compiled: CompiledSegment) -> Explanation:
    """The words and the count statement of a compiled segment, with its parameters."""

    def plain(value: Any) -> Any:
        if isinstance(value, dict):
            return {k: plain(v) for k, v in value.items()}
        if isinstance(value, list):
            return [plain(v) for v in value]
        return value.isoformat() if hasattr(value, "isoformat") else value

    return Explanation(
        compiled.words,
        members_head(compiled) + compiled.predicate + _COUNT_TAIL,
        {k: plain(v) for k, v in compiled.params.items()},
    )


_OF_PERSON_HEAD: LiteralString = "MATCH (p:Person {id: $personId}) RETURN ["
_OF_PERSON_TAIL: LiteralString = "] AS hits"


def segments_of_person(
    driver: neo4j.Driver, settings: Settings, person_id: str, *, as_of: datetime | None = None
) -> list[SegmentView]:
    """The live segments the person belongs to now, by id: every segment's predicate tested
    on that one person in one statement."""
    live = store.list_segments(driver, settings)
    if not live:
        return []
    known = {s.id: s.definition for s in live}
    moment = as_of or datetime.now(UTC)
    tests: list[LiteralString] = []
    params: dict[str, Any] = {}
    for n, segment in enumerate(live):
        compiled = compile_definition(
            segment.definition, known.get, as_of=moment, prefix=param_name("s", n) + "c"
        )
        params.update(compiled.params)
        tests.append("coalesce(" + compiled.predicate + ", false)")
    query = _OF_PERSON_HEAD + ", ".join(tests) + _OF_PERSON_TAIL
    rows = read(driver, settings, query, personId=person_id, **params)
    if not rows:
        return []
    return [s for s, hit in zip(live, rows[0]["hits"], strict=True) if hit]
