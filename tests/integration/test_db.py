from __future__ import annotations

import pytest

from graph import db
from graph.cli import main
from graph.errors import Neo4jAuthError, Neo4jUnavailable


def test_wrong_password_is_one_clear_error(settings):
    bad = settings.model_copy(
        update={"neo4j_password": settings.neo4j_password.__class__("wrong-password")}
    )
    with pytest.raises(Neo4jAuthError, match="refused user"):
        db.connect(bad)


def test_unreachable_server_is_one_clear_error(settings):
    bad = settings.model_copy(update={"neo4j_uri": "bolt://127.0.0.1:9"})
    with pytest.raises(Neo4jUnavailable, match="not reachable at bolt://127.0.0.1:9"):
        db.connect(bad)


def test_cli_reports_unreachable_server_in_one_line_without_traceback(
    monkeypatch, capsys, tmp_path
):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("NEO4J_URI", "bolt://127.0.0.1:9")
    monkeypatch.setenv("NEO4J_PASSWORD", "whatever-pass")
    assert main(["migrate"]) == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: Neo4j is not reachable") and "\n" not in err


def test_wipe_keeps_the_migration_chain(neo4j_driver, settings):
    neo4j_driver.execute_query(
        "UNWIND range(1, 25) AS i CREATE (:Thing {i: i})", database_=settings.neo4j_database
    )
    assert db.wipe_data(neo4j_driver, settings, batch=10) == 25
    records, _, _ = neo4j_driver.execute_query(
        "MATCH (m:__Neo4jMigration) RETURN count(m) AS c", database_=settings.neo4j_database
    )
    assert records[0]["c"] >= 2
