"""Versioned Cypher migrations, recorded the way neo4j-migrations records them.

Files are named ``V<version>__<Description_words>.cypher`` (``V0001__Create_constraints.cypher``)
and applied in version order, each once. Statements end with ``;`` followed by a newline.
The applied chain lives in the graph exactly as neo4j-migrations (Michael Simons,
https://github.com/michael-simons/neo4j-migrations) writes it, so a team using that tool can
read and continue our history:

    (:__Neo4jMigration {version: 'BASELINE'})
      -[:MIGRATED_TO {at, in, by, connectedAs}]->
    (:__Neo4jMigration {version, description, type: 'CYPHER', repeatable: false, source, checksum})
      -[:MIGRATED_TO]-> ...

``checksum`` is CRC32 over the UTF-8 bytes of the file's statements (split on ``;`` + newline,
trimmed, the trailing ``;`` removed, empty ones skipped), as an unsigned decimal string: the
algorithm of neo4j-migrations' ``DefaultCypherResource.computeChecksum``.

A migration runs in one write transaction, all or nothing. A data migration too big for one
transaction uses ``CALL { ... } IN TRANSACTIONS``, which Neo4j runs only in an auto-commit
transaction: a file holding such a statement has each statement run on its own, auto-commit,
in order (as neo4j-migrations does), so it must be written to be re-runnable after a failure
(``WHERE x.prop IS NULL``).
"""

from __future__ import annotations

import getpass
import re
import time
import uuid
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, LiteralString, cast

import neo4j
from neo4j import exceptions as neo4j_exceptions

from graph.db import translate_errors
from graph.errors import ChecksumMismatch, MigrationError
from graph.settings import Settings

__all__ = ["Migration", "MigrationInfo", "MigrationReport", "discover", "info", "migrate"]

_FILE_NAME = re.compile(r"^V(?P<version>\d+(?:_\d+)*)__(?P<description>\w+)\.cypher$")
_STATEMENT_END = re.compile(r";(?:\r\n|\r|\n)")
_IN_TRANSACTIONS = re.compile(r"\bIN\s+TRANSACTIONS\b", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class Migration:
    """One migration file: ``version`` as text ("0001"), its numeric ``order`` for sorting."""

    version: str
    description: str
    path: Path
    statements: tuple[str, ...]
    checksum: str

    @property
    def order(self) -> tuple[int, ...]:
        return tuple(int(part) for part in self.version.split("."))

    @property
    def source(self) -> str:
        return self.path.name


@dataclass(frozen=True, slots=True)
class MigrationInfo:
    """One row of ``c360 migrate --info``: ``state`` is APPLIED or PENDING."""

    version: str
    description: str
    state: str
    source: str
    checksum: str
    installed_on: str | None = None
    installed_by: str | None = None
    execution_ms: int | None = None


@dataclass(frozen=True, slots=True)
class MigrationReport:
    """What a ``migrate`` run did: the versions it applied (empty when already current)."""

    applied: tuple[str, ...]
    current_version: str | None


def split_statements(text: str) -> tuple[str, ...]:
    """Split a script into statements the way neo4j-migrations does (see module docstring)."""
    text = text.removeprefix("\ufeff")
    parts = (part.strip() for part in _STATEMENT_END.split(text))
    return tuple(s for s in (re.sub(r";$", "", p).strip() for p in parts) if s)


def checksum(statements: tuple[str, ...]) -> str:
    """CRC32 over the UTF-8 bytes of all statements, as an unsigned decimal string."""
    crc = 0
    for statement in statements:
        crc = zlib.crc32(statement.encode("utf-8"), crc)
    return str(crc & 0xFFFFFFFF)


def discover(directory: Path) -> list[Migration]:
    """Read every ``*.cypher`` file in ``directory`` and return them sorted by version.

    Raises :class:`MigrationError` naming the file when a name does not follow the
    ``V<version>__<Description>.cypher`` pattern, when two files share a version, or when a
    file has no statement.
    """
    if not directory.is_dir():
        raise MigrationError(f"migrations folder {directory} does not exist")
    migrations: dict[tuple[int, ...], Migration] = {}
    for path in sorted(directory.glob("*.cypher")):
        match = _FILE_NAME.match(path.name)
        if match is None:
            raise MigrationError(
                f"{path.name}: not a migration name; expected V<version>__<Description>.cypher, "
                "for example V0002__Add_person_indexes.cypher"
            )
        statements = split_statements(path.read_text(encoding="utf-8"))
        if not statements:
            raise MigrationError(f"{path.name}: contains no Cypher statement")
        migration = Migration(
            version=match["version"].replace("_", "."),
            description=match["description"].replace("_", " "),
            path=path,
            statements=statements,
            checksum=checksum(statements),
        )
        if (other := migrations.get(migration.order)) is not None:
            raise MigrationError(
                f"{path.name} and {other.source} both claim version {migration.version}"
            )
        migrations[migration.order] = migration
    return [migrations[k] for k in sorted(migrations)]


_APPLIED: LiteralString = """
MATCH (b:__Neo4jMigration {version: 'BASELINE'})
WHERE b.migrationTarget IS NULL
MATCH p = (b)-[:MIGRATED_TO*]->(m:__Neo4jMigration)
WITH m, last(relationships(p)) AS r
RETURN m.version AS version, m.description AS description, m.source AS source,
       m.checksum AS checksum, toString(r.at) AS at, r.by AS by,
       r.in.milliseconds AS ms
"""

_RECORD: LiteralString = """
MERGE (b:__Neo4jMigration {version: 'BASELINE'})
WITH b
MATCH (tail:__Neo4jMigration)
WHERE tail.migrationTarget IS NULL
  AND (tail = b OR (b)-[:MIGRATED_TO*]->(tail))
  AND NOT (tail)-[:MIGRATED_TO]->(:__Neo4jMigration)
CREATE (m:__Neo4jMigration {version: $version, description: $description, type: 'CYPHER',
        repeatable: false, source: $source, checksum: $checksum})
CREATE (tail)-[:MIGRATED_TO {at: datetime({timezone: 'UTC'}),
        in: duration({milliseconds: $ms}), by: $by, connectedAs: $connectedAs}]->(m)
"""

_LOCK_CONSTRAINT: LiteralString = (
    "CREATE CONSTRAINT __Neo4jMigrationsLock__has_unique_name IF NOT EXISTS "
    "FOR (l:__Neo4jMigrationsLock) REQUIRE l.name IS UNIQUE"
)
_LOCK: LiteralString = "CREATE (:__Neo4jMigrationsLock {id: $id, name: 'John Doe'})"
_UNLOCK: LiteralString = "MATCH (l:__Neo4jMigrationsLock {id: $id}) DELETE l"


def _applied(driver: neo4j.Driver, settings: Settings) -> list[dict[str, Any]]:
    records, _, _ = driver.execute_query(
        _APPLIED, database_=settings.neo4j_database, routing_=neo4j.RoutingControl.READ
    )
    return [dict(r) for r in records]


def _check(local: list[Migration], applied: list[dict[str, Any]]) -> None:
    by_version = {m.version: m for m in local}
    for row in applied:
        migration = by_version.get(row["version"])
        if migration is None:
            raise MigrationError(
                f"version {row['version']} ({row['source']}) is applied in the database but its "
                "file is missing from the migrations folder"
            )
        if migration.checksum != row["checksum"]:
            raise ChecksumMismatch(
                f"{migration.source} was edited after it was applied (checksum "
                f"{row['checksum']} in the database, {migration.checksum} on disk): put the "
                "change in a new migration file and restore this one"
            )


def info(driver: neo4j.Driver, settings: Settings) -> list[MigrationInfo]:
    """List applied and pending migrations in version order.

    Raises :class:`ChecksumMismatch` when an applied file was edited and
    :class:`MigrationError` for unreadable files.
    """
    local = discover(settings.migrations_dir)
    with translate_errors(settings):
        applied = _applied(driver, settings)
    _check(local, applied)
    done = {row["version"]: row for row in applied}
    rows = []
    for m in local:
        row = done.get(m.version)
        rows.append(
            MigrationInfo(
                version=m.version,
                description=m.description,
                source=m.source,
                checksum=m.checksum,
                state="APPLIED" if row else "PENDING",
                installed_on=row["at"] if row else None,
                installed_by=row["by"] if row else None,
                execution_ms=row["ms"] if row else None,
            )
        )
    return rows


def migrate(driver: neo4j.Driver, settings: Settings, *, log=print) -> MigrationReport:
    """Apply every pending migration in version order, each in its own transaction.

    Returns the versions applied (empty when the database was current: running it twice
    changes nothing). Raises :class:`ChecksumMismatch` before applying anything when an
    applied file was edited, and :class:`MigrationError` when a statement fails (the failing
    migration is not recorded, so the next run retries it) or another migrate holds the lock.
    """
    local = discover(settings.migrations_dir)
    db = settings.neo4j_database
    lock_id = str(uuid.uuid4())
    with translate_errors(settings):
        driver.execute_query(_LOCK_CONSTRAINT, database_=db)
        try:
            driver.execute_query(_LOCK, id=lock_id, database_=db)
        except neo4j_exceptions.ConstraintError as exc:
            raise MigrationError(
                "another migrate holds the lock; if none is running, remove it with "
                "MATCH (l:__Neo4jMigrationsLock) DELETE l"
            ) from exc
        try:
            applied = _applied(driver, settings)
            _check(local, applied)
            done = {row["version"] for row in applied}
            newer = [m for m in local if m.version not in done]
            applied_now = []
            for m in newer:
                _apply(driver, settings, m)
                applied_now.append(m.version)
                log(f"applied {m.source}")
        finally:
            driver.execute_query(_UNLOCK, id=lock_id, database_=db)
    current = local[-1].version if local and (applied_now or applied) else None
    return MigrationReport(tuple(applied_now), current)


def _apply(driver: neo4j.Driver, settings: Settings, m: Migration) -> None:
    started = time.monotonic()

    def run_all(tx: neo4j.ManagedTransaction) -> None:
        for statement in m.statements:
            # Trusted text from the project's own migration files, never user input.
            tx.run(cast(LiteralString, statement)).consume()

    try:
        with driver.session(database=settings.neo4j_database) as session:
            if any(_IN_TRANSACTIONS.search(s) for s in m.statements):
                for statement in m.statements:
                    session.run(cast(LiteralString, statement)).consume()
            else:
                session.execute_write(run_all)
    except neo4j_exceptions.Neo4jError as exc:
        raise MigrationError(f"{m.source} failed: {exc.message or exc}") from exc
    driver.execute_query(
        _RECORD,
        version=m.version,
        description=m.description,
        source=m.source,
        checksum=m.checksum,
        ms=int((time.monotonic() - started) * 1000),
        by=_os_user(),
        connectedAs=settings.neo4j_username,
        database_=settings.neo4j_database,
    )


def _os_user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"
