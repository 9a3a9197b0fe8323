"""``c360 backup`` / ``c360 restore`` on a real local Neo4j of this module's own (it is
stopped and started by the commands, so never the session's server): a round trip gives
back the same graph, person for person."""

from __future__ import annotations

import socket
from typing import Any

import pytest

from graph import db, migrate
from graph.cli import main
from graph.localneo4j import LocalNeo4j
from graph.services.resolver import Resolver
from graph.settings import PROJECT_ROOT, Settings
from graph.store import integrity, sources
from graph.store.sources import validate_source

PASSWORD = "c360-backup-password"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def local(tmp_path_factory):
    """A running local server of its own, its settings in the environment as a user's
    `.env` would hold them, on an empty database."""
    ports = {"C360_BOLT_PORT": str(_free_port()), "C360_HTTP_PORT": str(_free_port())}
    env = {
        "C360_NEO4J_HOME": str(PROJECT_ROOT / ".c360" / "backup-neo4j"),
        "NEO4J_PASSWORD": PASSWORD,
        "C360_HEAP": "256m",
        "C360_PAGECACHE": "32m",
        **ports,
    }
    with pytest.MonkeyPatch.context() as monkeypatch:
        monkeypatch.delenv("NEO4J_URI", raising=False)
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        settings = Settings(_env_file=None)  # type: ignore[call-arg]
        server = LocalNeo4j(settings, log=lambda m: None)
        server.start()
        try:
            driver = db.connect(settings)
            try:
                db.wipe_data(driver, settings)
                migrate.migrate(driver, settings, log=lambda m: None)
            finally:
                driver.close()
            yield settings, server
        finally:
            server.stop()


@pytest.fixture
def local_env(local, monkeypatch, tmp_path):
    """The module's server, with its settings in this test's environment too."""
    settings, server = local
    monkeypatch.delenv("NEO4J_URI", raising=False)
    for name, value in (
        ("C360_NEO4J_HOME", str(settings.local_home)),
        ("NEO4J_PASSWORD", PASSWORD),
        ("C360_HEAP", "256m"),
        ("C360_PAGECACHE", "32m"),
        ("C360_BOLT_PORT", str(settings.bolt_port)),
        ("C360_HTTP_PORT", str(settings.http_port)),
    ):
        monkeypatch.setenv(name, value)
    monkeypatch.chdir(tmp_path)
    return settings, server


def _people(settings: Settings) -> dict[str, Any]:
    """Every person with its records, aliases and golden attributes, and the count of every
    label and relationship type: what must survive a round trip."""
    driver = db.connect(settings)
    try:
        people, _, _ = driver.execute_query(
            "MATCH (p:Person) RETURN p.id AS id, "
            "p {.givenName, .familyName, .email, .recordCount, .sources} AS golden, "
            "COLLECT { MATCH (p)-[:HAS_RECORD]->(r) RETURN r.key ORDER BY r.key } AS records, "
            "COLLECT { MATCH (a:PersonAlias)-[:ALIAS_OF]->(p) RETURN a.id } AS aliases "
            "ORDER BY id",
            database_=settings.neo4j_database,
        )
        labels, _, _ = driver.execute_query(
            "MATCH (n) UNWIND labels(n) AS label RETURN label, count(*) AS n ORDER BY label",
            database_=settings.neo4j_database,
        )
        types, _, _ = driver.execute_query(
            "MATCH ()-[r]->() RETURN type(r) AS type, count(*) AS n ORDER BY type",
            database_=settings.neo4j_database,
        )
        violations = integrity.check_graph(driver, settings)
    finally:
        driver.close()
    return {
        "people": [r.data() for r in people],
        "labels": [r.data() for r in labels],
        "types": [r.data() for r in types],
        "violations": violations,
    }


def _populate(settings: Settings) -> None:
    driver = db.connect(settings)
    try:
        for sid, kind in (("shop", "COMMERCE"), ("crm", "SERVICE")):
            sources.register_source(driver, settings, validate_source(sid, kind, sid, 10))
        resolver = Resolver(driver, settings, actor="backup-test")
        people = {}
        for key, given, email in (
            ("shop:A", "Ada", "ada@example.com"),
            ("crm:A", "Ada", "ada@example.com"),
            ("shop:B", "Bob", "bob@example.com"),
            ("crm:C", "Cy", "cy@example.com"),
        ):
            source, source_id = key.split(":")
            record = {"sourceId": source_id, "givenName": given, "familyName": "Lee"}
            _, resolution = resolver.ingest_record(source, {**record, "email": email})
            people[key] = resolution.person_id
        resolver.merge_people(people["shop:B"], people["crm:C"], reason="same person")
    finally:
        driver.close()


def test_a_backup_round_trip_gives_the_same_graph_person_for_person(local_env, tmp_path, capsys):
    settings, server = local_env
    _populate(settings)
    before = _people(settings)
    assert len(before["people"]) == 2 and before["violations"] == []
    archive = tmp_path / "graph.dump"

    assert main(["backup", str(archive)]) == 0
    out = capsys.readouterr().out
    assert "stopping Neo4j" in out and f"backed up 'neo4j' to {archive}" in out
    assert archive.stat().st_size > 0 and server.status().running  # started again

    driver = db.connect(settings)
    try:
        db.wipe_data(driver, settings)
    finally:
        driver.close()
    assert _people(settings)["people"] == []

    assert main(["restore", str(archive), "--yes"]) == 0
    assert "restored 'neo4j'" in capsys.readouterr().out
    assert server.status().running
    assert _people(settings) == before

    # a server found stopped is backed up and left stopped
    server.stop()
    assert main(["backup", str(tmp_path / "offline.dump")]) == 0
    assert not server.status().running and (tmp_path / "offline.dump").stat().st_size > 0


def test_restore_refuses_a_missing_archive_and_a_remote_server(monkeypatch, tmp_path, capsys):
    monkeypatch.chdir(tmp_path)
    assert main(["restore", str(tmp_path / "none.dump"), "--yes"]) == 2  # click: no such file
    monkeypatch.setenv("NEO4J_URI", "neo4j+s://example.databases.neo4j.io")
    monkeypatch.setenv("NEO4J_PASSWORD", "whatever-pass")
    (tmp_path / "x.dump").write_bytes(b"x")
    assert main(["backup", str(tmp_path / "x.dump")]) == 1
    assert "Aura's snapshots" in capsys.readouterr().err
