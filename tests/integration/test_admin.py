"""Operating commands against a real Neo4j: ``c360 db wipe``."""

from __future__ import annotations

from graph.cli import main


def _cli_env(monkeypatch, tmp_path, settings):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("NEO4J_URI", settings.uri)
    monkeypatch.setenv("NEO4J_USERNAME", settings.neo4j_username)
    monkeypatch.setenv("NEO4J_PASSWORD", settings.password())
    monkeypatch.setenv("NEO4J_DATABASE", settings.neo4j_database)


def _count(driver, settings, query) -> int:
    rows, _, _ = driver.execute_query(query, database_=settings.neo4j_database)
    return rows[0]["n"]


def test_db_wipe_needs_yes_then_empties_all_but_schema_and_migrations(
    neo4j_driver, settings, monkeypatch, capsys, tmp_path
):
    _cli_env(monkeypatch, tmp_path, settings)
    neo4j_driver.execute_query(
        "UNWIND range(1, 30) AS i CREATE (:Thing {i: i})-[:NEXT]->(:Thing)",
        database_=settings.neo4j_database,
    )
    assert main(["db", "wipe"]) == 1
    assert "--yes: is required" in capsys.readouterr().err
    assert _count(neo4j_driver, settings, "MATCH (t:Thing) RETURN count(t) AS n") == 60

    assert main(["db", "wipe", "--yes"]) == 0
    assert "deleted 60 nodes" in capsys.readouterr().out
    assert _count(neo4j_driver, settings, "MATCH (t:Thing) RETURN count(t) AS n") == 0
    assert _count(neo4j_driver, settings, "MATCH (m:__Neo4jMigration) RETURN count(m) AS n") > 1
    assert _count(neo4j_driver, settings, "SHOW CONSTRAINTS YIELD name RETURN count(*) AS n") > 5
