"""``c360 ingest``: where the errors file goes (``--errors``), and a file whose name says nothing
of its type; both are checked before a row is ingested."""

from __future__ import annotations

import csv

from graph.cli import main
from graph.store import sources
from graph.store.sources import validate_source

BAD_ROWS = "customer_no,email\n,a@example.com\nC2,not-an-email\n"


def _cli_env(monkeypatch, tmp_path, settings):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("NEO4J_URI", settings.uri)
    monkeypatch.setenv("NEO4J_USERNAME", settings.neo4j_username)
    monkeypatch.setenv("NEO4J_PASSWORD", settings.password())
    monkeypatch.setenv("NEO4J_DATABASE", settings.neo4j_database)


def _count_records(driver, settings) -> int:
    records, _, _ = driver.execute_query(
        "MATCH (r:SourceRecord) RETURN count(r) AS n", database_=settings.neo4j_database
    )
    return records[0]["n"]


def _rows(path):
    with path.open(encoding="utf-8") as fh:
        return [(r["line"], r["severity"], r["field"]) for r in csv.DictReader(fh)]


def test_errors_go_where_errors_says_a_file_or_a_folder(
    neo4j_driver, settings, monkeypatch, capsys, tmp_path
):
    sources.register_source(neo4j_driver, settings, validate_source("shop", "COMMERCE", "S", 1))
    _cli_env(monkeypatch, tmp_path, settings)
    data = tmp_path / "in"
    data.mkdir()
    (data / "customers.csv").write_text(BAD_ROWS)
    (data / "more_customers.csv").write_text(BAD_ROWS.replace("C2", "C3"))
    report = tmp_path / "report.csv"
    assert (
        main(["ingest", str(data / "customers.csv"), "--source", "shop", "--errors", str(report)])
        == 3
    )
    assert _rows(report) == [("2", "ERROR", "customer_no"), ("3", "WARNING", "email")]
    assert not (data / "customers.csv.errors.csv").exists()
    assert str(report) in capsys.readouterr().out

    folder = tmp_path / "reports"
    folder.mkdir()
    files = [str(data / "customers.csv"), str(data / "more_customers.csv")]
    assert main(["ingest", *files, "--source", "shop", "--errors", str(folder)]) == 3
    assert sorted(p.name for p in folder.iterdir()) == [
        "customers.csv.errors.csv",
        "more_customers.csv.errors.csv",
    ]
    assert _count_records(neo4j_driver, settings) == 2  # C2 and C3; the rows without id rejected


def test_an_errors_file_for_several_inputs_or_in_a_missing_folder_is_refused_before_ingesting(
    neo4j_driver, settings, monkeypatch, capsys, tmp_path
):
    sources.register_source(neo4j_driver, settings, validate_source("shop", "COMMERCE", "S", 1))
    _cli_env(monkeypatch, tmp_path, settings)
    (tmp_path / "customers.csv").write_text(BAD_ROWS)
    (tmp_path / "contacts.csv").write_text(BAD_ROWS)
    status = main(
        ["ingest", "customers.csv", "contacts.csv", "--source", "shop", "--errors", "one.csv"]
    )
    assert status == 2 and "give a folder" in capsys.readouterr().err
    status = main(["ingest", "customers.csv", "--source", "shop", "--errors", "nowhere/e.csv"])
    err = capsys.readouterr().err
    assert status == 2 and "cannot write the errors file nowhere/e.csv" in err
    assert _count_records(neo4j_driver, settings) == 0


def test_a_file_name_naming_no_type_is_refused_with_the_accepted_types(
    neo4j_driver, settings, monkeypatch, capsys, tmp_path
):
    sources.register_source(neo4j_driver, settings, validate_source("shop", "COMMERCE", "S", 1))
    _cli_env(monkeypatch, tmp_path, settings)
    (tmp_path / "customers.csv").write_text(BAD_ROWS)
    (tmp_path / "febrl1.jsonl").write_text('{"customer_no": "F1"}\n')
    assert main(["ingest", "customers.csv", "febrl1.jsonl", "--source", "shop"]) == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: type: cannot tell what febrl1.jsonl holds from its name")
    assert "pass --type with one of records, products, orders" in err
    assert "records: records, customers, contacts" in err and "\n" not in err
    assert _count_records(neo4j_driver, settings) == 0  # not even the good file before it
    assert main(["ingest", "febrl1.jsonl", "--source", "shop", "--type", "records"]) == 0
    assert _count_records(neo4j_driver, settings) == 1
