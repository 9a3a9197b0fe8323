"""Nothing stuck, against a real Neo4j: a record is pending from the transaction that stores it
to the one that resolves it; every run resolves what is pending first; a re-sent record and a
retried ``ingestRecord`` never leave an orphan or make a second person."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from graph.cli import main
from graph.ingest import ingest_file, ingest_record
from graph.migrate import split_statements
from graph.services.bulkload import LoadFile, bulk_load
from graph.services.resolver import Resolver, resolve_after_ingest
from graph.settings import PROJECT_ROOT
from graph.store import integrity, records, sources
from graph.store.sources import validate_source

ROWS = [
    {"customer_no": "C1", "first_name": "Ada", "last_name": "Lovelace", "email": "ada@ex.com"},
    {"customer_no": "C2", "first_name": "Ada", "last_name": "Lovelace", "email": "ada@ex.com"},
    {"customer_no": "C3", "first_name": "Bob", "last_name": "Stone", "email": "bob@ex.com"},
    {"customer_no": "C4", "first_name": "Cy", "last_name": "Young", "email": "cy@ex.com"},
]


def _q(driver, settings, query, **params):
    rows, _, _ = driver.execute_query(query, params, database_=settings.neo4j_database)
    return rows


def _people(driver, settings) -> list[list[str]]:
    rows = _q(
        driver,
        settings,
        "MATCH (p:Person)-[:HAS_RECORD]->(r) WITH p, collect(r.key) AS keys RETURN keys",
    )
    return sorted(sorted(r["keys"]) for r in rows)


@pytest.fixture
def shop(neo4j_driver, settings, tmp_path) -> Path:
    """A registered commerce source and a customers file of four records (three people)."""
    sources.register_source(neo4j_driver, settings, validate_source("shop", "COMMERCE", "S", 10))
    path = tmp_path / "customers.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in ROWS), encoding="utf-8")
    return path


@pytest.fixture
def cli_env(monkeypatch, tmp_path, settings):
    monkeypatch.chdir(tmp_path)
    for name, value in (
        ("NEO4J_URI", settings.uri),
        ("NEO4J_USERNAME", settings.neo4j_username),
        ("NEO4J_PASSWORD", settings.password()),
        ("NEO4J_DATABASE", settings.neo4j_database),
    ):
        monkeypatch.setenv(name, value)


EXPECTED = [["shop:C1", "shop:C2"], ["shop:C3"], ["shop:C4"]]


def test_records_stored_but_not_resolved_are_pending_and_check_names_them(
    neo4j_driver, settings, shop
):
    # what an ingest killed between its write and its resolution leaves
    ingest_file(neo4j_driver, settings, shop, "shop", show_progress=False)
    assert records.pending_keys(neo4j_driver, settings) == [
        "shop:C1",
        "shop:C2",
        "shop:C3",
        "shop:C4",
    ]
    assert records.count_pending(neo4j_driver, settings) == 4
    found = {v.check: v for v in integrity.check_graph(neo4j_driver, settings)}
    assert found["pending-record"].ids == ("shop:C1", "shop:C2", "shop:C3", "shop:C4")
    assert found["orphan-record"].total == 4


def test_resolving_in_batch_and_per_batch_leaves_nothing_pending(neo4j_driver, settings, shop):
    resolver = Resolver(neo4j_driver, settings)
    ingest_file(
        neo4j_driver,
        settings,
        shop,
        "shop",
        show_progress=False,
        after_batch=resolve_after_ingest(resolver),
    )
    assert records.count_pending(neo4j_driver, settings) == 0
    assert _people(neo4j_driver, settings) == EXPECTED

    ingest_record(neo4j_driver, settings, "shop", {**ROWS[3], "email": "cy@new.example"})
    assert records.pending_keys(neo4j_driver, settings) == ["shop:C4"]  # updated: pending again
    resolver.resolve_all(show_progress=False)
    assert records.count_pending(neo4j_driver, settings) == 0
    assert integrity.check_graph(neo4j_driver, settings) == []


def test_a_rolled_back_resolution_leaves_its_records_pending(neo4j_driver, settings, shop):
    ingest_file(neo4j_driver, settings, shop, "shop", show_progress=False)
    resolver = Resolver(neo4j_driver, settings)

    class Crash(Exception):
        pass

    def resolve_then_fail(tx):
        resolver.resolve_in(tx, ["shop:C1", "shop:C3"])
        raise Crash  # the process dies before the commit

    with neo4j_driver.session(database=settings.neo4j_database) as session:
        with pytest.raises(Crash):
            session.execute_write(resolve_then_fail)
    assert records.count_pending(neo4j_driver, settings) == 4
    assert _people(neo4j_driver, settings) == []


def test_resolve_pending_resolves_every_pending_record_in_chunks(neo4j_driver, settings, shop):
    ingest_file(neo4j_driver, settings, shop, "shop", show_progress=False)
    resolver = Resolver(neo4j_driver, settings)
    assert resolver.resolve_pending(batch_size=3, show_progress=False) == 4
    assert resolver.resolve_pending(show_progress=False) == 0
    assert _people(neo4j_driver, settings) == EXPECTED
    assert integrity.check_graph(neo4j_driver, settings) == []


def test_re_sending_an_unchanged_pending_record_resolves_it(neo4j_driver, settings, shop):
    ingest_file(neo4j_driver, settings, shop, "shop", show_progress=False)
    resolver = Resolver(neo4j_driver, settings)
    # the same file again with batch resolution: every row is unchanged, yet resolved
    summary = ingest_file(
        neo4j_driver,
        settings,
        shop,
        "shop",
        show_progress=False,
        after_batch=resolve_after_ingest(resolver),
    )
    assert summary.unchanged == 4
    assert records.count_pending(neo4j_driver, settings) == 0
    assert _people(neo4j_driver, settings) == EXPECTED


def test_re_sending_a_pending_record_through_ingest_record_resolves_it(
    neo4j_driver, settings, shop
):
    ingest_record(neo4j_driver, settings, "shop", ROWS[2])
    outcome, resolution = Resolver(neo4j_driver, settings).ingest_record("shop", ROWS[2])
    assert outcome.outcome == "unchanged"
    assert resolution.decision == "created" and resolution.person_id is not None
    assert records.count_pending(neo4j_driver, settings) == 0


def test_a_retried_ingest_record_returns_the_stored_decision_never_a_second_person(
    neo4j_driver, settings, shop
):
    resolver = Resolver(neo4j_driver, settings)
    _, first = resolver.ingest_record("shop", ROWS[0])
    _, linked = resolver.ingest_record("shop", ROWS[1])
    # the commit happened but the answer was lost (an uncertain commit): the client retries
    outcome, again = resolver.ingest_record("shop", ROWS[1])
    assert outcome.outcome == "unchanged"
    assert again.person_id == linked.person_id == first.person_id
    assert (again.decision, again.rule, again.score) == (linked.decision, linked.rule, linked.score)
    _, retried_first = resolver.ingest_record("shop", ROWS[0])
    assert (retried_first.person_id, retried_first.decision) == (first.person_id, "created")
    assert _q(neo4j_driver, settings, "MATCH (p:Person) RETURN count(p) AS n")[0]["n"] == 1
    assert integrity.check_graph(neo4j_driver, settings) == []


def test_c360_ingest_resolves_what_an_earlier_run_left_pending_first(
    neo4j_driver, settings, shop, cli_env, capsys
):
    assert main(["ingest", str(shop), "--source", "shop", "--defer-resolution"]) == 0
    assert main(["status"]) == 0
    assert "pending records: 4 " in capsys.readouterr().out
    assert main(["check"]) == 2
    assert "FAIL pending-record: 4 " in capsys.readouterr().err
    # the same command again: the rows are unchanged, and nothing stays an orphan
    assert main(["ingest", str(shop), "--source", "shop"]) == 0
    out = capsys.readouterr().out
    assert "resolved 4 records an earlier run left pending" in out and "4 unchanged" in out
    assert _people(neo4j_driver, settings) == EXPECTED
    assert main(["check"]) == 0
    assert main(["status"]) == 0
    assert "pending records: 0" in capsys.readouterr().out


def test_c360_resolve_pending_and_keys_resolve_pending_records_first(
    neo4j_driver, settings, shop, cli_env, capsys
):
    ingest_file(neo4j_driver, settings, shop, "shop", show_progress=False)
    assert main(["resolve", "shop:C3"]) == 0
    out = capsys.readouterr().out
    assert "resolved 4 pending records" in out and "shop:C3: unchanged -> p-" in out
    assert records.count_pending(neo4j_driver, settings) == 0
    ingest_record(neo4j_driver, settings, "shop", {**ROWS[3], "email": "cy@new.example"})
    assert main(["resolve", "--pending"]) == 0
    assert "resolved 1 pending records" in capsys.readouterr().out
    assert main(["check"]) == 0


def test_a_bulk_load_through_transactions_leaves_nothing_pending(neo4j_driver, settings, shop):
    report = bulk_load(settings, [LoadFile("shop", shop, "records")], use_import=False)
    assert report.people == 3
    assert records.count_pending(neo4j_driver, settings) == 0
    assert integrity.check_graph(neo4j_driver, settings) == []


def test_the_migration_marks_records_stored_before_it_and_held_by_no_one_pending(
    neo4j_driver, settings, shop
):
    Resolver(neo4j_driver, settings).resolve_pending(show_progress=False)
    ingest_file(neo4j_driver, settings, shop, "shop", show_progress=False)
    Resolver(neo4j_driver, settings).resolve_all(show_progress=False)
    # a graph from before pending marks: an orphan without the label
    _q(
        neo4j_driver,
        settings,
        "MATCH (p:Person)-[:HAS_RECORD]->(:SourceRecord {key: 'shop:C3'}) DETACH DELETE p",
    )
    text = (PROJECT_ROOT / "cypher" / "V0011__Mark_unresolved_records_pending.cypher").read_text()
    for statement in split_statements(text):
        _q(neo4j_driver, settings, statement)
    assert records.pending_keys(neo4j_driver, settings) == ["shop:C3"]
