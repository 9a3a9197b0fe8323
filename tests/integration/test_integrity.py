"""``c360 check`` against a real Neo4j: a resolved graph keeps every invariant, and each
broken state, built with Cypher, is reported by its own check naming the offending ids."""

from __future__ import annotations

from typing import LiteralString

import pytest

from graph.cli import main
from graph.services.resolver import Resolver
from graph.store import integrity, sources
from graph.store.sources import validate_source


@pytest.fixture
def resolved(neo4j_driver, settings):
    """Four records of two sources resolved into three people, one of them merged from two
    (so one alias exists): ``{name: 360 ID}``."""
    for sid, kind in (("shop", "COMMERCE"), ("crm", "SERVICE")):
        sources.register_source(neo4j_driver, settings, validate_source(sid, kind, sid, 10))
    resolver = Resolver(neo4j_driver, settings, actor="integrity-test")
    ids = {}
    for key, fields in (
        ("shop:A", {"givenName": "Ada", "familyName": "Lovelace", "email": "ada@example.com"}),
        ("crm:A", {"givenName": "Ada", "familyName": "Lovelace", "email": "ada@example.com"}),
        ("shop:B", {"givenName": "Bob", "familyName": "Stone", "email": "bob@example.com"}),
        ("shop:C", {"givenName": "Cy", "familyName": "Young", "email": "cy@example.com"}),
        ("crm:C", {"givenName": "Cyrus", "familyName": "Yonge", "email": "cyrus@example.org"}),
    ):
        source, source_id = key.split(":")
        _, resolution = resolver.ingest_record(source, {"sourceId": source_id, **fields})
        ids[key] = resolution.person_id
    assert ids["shop:A"] == ids["crm:A"] and ids["shop:C"] != ids["crm:C"]
    resolver.merge_people(ids["shop:C"], ids["crm:C"], reason="same person")
    return ids


def _run(driver, settings, query: LiteralString, **params) -> None:
    driver.execute_query(query, params, database_=settings.neo4j_database)


def test_a_resolved_graph_keeps_every_invariant(neo4j_driver, settings, resolved):
    aliases, _, _ = neo4j_driver.execute_query(
        "MATCH (a:PersonAlias) RETURN count(a) AS n", database_=settings.neo4j_database
    )
    assert aliases[0]["n"] == 1  # the merge left an alias, which the checks accept
    assert integrity.check_graph(neo4j_driver, settings) == []


#: A broken state: the Cypher that breaks a resolved graph, the check that must fail, the ids.
BROKEN: dict[str, tuple[LiteralString, str, list[str]]] = {
    "record no person holds": (
        "MATCH (:Person)-[h:HAS_RECORD]->(:SourceRecord {key: 'shop:B'}) DELETE h",
        "orphan-record",
        ["shop:B"],
    ),
    "record held by two people": (
        "MATCH (r:SourceRecord {key: 'shop:B'}) CREATE (:Person {id: 'P-EXTRA', "
        "recordCount: 1, sources: ['shop']})-[:HAS_RECORD]->(r)",
        "record-in-several",
        ["shop:B"],
    ),
    "record held twice by one person": (
        "MATCH (p:Person)-[:HAS_RECORD]->(r:SourceRecord {key: 'shop:B'}) "
        "CREATE (p)-[:HAS_RECORD]->(r)",
        "record-in-several",
        ["shop:B"],
    ),
    "record without its source": (
        "MATCH (:SourceRecord {key: 'crm:A'})-[f:FROM]->() DELETE f",
        "record-source",
        ["crm:A"],
    ),
    "record from two sources": (
        "MATCH (r:SourceRecord {key: 'crm:A'}), (s:Source {id: 'shop'}) CREATE (r)-[:FROM]->(s)",
        "record-source",
        ["crm:A"],
    ),
    "record key of another source": (
        "MATCH (r:SourceRecord {key: 'crm:A'}) SET r.sourceId = 'Z'",
        "record-key",
        ["crm:A"],
    ),
    "person without records": (
        "CREATE (:Person {id: 'P-EMPTY', recordCount: 0, sources: []})",
        "empty-person",
        ["P-EMPTY"],
    ),
    "stored record count off": (
        "MATCH (p:Person)-[:HAS_RECORD]->(:SourceRecord {key: 'shop:A'}) SET p.recordCount = 3",
        "person-record-count",
        ["<shop:A>"],
    ),
    "stored sources off": (
        "MATCH (p:Person)-[:HAS_RECORD]->(:SourceRecord {key: 'shop:B'}) "
        "SET p.sources = ['crm', 'shop']",
        "person-sources",
        ["<shop:B>"],
    ),
    "alias of nobody": (
        "MATCH (a:PersonAlias)-[x:ALIAS_OF]->() DELETE x",
        "alias-dangling",
        ["<alias>"],
    ),
    "alias of two people": (
        "MATCH (a:PersonAlias), (p:Person)-[:HAS_RECORD]->(:SourceRecord {key: 'shop:B'}) "
        "CREATE (a)-[:ALIAS_OF]->(p)",
        "alias-dangling",
        ["<alias>"],
    ),
    "alias that is a live ID": (
        "MATCH (p:Person)-[:HAS_RECORD]->(:SourceRecord {key: 'shop:B'}), (q:Person) "
        "WHERE q <> p AND (q)-[:HAS_RECORD]->(:SourceRecord {key: 'shop:A'}) "
        "CREATE (:PersonAlias {id: p.id})-[:ALIAS_OF]->(q)",
        "alias-shadows-person",
        ["<shop:B>"],
    ),
    "person without an id": (
        "MATCH (p:Person)-[:HAS_RECORD]->(:SourceRecord {key: 'shop:B'}) REMOVE p.id",
        "missing-key",
        ["<element>"],
    ),
}


def _expected(neo4j_driver, settings, resolved, ids: list[str]) -> list[str]:
    """Resolve placeholders: ``<key>`` the 360 ID holding that record, ``<alias>`` the alias."""
    out = []
    for i in ids:
        if i == "<alias>":
            rows, _, _ = neo4j_driver.execute_query(
                "MATCH (a:PersonAlias) RETURN a.id AS id", database_=settings.neo4j_database
            )
            out.append(rows[0]["id"])
        elif i.startswith("<") and i != "<element>":
            out.append(resolved[i[1:-1]])
        else:
            out.append(i)
    return out


@pytest.mark.parametrize("state", list(BROKEN))
def test_each_broken_state_is_reported_by_its_check_with_the_offending_ids(
    neo4j_driver, settings, resolved, state
):
    query, check, ids = BROKEN[state]
    expected = _expected(neo4j_driver, settings, resolved, ids)
    _run(neo4j_driver, settings, query)
    found = {v.check: v for v in integrity.check_graph(neo4j_driver, settings)}
    assert check in found, f"{check} did not fire; found {sorted(found)}"
    violation = found[check]
    if expected == ["<element>"]:
        assert violation.total == 1 and violation.ids[0].startswith("Person ")
    else:
        assert list(violation.ids) == expected and violation.total == len(expected)


def test_a_duplicate_identifier_node_is_reported(neo4j_driver, settings, resolved):
    # the uniqueness constraint forbids it, so only a graph without it (a restore into a
    # server before `c360 migrate`, an import) can hold one: drop it for the test, then restore
    _run(neo4j_driver, settings, "DROP CONSTRAINT identifier_type_value")
    try:
        _run(
            neo4j_driver, settings, "CREATE (:Identifier {type: 'EMAIL', value: 'bob@example.com'})"
        )
        found = integrity.check_graph(neo4j_driver, settings, only=["duplicate-identifier"])
        assert [(v.check, v.ids) for v in found] == [
            ("duplicate-identifier", ("EMAIL:bob@example.com",))
        ]
    finally:
        _run(
            neo4j_driver,
            settings,
            "MATCH (i:Identifier {type: 'EMAIL', value: 'bob@example.com'}) "
            "WHERE NOT (i)--() DELETE i",
        )
        _run(
            neo4j_driver,
            settings,
            "CREATE CONSTRAINT identifier_type_value IF NOT EXISTS "
            "FOR (i:Identifier) REQUIRE (i.type, i.value) IS UNIQUE",
        )


def test_check_lists_at_most_limit_ids_with_the_full_count(neo4j_driver, settings, resolved):
    _run(neo4j_driver, settings, "UNWIND range(1, 5) AS n CREATE (:Person {id: 'P-E' + n})")
    [v] = integrity.check_graph(neo4j_driver, settings, limit=2, only=["empty-person"])
    assert v.total == 5 and v.ids == ("P-E1", "P-E2")


def test_c360_check_exits_0_on_a_sound_graph_and_2_listing_offenders(
    neo4j_driver, settings, resolved, monkeypatch, capsys, tmp_path
):
    monkeypatch.chdir(tmp_path)
    for name, value in (
        ("NEO4J_URI", settings.uri),
        ("NEO4J_USERNAME", settings.neo4j_username),
        ("NEO4J_PASSWORD", settings.password()),
        ("NEO4J_DATABASE", settings.neo4j_database),
    ):
        monkeypatch.setenv(name, value)
    assert main(["check"]) == 0
    assert "every invariant holds" in capsys.readouterr().out
    _run(
        neo4j_driver,
        settings,
        "MATCH (:Person)-[h:HAS_RECORD]->(:SourceRecord {key: 'shop:B'}) DELETE h",
    )
    _run(neo4j_driver, settings, "CREATE (:Person {id: 'P-EMPTY'})")
    assert main(["check"]) == 2
    err = capsys.readouterr().err
    assert "FAIL orphan-record: 1 " in err and "shop:B" in err
    assert "FAIL empty-person: 2 " in err and "P-EMPTY" in err  # shop:B's person is empty now
    assert err.rstrip().endswith(f"2 of {len(integrity.CHECKS)} checks failed")
