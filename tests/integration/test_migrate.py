from __future__ import annotations

import shutil

import pytest

from graph import migrate
from graph.errors import ChecksumMismatch, MigrationError
from graph.settings import PROJECT_ROOT

CHAIN = """
MATCH p = (:__Neo4jMigration {version: 'BASELINE'})-[:MIGRATED_TO*]->(m:__Neo4jMigration)
RETURN m.version AS version, m.checksum AS checksum, m.type AS type, m.source AS source,
       m.repeatable AS repeatable, last(relationships(p)) AS r
ORDER BY length(p)
"""


@pytest.fixture
def own_chain(neo4j_driver, settings, tmp_path):
    """A migrations folder of the test's own, on a graph with no migration chain yet.

    Afterwards the test's chain is removed and the project's chain re-applied.
    """
    neo4j_driver.execute_query(
        "MATCH (m:__Neo4jMigration) DETACH DELETE m", database_=settings.neo4j_database
    )
    folder = tmp_path / "cypher"
    shutil.copytree(PROJECT_ROOT / "cypher", folder)
    yield settings.model_copy(update={"migrations_dir": folder}), folder
    neo4j_driver.execute_query(
        "MATCH (m:__Neo4jMigration) DETACH DELETE m", database_=settings.neo4j_database
    )
    neo4j_driver.execute_query(
        "DROP INDEX test_thing_name IF EXISTS", database_=settings.neo4j_database
    )
    migrate.migrate(neo4j_driver, settings, log=lambda m: None)


def _chain(driver, settings):
    records, _, _ = driver.execute_query(CHAIN, database_=settings.neo4j_database)
    return records


def test_migrate_records_each_version_in_the_neo4j_migrations_chain(neo4j_driver, own_chain):
    settings, folder = own_chain
    (folder / "V9000__Add_thing_index.cypher").write_text(
        "CREATE INDEX test_thing_name IF NOT EXISTS FOR (t:Thing) ON (t.name);\n"
    )
    report = migrate.migrate(neo4j_driver, settings, log=lambda m: None)
    assert report.applied[-1] == "9000"
    chain = _chain(neo4j_driver, settings)
    assert [r["version"] for r in chain] == [m.version for m in migrate.discover(folder)]
    last = chain[-1]
    assert last["type"] == "CYPHER" and last["repeatable"] is False
    assert last["source"] == "V9000__Add_thing_index.cypher"
    assert last["checksum"] == migrate.discover(folder)[-1].checksum
    assert set(last["r"].keys()) == {"at", "in", "by", "connectedAs"}
    assert last["r"]["connectedAs"] == settings.neo4j_username
    indexes, _, _ = neo4j_driver.execute_query(
        "SHOW INDEXES YIELD name WHERE name = 'test_thing_name' RETURN name",
        database_=settings.neo4j_database,
    )
    assert len(indexes) == 1


def test_running_migrate_again_changes_nothing(neo4j_driver, own_chain):
    settings, _ = own_chain
    migrate.migrate(neo4j_driver, settings, log=lambda m: None)
    before_chain = [
        (r["version"], r["checksum"], r["r"]["at"]) for r in _chain(neo4j_driver, settings)
    ]
    before_schema, _, _ = neo4j_driver.execute_query(
        "SHOW CONSTRAINTS YIELD name RETURN collect(name) AS n", database_=settings.neo4j_database
    )
    second = migrate.migrate(neo4j_driver, settings, log=lambda m: None)
    assert second.applied == ()
    after_chain = [
        (r["version"], r["checksum"], r["r"]["at"]) for r in _chain(neo4j_driver, settings)
    ]
    after_schema, _, _ = neo4j_driver.execute_query(
        "SHOW CONSTRAINTS YIELD name RETURN collect(name) AS n", database_=settings.neo4j_database
    )
    assert after_chain == before_chain
    assert sorted(after_schema[0]["n"]) == sorted(before_schema[0]["n"])
    nodes, _, _ = neo4j_driver.execute_query(
        "MATCH (n) WHERE NOT n:__Neo4jMigration RETURN count(n) AS c",
        database_=settings.neo4j_database,
    )
    assert nodes[0]["c"] == 0  # the lock was released


def test_edited_applied_migration_is_refused_naming_the_file(neo4j_driver, own_chain):
    settings, folder = own_chain
    path = folder / "V9000__Add_thing_index.cypher"
    path.write_text("CREATE INDEX test_thing_name IF NOT EXISTS FOR (t:Thing) ON (t.name);\n")
    migrate.migrate(neo4j_driver, settings, log=lambda m: None)
    path.write_text("CREATE INDEX test_thing_name IF NOT EXISTS FOR (t:Thing) ON (t.title);\n")
    (folder / "V9001__Later.cypher").write_text(
        "CREATE INDEX test_later IF NOT EXISTS FOR (t:Thing) ON (t.x);\n"
    )
    with pytest.raises(ChecksumMismatch, match="V9000__Add_thing_index.cypher"):
        migrate.migrate(neo4j_driver, settings, log=lambda m: None)
    with pytest.raises(ChecksumMismatch):
        migrate.info(neo4j_driver, settings)
    assert [r["version"] for r in _chain(neo4j_driver, settings)][-1] == "9000"  # 9001 not applied


def test_info_lists_applied_and_pending_in_version_order(neo4j_driver, own_chain):
    settings, folder = own_chain
    migrate.migrate(neo4j_driver, settings, log=lambda m: None)
    (folder / "V9000__Add_thing_index.cypher").write_text(
        "CREATE INDEX test_thing_name IF NOT EXISTS FOR (t:Thing) ON (t.name);\n"
    )
    rows = migrate.info(neo4j_driver, settings)
    assert [(r.version, r.state) for r in rows][-1] == ("9000", "PENDING")
    assert all(r.state == "APPLIED" and r.installed_on for r in rows[:-1])


def test_failing_migration_is_not_recorded_and_names_the_file(neo4j_driver, own_chain):
    settings, folder = own_chain
    (folder / "V9000__Broken.cypher").write_text("CREATE INDEX broken FOR;\n")
    with pytest.raises(MigrationError, match="V9000__Broken.cypher"):
        migrate.migrate(neo4j_driver, settings, log=lambda m: None)
    assert "9000" not in [r["version"] for r in _chain(neo4j_driver, settings)]


def test_project_schema_has_the_graph_model_constraints(neo4j_driver, settings):
    records, _, _ = neo4j_driver.execute_query(
        "SHOW CONSTRAINTS YIELD name, labelsOrTypes, properties RETURN name, labelsOrTypes[0] AS label, properties",
        database_=settings.neo4j_database,
    )
    unique = {(r["label"], tuple(r["properties"])) for r in records}
    for expected in [
        ("Source", ("id",)),
        ("SourceRecord", ("key",)),
        ("Identifier", ("type", "value")),
        ("Person", ("id",)),
        ("ResolutionEvent", ("id",)),
    ]:
        assert expected in unique


def test_a_batched_data_migration_runs_outside_one_transaction_and_is_recorded(
    neo4j_driver, own_chain
):
    settings, folder = own_chain
    neo4j_driver.execute_query(
        "UNWIND range(1, 25) AS n CREATE (:Thing {n: n})", database_=settings.neo4j_database
    )
    (folder / "V9000__Number_things.cypher").write_text(
        "MATCH (t:Thing) WHERE t.label IS NULL\n"
        "CALL (t) { SET t.label = 'thing ' + t.n } IN TRANSACTIONS OF 10 ROWS;\n"
    )
    try:
        report = migrate.migrate(neo4j_driver, settings, log=lambda m: None)
        assert report.applied[-1] == "9000"
        records, _, _ = neo4j_driver.execute_query(
            "MATCH (t:Thing) RETURN count(t.label) AS labelled", database_=settings.neo4j_database
        )
        assert records[0]["labelled"] == 25
    finally:
        neo4j_driver.execute_query(
            "MATCH (t:Thing) DETACH DELETE t", database_=settings.neo4j_database
        )


def test_identifiers_migration_masks_as_the_writers_do(neo4j_driver, settings):
    """V0009 backfills ``masked`` on identifiers stored before it existed, with the rule of
    :func:`graph.normalize.masking.masked_identifier` (the writers' rule)."""
    from graph.normalize.masking import masked_identifier

    samples = [
        # values no other test stores: (type, value) is unique
        ("EMAIL", "migration.jane@example.test"),
        ("EMAIL", "m@b.test"),
        ("EMAIL", "migration-no-at-sign"),
        ("PHONE", "+447700900999"),
        ("PHONE", "+1999"),
        ("NATIONAL_ID", "999456789"),
        ("LOYALTY_ID", "ZZ12"),
        ("DEVICE_ID", "migration-0001-x"),
    ]
    values = [{"type": t, "value": v} for t, v in samples]
    (script,) = next(
        m for m in migrate.discover(PROJECT_ROOT / "cypher") if m.version == "0009"
    ).statements
    try:
        neo4j_driver.execute_query(
            "UNWIND $values AS v CREATE (:Identifier {type: v.type, value: v.value, test: true})",
            values=values,
            database_=settings.neo4j_database,
        )
        with neo4j_driver.session(database=settings.neo4j_database) as session:
            session.run(script).consume()  # type: ignore[arg-type]
        records, _, _ = neo4j_driver.execute_query(
            "MATCH (i:Identifier {test: true}) RETURN i.type AS type, i.value AS value, "
            "i.masked AS masked",
            database_=settings.neo4j_database,
        )
        assert {(r["type"], r["value"]): r["masked"] for r in records} == {
            (t, v): masked_identifier(t, v) for t, v in samples
        }
    finally:
        neo4j_driver.execute_query(
            "MATCH (i:Identifier {test: true}) DETACH DELETE i", database_=settings.neo4j_database
        )
