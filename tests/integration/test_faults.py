"""The fast scenarios of ``bench/faults.py`` as tests, against real Neo4j servers and real
processes: Neo4j killed (``kill -9``) in the middle of ``c360 ingest`` and back (the run waits
and completes) or gone too long (it stops with exit status 4, prints what it wrote and the
command that resumes it); ``c360 ingest`` killed between its write and its resolution; an
undecodable line. After each, ``c360 check`` passes and the people are those of a clean run.

The Neo4j-killing tests run a server of their own (``.c360/fault-test-neo4j``, free ports,
512 MB heap), started once for the module: killing the shared test server would break every
other test.
"""

from __future__ import annotations

import csv
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import neo4j
import pytest

from graph import db, migrate
from graph.cli import main
from graph.demo.generate import generate
from graph.localneo4j import LocalNeo4j
from graph.resolution.evaluate import evaluate
from graph.settings import PROJECT_ROOT, Settings
from graph.store import records
from tests.integration.demo_graphs import people, register_demo_sources

PEOPLE = 80  # ~145 records in four files: a few seconds per run with 25-row batches


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def demo(tmp_path_factory) -> list[tuple[str, Path, int]]:
    """(source, records file, rows) of a small demo data set, in manifest order."""
    folder = tmp_path_factory.mktemp("demo")
    manifest = generate(folder, PEOPLE, 7)
    return [(f.source, folder / f.path, f.rows) for f in manifest.files if f.file_type == "records"]


@pytest.fixture
def cli_env(monkeypatch, tmp_path, settings):
    """``main([...])`` on the shared test server, from a folder of the test's own."""
    monkeypatch.chdir(tmp_path)
    for name, value in (
        ("NEO4J_URI", settings.uri),
        ("NEO4J_USERNAME", settings.neo4j_username),
        ("NEO4J_PASSWORD", settings.password()),
        ("NEO4J_DATABASE", settings.neo4j_database),
    ):
        monkeypatch.setenv(name, value)


@pytest.fixture(scope="module")
def own_server() -> Iterator[tuple[Settings, LocalNeo4j]]:
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None,
        neo4j_uri=None,
        neo4j_password="c360-fault-test",
        local_home=PROJECT_ROOT / ".c360" / "fault-test-neo4j",
        bolt_port=_free_port(),
        http_port=_free_port(),
        heap_size="512m",
        pagecache_size="256m",
    )
    server = LocalNeo4j(settings, log=lambda m: None)
    server.start()
    try:
        driver = db.connect(settings)
        try:
            migrate.migrate(driver, settings, log=lambda m: None)
        finally:
            driver.close()
        yield settings, server
    finally:
        server.stop()


@pytest.fixture
def on_own_server(own_server, monkeypatch, tmp_path):
    settings, server = own_server
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("NEO4J_URI", settings.uri)
    monkeypatch.setenv("NEO4J_PASSWORD", settings.password())
    driver = db.connect(settings)
    db.wipe_data(driver, settings)
    register_demo_sources(driver, settings)
    try:
        yield settings, server, driver
    finally:
        driver.close()


def _count(driver: neo4j.Driver, settings: Settings) -> int:
    rows, _, _ = driver.execute_query(
        "MATCH (r:SourceRecord) RETURN count(r) AS n", database_=settings.neo4j_database
    )
    return rows[0]["n"]


def _kill_neo4j_after(driver, settings, server: LocalNeo4j, stored: int, restart: bool):
    """A thread that kills the server with SIGKILL once ``stored`` records are written, then
    (``restart``) starts it again at once."""

    def run() -> None:
        while _count(driver, settings) < stored:
            time.sleep(0.05)
        pid = server.status().pid
        assert pid is not None
        os.kill(pid, signal.SIGKILL)
        try:
            os.waitpid(pid, 0)
        except ChildProcessError:
            pass
        if restart:
            server.start()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread


def _ingest_all(demo, *extra: str) -> int:
    status = 0
    for source, path, _ in demo:
        status = max(status, main(["ingest", str(path), "--source", source, *extra]))
    return status


def _clusters(driver, settings) -> dict[str, str]:
    rows, _, _ = driver.execute_query(
        "MATCH (r:SourceRecord) WHERE r.placeholder IS NULL "
        "OPTIONAL MATCH (p:Person)-[:HAS_RECORD]->(r) RETURN r.key AS key, "
        "coalesce(p.id, r.key) AS cluster",
        database_=settings.neo4j_database,
    )
    return {r["key"]: r["cluster"] for r in rows}


def _f1_against_clean_run(driver, settings, demo, faulted: dict[str, str]) -> float:
    db.wipe_data(driver, settings)
    register_demo_sources(driver, settings)
    assert _ingest_all(demo) == 0
    return evaluate(faulted, _clusters(driver, settings)).f1


def test_ingest_outlives_neo4j_killed_in_the_middle(on_own_server, demo, capsys):
    settings, server, driver = on_own_server
    killer = _kill_neo4j_after(driver, settings, server, stored=40, restart=True)
    assert _ingest_all(demo, "--batch-size", "25") == 0
    killer.join(timeout=120)
    assert not killer.is_alive()  # Neo4j was killed mid-ingest and is back
    # (whether the ingest logs a wait depends on where the kill falls: the driver's own
    # retries may ride a short restart out; the give-up test below checks the message)
    assert _count(driver, settings) == sum(rows for _, _, rows in demo)
    assert records.count_pending(driver, settings) == 0
    assert main(["check"]) == 0
    assert _f1_against_clean_run(driver, settings, demo, _clusters(driver, settings)) == 1.0


def test_ingest_gives_up_with_what_it_wrote_and_the_command_that_resumes(
    on_own_server, demo, monkeypatch, capsys
):
    settings, server, driver = on_own_server
    monkeypatch.setenv("C360_INGEST_WAIT_S", "1")
    source, path, _ = max(demo, key=lambda d: d[2])
    killer = _kill_neo4j_after(driver, settings, server, stored=30, restart=False)
    started = time.monotonic()
    assert main(["ingest", str(path), "--source", source, "--batch-size", "20"]) == 4
    assert time.monotonic() - started < 60
    killer.join(timeout=30)
    err = capsys.readouterr().err
    assert "gave up waiting for Neo4j" in err and "rows read were written" in err
    command = err.strip().splitlines()[-1].split()
    assert command[:2] == ["c360", "ingest"] and command[2] == str(path)
    assert "--batch-size" in command
    server.start()
    assert main(command[1:]) == 0
    assert records.count_pending(driver, settings) == 0
    assert main(["check"]) == 0


def test_ingest_killed_between_write_and_resolve_is_resolved_by_the_next_run(
    neo4j_driver, settings, demo, cli_env, tmp_path, capsys
):
    register_demo_sources(neo4j_driver, settings)
    source, path, _ = max(demo, key=lambda d: d[2])
    env = dict(
        os.environ,
        NEO4J_URI=settings.uri,
        NEO4J_USERNAME=settings.neo4j_username,
        NEO4J_PASSWORD=settings.password(),
        NEO4J_DATABASE=settings.neo4j_database,
        C360_ENV_FILE=str(tmp_path / ".env"),
    )
    c360 = Path(sys.executable).with_name("c360")
    command = [str(c360), "ingest", str(path), "--source", source, "--batch-size", "10"]
    proc = subprocess.Popen(command, env=env, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        while records.count_pending(neo4j_driver, settings) == 0:
            assert proc.poll() is None and time.monotonic() < deadline, "never saw a pending record"
            time.sleep(0.01)
        proc.send_signal(signal.SIGKILL)  # records written, their resolution not committed
    finally:
        proc.wait(timeout=30)
    assert records.count_pending(neo4j_driver, settings) > 0  # visible, not silently orphaned
    assert main(["ingest", str(path), "--source", source, "--batch-size", "10"]) == 0
    assert "left pending" in capsys.readouterr().out
    assert records.count_pending(neo4j_driver, settings) == 0
    assert main(["check"]) == 0
    faulted = people(neo4j_driver, settings)
    db.wipe_data(neo4j_driver, settings)
    register_demo_sources(neo4j_driver, settings)
    assert main(["ingest", str(path), "--source", source, "--batch-size", "10"]) == 0
    assert faulted == people(neo4j_driver, settings)


def test_an_undecodable_line_rejects_that_line_only(
    neo4j_driver, settings, demo, cli_env, tmp_path
):
    register_demo_sources(neo4j_driver, settings)
    source, path, _ = next(d for d in demo if d[1].suffix == ".csv")
    lines = path.read_bytes().split(b"\n")
    broken = tmp_path / "customers.csv"
    bad_line = len(lines) // 2  # 0-based index: file line bad_line + 1
    lines[bad_line] = lines[bad_line].replace(b",", b",\xe9", 1)  # one latin-1 byte
    broken.write_bytes(b"\n".join(lines))
    rows = sum(1 for line in lines[1:] if line.strip())
    assert main(["ingest", str(broken), "--source", source]) == 3
    assert _count(neo4j_driver, settings) == rows - 1
    with (tmp_path / "customers.csv.errors.csv").open(encoding="utf-8") as fh:
        errors = list(csv.DictReader(fh))
    assert [(e["line"], e["severity"], e["field"]) for e in errors] == [
        (str(bad_line + 1), "ERROR", "row")
    ]
    assert "not UTF-8" in errors[0]["reason"]
    assert main(["check"]) == 0
