"""Demo graphs compared person for person: shared by the batch ingest and bulk load tests."""

from __future__ import annotations

from graph.demo.generate import DEMO_SOURCES
from graph.store import sources


def register_demo_sources(driver, settings) -> None:
    for demo in DEMO_SOURCES:
        sources.register_source(
            driver,
            settings,
            sources.validate_source(demo.id, demo.kind.value, demo.name, demo.priority),
        )


def people(driver, settings) -> list[list[str]]:
    """Every person as the sorted keys of its records (ids are random, membership is not)."""
    rows, _, _ = driver.execute_query(
        "MATCH (p:Person)-[:HAS_RECORD]->(r:SourceRecord) WITH p, collect(r.key) AS keys RETURN keys",
        database_=settings.neo4j_database,
    )
    return sorted(sorted(r["keys"]) for r in rows)


def unresolved(driver, settings) -> int:
    rows, _, _ = driver.execute_query(
        "MATCH (r:SourceRecord) WHERE r.placeholder IS NULL AND NOT (:Person)-[:HAS_RECORD]->(r) "
        "RETURN count(r) AS n",
        database_=settings.neo4j_database,
    )
    return rows[0]["n"]
