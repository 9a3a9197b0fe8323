"""Bulk first load (``c360 load``) against a real Neo4j: the same people as incremental
ingest, incremental ingest on top, the refusal of a non-empty database, and a killed load."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import neo4j
import pytest

from graph import db
from graph.demo.generate import generate
from graph.errors import Conflict
from graph.ingest import ingest_file, ingest_record
from graph.localneo4j import LocalNeo4j
from graph.services.bulkload import LoadFile, bulk_load
from graph.services.resolver import Resolver, resolve_after_ingest
from tests.integration.demo_graphs import people, register_demo_sources, unresolved


@pytest.fixture(scope="module")
def demo(tmp_path_factory) -> list[LoadFile]:
    directory = tmp_path_factory.mktemp("demo")
    manifest = generate(directory, 120, 23)
    return [LoadFile(f.source, directory / f.path, f.file_type) for f in manifest.files]


def incremental(driver, settings, files: list[LoadFile]) -> None:
    """What `c360 ingest` of each file does: records resolved per batch as they arrive."""
    hook = resolve_after_ingest(Resolver(driver, settings))
    for f in files:
        ingest_file(
            driver,
            settings,
            f.path,
            f.source,
            f.file_type,
            batch_size=40,
            show_progress=False,
            after_batch=hook,
        )


def count(driver, settings, label_query: str) -> int:
    rows, _, _ = driver.execute_query(label_query, database_=settings.neo4j_database)
    return rows[0]["n"]


@pytest.fixture
def replaced_store(session_driver):
    """The importer replaces the store: the session's driver must forget the bookmarks of
    the old one afterwards (they name transactions the new store never had)."""
    yield
    session_driver._query_bookmark_manager = neo4j.GraphDatabase.bookmark_manager()


def test_bulk_load_gives_the_same_people_as_incremental_ingest(neo4j_driver, settings, demo):
    register_demo_sources(neo4j_driver, settings)
    incremental(neo4j_driver, settings, demo)
    expected = people(neo4j_driver, settings)
    orders = count(
        neo4j_driver, settings, "MATCH (:SourceRecord)-[:PLACED]->(o) RETURN count(o) AS n"
    )

    db.wipe_data(neo4j_driver, settings)
    register_demo_sources(neo4j_driver, settings)
    report = bulk_load(settings, demo, use_import=False, show_progress=False)

    assert report.writer == "transactions"
    assert any(len(keys) > 1 for keys in expected)
    assert people(neo4j_driver, settings) == expected
    assert report.people == len(expected)
    assert unresolved(neo4j_driver, settings) == 0
    # the event files came in after the records and attached to them
    assert orders > 0
    assert (
        count(neo4j_driver, settings, "MATCH (:SourceRecord)-[:PLACED]->(o) RETURN count(o) AS n")
        == orders
    )


def test_bulk_load_refuses_a_non_empty_database_and_changes_nothing(neo4j_driver, settings, demo):
    register_demo_sources(neo4j_driver, settings)
    ingest_record(neo4j_driver, settings, "commerce", {"sourceId": "C1", "givenName": "Ann"})

    with pytest.raises(Conflict, match="not empty .*1 SourceRecord"):
        bulk_load(settings, demo, show_progress=False)

    assert count(neo4j_driver, settings, "MATCH (r:SourceRecord) RETURN count(r) AS n") == 1
    assert count(neo4j_driver, settings, "MATCH (p:Person) RETURN count(p) AS n") == 0


def _kill_during_import(settings, files: list[LoadFile]) -> None:
    """Run `c360 load` in a process of its own and kill it (and its importer) while
    neo4j-admin is writing the new store."""
    env = dict(
        os.environ,
        C360_NEO4J_HOME=str(settings.local_home),
        C360_BOLT_PORT=str(settings.bolt_port),
        C360_HTTP_PORT=str(settings.http_port),
        NEO4J_PASSWORD=settings.password(),
        NEO4J_DATABASE=settings.neo4j_database,
    )
    env.pop("NEO4J_URI", None)
    staging = LocalNeo4j(settings).staging_home
    proc = subprocess.Popen(
        [
            str(Path(sys.executable).with_name("c360")),
            "load",
            *(f"{f.source}={f.path}" for f in files),
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 120
        while not (staging / "data" / "databases").exists():
            assert proc.poll() is None, "the load ended before the importer wrote anything"
            assert time.monotonic() < deadline, "the importer never started"
            time.sleep(0.05)
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


@pytest.mark.usefixtures("replaced_store")
def test_a_killed_import_leaves_the_database_empty_and_a_new_load_completes_it(
    neo4j_driver, settings, demo
):
    if not settings.uses_local_server:
        pytest.skip("neo4j-admin import needs the local server (NEO4J_URI or Docker is used)")
    records = [f for f in demo if f.file_type == "records"]
    first, last = records[:-1], records[-1:]
    register_demo_sources(neo4j_driver, settings)
    incremental(neo4j_driver, settings, records)
    expected = people(neo4j_driver, settings)
    db.wipe_data(neo4j_driver, settings)
    register_demo_sources(neo4j_driver, settings)

    _kill_during_import(settings, first)

    assert LocalNeo4j(settings).status().running
    assert count(neo4j_driver, settings, "MATCH (r:SourceRecord) RETURN count(r) AS n") == 0

    report = bulk_load(settings, first, show_progress=False)
    assert report.writer == "neo4j-admin import"
    # what the killed load left beside the store is gone with the new load's own files
    assert not LocalNeo4j(settings).staging_home.exists()
    assert not (settings.local_home / "import-csv").exists()
    driver = db.connect(settings)  # the store was replaced: a driver of the new one
    try:
        assert count(driver, settings, "MATCH (s:Source) RETURN count(s) AS n") == 4
        constraints = count(driver, settings, "SHOW CONSTRAINTS YIELD name RETURN count(*) AS n")
        assert constraints > 0
        assert count(driver, settings, "MATCH (p:Person) RETURN count(p) AS n") == report.people
        # identifiers carry their display mask (Neo4j Browser's caption) from the importer too
        unmasked = "MATCH (i:Identifier) WHERE i.masked IS NULL RETURN count(i) AS n"
        assert count(driver, settings, unmasked) == 0
        # later records resolve incrementally on top, to the same people
        incremental(driver, settings, last)
        assert people(driver, settings) == expected
        assert unresolved(driver, settings) == 0
    finally:
        driver.close()
