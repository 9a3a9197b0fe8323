"""Versioned match models: ``(:MatchModel {version, json, description, createdAt, active,
training})``.

A model is stored once per version (its content hash, so saving the same model twice changes
nothing) and at most one is ``active``: the one every process resolves with. A process reads
the active model at most every ``CACHE_TTL_S`` seconds (5 s), so a model activated by
``c360 model train`` in another process is used by a running API within that time and by this
process at once.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any, LiteralString

import neo4j

from graph.db import process_cache, read, translate_errors
from graph.errors import NotFound
from graph.settings import Settings

__all__ = [
    "CACHE_TTL_S",
    "StoredModel",
    "activate_model",
    "active_model",
    "list_models",
    "save_model",
]

CACHE_TTL_S = 5.0
_CACHE = process_cache()

_SAVE: LiteralString = """
MERGE (m:MatchModel {version: $version})
ON CREATE SET m.createdAt = datetime(), m.active = false
SET m.json = $json, m.description = $description, m.training = $training, m.tf = $tf
"""

_ACTIVATE: LiteralString = """
MATCH (m:MatchModel {version: $version})
CALL (m) {
  MATCH (other:MatchModel) WHERE other.active AND other <> m
  SET other.active = false
}
SET m.active = true, m.activatedAt = datetime()
RETURN m.version AS version
"""

_DEACTIVATE: LiteralString = """
MATCH (m:MatchModel) WHERE m.active
SET m.active = false
RETURN count(m) AS deactivated
"""

_ACTIVE: LiteralString = """
MATCH (m:MatchModel) WHERE m.active
RETURN m.version AS version, m.json AS json, m.description AS description,
       toString(m.createdAt) AS createdAt, m.training AS training, true AS active, m.tf AS tf
"""

_ONE: LiteralString = """
MATCH (m:MatchModel {version: $version})
RETURN m.version AS version, m.json AS json, m.description AS description,
       toString(m.createdAt) AS createdAt, m.training AS training, m.active AS active, m.tf AS tf
"""

_LIST: LiteralString = """
MATCH (m:MatchModel)
RETURN m.version AS version, null AS json, m.description AS description,
       toString(m.createdAt) AS createdAt, m.training AS training, m.active AS active,
       null AS tf
ORDER BY m.createdAt DESC
"""


@dataclass(frozen=True, slots=True)
class StoredModel:
    """A stored model: ``json`` (None in listings), ``training`` (JSON text of what training
    measured, None for a model that was not trained), ``created_at`` ISO text."""

    version: str
    json: str | None
    description: str
    created_at: str
    training: str | None
    active: bool
    tf: str | None = None  # JSON {counts: {field: {value: n}}, totals: {field: n}}


def _stored(row: neo4j.Record) -> StoredModel:
    return StoredModel(
        row["version"],
        row["json"],
        row["description"] or "",
        row["createdAt"],
        row["training"],
        bool(row["active"]),
        row["tf"],
    )


def save_model(
    driver: neo4j.Driver,
    settings: Settings,
    *,
    version: str,
    json_text: str,
    description: str = "",
    training: str | None = None,
    tf: str | None = None,
    activate: bool = False,
) -> None:
    """Store a model under ``version`` (idempotent) with its ``training`` report and term
    frequencies ``tf`` (JSON texts) and, with ``activate``, make it the active one in the same
    transaction."""

    def work(tx: neo4j.ManagedTransaction) -> None:
        tx.run(
            _SAVE,
            version=version,
            json=json_text,
            description=description,
            training=training,
            tf=tf,
        ).consume()
        if activate:
            tx.run(_ACTIVATE, version=version).consume()

    with translate_errors(settings), driver.session(database=settings.neo4j_database) as s:
        s.execute_write(work)
    _CACHE.clear()


def activate_model(driver: neo4j.Driver, settings: Settings, version: str) -> None:
    """Make the stored model ``version`` the active one; raises :class:`NotFound`."""
    with translate_errors(settings):
        rows, _, _ = driver.execute_query(
            _ACTIVATE, version=version, database_=settings.neo4j_database
        )
    _CACHE.clear()
    if not rows:
        raise NotFound(f"no stored match model {version!r} (see `c360 model list`)")


def activate_default(driver: neo4j.Driver, settings: Settings) -> None:
    """Make no stored model active, so every process resolves with the packaged default
    again (stored versions are kept: ``activate_model`` brings one back). Idempotent."""
    with translate_errors(settings):
        driver.execute_query(_DEACTIVATE, database_=settings.neo4j_database)
    _CACHE.clear()


def active_model(driver: neo4j.Driver, settings: Settings) -> StoredModel | None:
    """The active model, or None when none was stored (then the packaged default applies)."""
    where = (settings.uri, settings.neo4j_database)
    cached: tuple[float, Any] | None = _CACHE.get(where)
    if cached is not None and time.monotonic() - cached[0] < CACHE_TTL_S:
        return cached[1]
    rows = read(driver, settings, _ACTIVE)
    found = _stored(rows[0]) if rows else None
    _CACHE[where] = (time.monotonic(), found)
    return found


def stored_model(driver: neo4j.Driver, settings: Settings, version: str) -> StoredModel | None:
    """The stored model ``version`` (active or not), None when there is none."""
    rows = read(driver, settings, _ONE, version=version)
    return _stored(rows[0]) if rows else None


def list_models(driver: neo4j.Driver, settings: Settings) -> list[StoredModel]:
    """Every stored model, newest first (without its JSON)."""
    return [_stored(row) for row in read(driver, settings, _LIST)]
