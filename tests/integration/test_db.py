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


def _cli_env(monkeypatch, tmp_path, settings):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("NEO4J_URI", settings.uri)
    monkeypatch.setenv("NEO4J_USERNAME", settings.neo4j_username)
    monkeypatch.setenv("NEO4J_PASSWORD", settings.password())
    monkeypatch.setenv("NEO4J_DATABASE", settings.neo4j_database)


def test_evaluate_on_an_empty_database_is_refused_naming_the_reason(
    neo4j_driver, settings, monkeypatch, capsys, tmp_path
):
    truth = tmp_path / "truth.csv"
    truth.write_text("key,personId\nshop:C1,P1\nshop:C2,P1\n")
    _cli_env(monkeypatch, tmp_path, settings)
    assert main(["evaluate", "--truth", str(truth)]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: database: ") and "holds no source records" in err
    assert "1.0000" not in err


def test_evaluate_counts_missing_truth_records_and_refuses_a_disjoint_truth(
    neo4j_driver, settings, monkeypatch, capsys, tmp_path
):
    from graph.ingest import ingest_record
    from graph.store import sources
    from graph.store.sources import validate_source

    sources.register_source(neo4j_driver, settings, validate_source("shop", "COMMERCE", "S", 1))
    ingest_record(neo4j_driver, settings, "shop", {"customer_no": "C1", "email": "a@example.com"})
    _cli_env(monkeypatch, tmp_path, settings)
    truth = tmp_path / "truth.csv"
    truth.write_text("key,personId\nshop:C1,P1\nshop:C2,P1\n")  # C2 never ingested
    assert main(["evaluate", "--truth", str(truth)]) == 0
    out = capsys.readouterr().out
    assert "recall     0.0000" in out and "1 truth records not in the database" in out
    assert "2 in the truth: 1 true entities, 2 predicted clusters" in out
    other = tmp_path / "other.csv"
    other.write_text("key,personId\nstore:S1,P1\n")
    assert main(["evaluate", "--truth", str(other)]) == 1
    assert "shares no record" in capsys.readouterr().err


def test_the_model_and_review_commands_from_an_empty_database_to_a_trained_model(
    neo4j_driver, settings, monkeypatch, capsys, tmp_path
):
    from graph.ingest import ingest_record
    from graph.store import sources
    from graph.store.sources import validate_source

    _cli_env(monkeypatch, tmp_path, settings)
    assert main(["model", "train"]) == 1
    assert "records: 0 resolvable records" in capsys.readouterr().err
    assert main(["model", "show"]) == 0
    shown = capsys.readouterr().out
    assert "packaged default " in shown and "(untrained)" in shown and "birthDate" in shown
    assert main(["review", "list"]) == 0
    assert capsys.readouterr().out.startswith("0 possible match(es)")
    assert main(["review", "accept", "crm:X|shop:Y"]) == 1
    assert "review queue" in capsys.readouterr().err

    sources.register_source(neo4j_driver, settings, validate_source("shop", "COMMERCE", "S", 1))
    for n, name in enumerate(["Ann", "Bob", "Cy", "Dee"]):
        ingest_record(
            neo4j_driver,
            settings,
            "shop",
            {
                "customer_no": f"C{n}",
                "FirstName": name,
                "LastName": "Lee",
                "birthDate": f"199{n}-01-02",
            },
        )
    assert main(["model", "train", "--sample-pairs", "100"]) == 0
    captured = capsys.readouterr()
    trained = captured.out
    assert "trained model" in trained and "on 4 records" in trained
    assert "warning: 4 records" in captured.err  # too few to estimate from
    assert main(["model", "list"]) == 0
    listed = capsys.readouterr().out.splitlines()
    assert listed[0].startswith("  ") and "packaged default" in listed[0]
    assert listed[1].startswith("* ")
    assert main(["model", "show"]) == 0
    shown = capsys.readouterr().out
    assert "stored model" in shown and "match weight of the candidate pairs" in shown
    first = shown.split()[2].rstrip(":")
    for n in range(4, 8):  # other data, another model
        ingest_record(
            neo4j_driver,
            settings,
            "shop",
            {"customer_no": f"C{n}", "FirstName": "Ann", "LastName": f"Lee{n}"},
        )
    assert main(["model", "train", "--sample-pairs", "100"]) == 0
    assert first not in capsys.readouterr().out
    assert main(["model", "show", first]) == 0  # a stored model that is no longer active
    assert f"stored model {first} (not active)" in capsys.readouterr().out
    assert main(["model", "show", "nosuchversion"]) == 1
    assert "no stored model 'nosuchversion'" in capsys.readouterr().err
    assert main(["model", "train", "--sample-pairs", "0"]) == 2
    assert "sample-pairs" in capsys.readouterr().err

    # back to the packaged default, and to a stored version again
    assert main(["model", "activate", "default"]) == 0
    assert "is active" in capsys.readouterr().out
    assert main(["model", "list"]) == 0
    listed = capsys.readouterr().out.splitlines()
    assert listed[0].startswith("* ") and not any(line.startswith("* ") for line in listed[1:])
    assert main(["model", "show"]) == 0
    assert "packaged default" in capsys.readouterr().out
    assert main(["model", "activate", first]) == 0
    capsys.readouterr()
    assert main(["model", "show"]) == 0
    assert f"stored model {first}:" in capsys.readouterr().out
