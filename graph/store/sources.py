"""Registered sources: ``(:Source {id, kind, name, priority, mapping, createdAt})``.

A source is one system instance that sends records (a service desk, a marketing platform ...).
Records are only accepted for registered sources; registering again updates name, kind,
priority and mapping and keeps ``createdAt`` (idempotent).
"""

from __future__ import annotations

import json
import re
import shlex
import time
from collections.abc import Mapping
from typing import LiteralString

import neo4j

from graph.db import process_cache, translate_errors
from graph.errors import FieldError, NotFound, ValidationError
from graph.models import CANONICAL_NAMES, Source, SourceKind
from graph.settings import Settings

__all__ = ["get_source", "list_sources", "register_source", "require_source", "validate_source"]

_ID = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,63}$")

_UPSERT: LiteralString = """
MERGE (s:Source {id: $id})
ON CREATE SET s.createdAt = datetime()
SET s.kind = $kind, s.name = $name, s.priority = $priority, s.mapping = $mapping
RETURN s {.*, createdAt: toString(s.createdAt)} AS s
"""

_GET: LiteralString = """
MATCH (s:Source {id: $id})
RETURN s {.*, createdAt: toString(s.createdAt)} AS s
"""

_LIST: LiteralString = """
MATCH (s:Source)
RETURN s {.*, createdAt: toString(s.createdAt)} AS s
ORDER BY s.id
"""


def validate_source(
    id: str,
    kind: str,
    name: str,
    priority: int = 0,
    mapping: Mapping[str, Mapping[str, str]] | None = None,
) -> Source:
    """Check a source definition and return it as a :class:`Source`.

    ``id``: 1-64 of ``a-z 0-9 _ . -``, starting with a letter or digit. ``kind``: one of
    SERVICE, MARKETING, COMMERCE, STORE, OTHER (any case). ``priority``: 0-1000, higher wins
    source-priority reconciliation. Raises :class:`ValidationError` listing every bad field.
    """
    errors: list[FieldError] = []
    if not isinstance(id, str) or not _ID.match(id):
        errors.append(
            FieldError(
                "id", "must be 1-64 characters of a-z, 0-9, '_', '.', '-', starting with a-z or 0-9"
            )
        )
    try:
        source_kind = SourceKind(str(kind).upper())
    except ValueError:
        kinds = ", ".join(k.value for k in SourceKind)
        errors.append(FieldError("kind", f"must be one of {kinds}"))
        source_kind = SourceKind.OTHER
    if not isinstance(name, str) or not name.strip():
        errors.append(FieldError("name", "must not be empty"))
    if isinstance(priority, bool) or not isinstance(priority, int) or not 0 <= priority <= 1000:
        errors.append(FieldError("priority", "must be a whole number from 0 to 1000"))
    clean_mapping: dict[str, dict[str, str]] = {}
    for file_type, table in (mapping or {}).items():
        names = CANONICAL_NAMES.get(file_type)
        if names is None:
            errors.append(FieldError(f"mapping.{file_type}", "unknown file type"))
            continue
        for native, target in table.items():
            if target not in names:
                errors.append(
                    FieldError(
                        f"mapping.{file_type}.{native}", f"{target!r} is not a canonical field"
                    )
                )
        clean_mapping[file_type] = dict(table)
    if errors:
        raise ValidationError(errors)
    return Source(
        id=id, kind=source_kind, name=name.strip(), priority=priority, mapping=clean_mapping
    )


#: Seconds a looked-up source is reused by :func:`require_source` in this process.
CACHE_TTL_S = 30.0
_CACHE: dict[tuple[str, str, str], tuple[float, Source]] = process_cache()


def register_source(driver: neo4j.Driver, settings: Settings, source: Source) -> Source:
    """Create or update ``source`` in the graph (idempotent); returns it as stored."""
    with translate_errors(settings):
        records, _, _ = driver.execute_query(
            _UPSERT,
            id=source.id,
            kind=source.kind.value,
            name=source.name,
            priority=source.priority,
            mapping=json.dumps(source.mapping, sort_keys=True),
            database_=settings.neo4j_database,
        )
    stored = _to_source(records[0]["s"])
    _CACHE[(settings.uri, settings.neo4j_database, stored.id)] = (time.monotonic(), stored)
    return stored


def get_source(driver: neo4j.Driver, settings: Settings, id: str) -> Source | None:
    """The registered source ``id``, or None."""
    with translate_errors(settings):
        records, _, _ = driver.execute_query(
            _GET, id=id, database_=settings.neo4j_database, routing_=neo4j.RoutingControl.READ
        )
    return _to_source(records[0]["s"]) if records else None


def require_source(driver: neo4j.Driver, settings: Settings, id: str) -> Source:
    """Like :func:`get_source` but raises :class:`NotFound` naming the id for an unknown one.

    Used on every ingest, so a found source is reused for ``CACHE_TTL_S`` (30 s) in this
    process: a source re-registered by another process (new priority or mapping) is seen by
    a long-running API within that time; one registered here is seen at once. An unknown id
    is never cached.
    """
    where = (settings.uri, settings.neo4j_database, id)
    cached = _CACHE.get(where)
    if cached is not None and time.monotonic() - cached[0] < CACHE_TTL_S:
        return cached[1]
    source = get_source(driver, settings, id)
    if source is None:
        raise NotFound(
            f"source {id!r} is not registered; register it first (the registerSource "
            f"mutation, or `c360 sources add {shlex.quote(id)} --kind KIND --name NAME`)"
        )
    _CACHE[where] = (time.monotonic(), source)
    return source


def list_sources(driver: neo4j.Driver, settings: Settings) -> list[Source]:
    """Every registered source, ordered by id."""
    with translate_errors(settings):
        records, _, _ = driver.execute_query(
            _LIST, database_=settings.neo4j_database, routing_=neo4j.RoutingControl.READ
        )
    return [_to_source(r["s"]) for r in records]


def _to_source(props: Mapping[str, object]) -> Source:
    return Source(
        id=str(props["id"]),
        kind=SourceKind(str(props["kind"])),
        name=str(props["name"]),
        priority=int(props.get("priority") or 0),  # type: ignore[call-overload]
        mapping=json.loads(str(props.get("mapping") or "{}")),
        created_at=props.get("createdAt"),  # type: ignore[arg-type]
    )
