"""Shared fixtures: a real Neo4j for integration and API tests, never a stand-in.

The server is chosen in this order:
1. ``NEO4J_URI`` (with ``NEO4J_USERNAME``/``NEO4J_PASSWORD``/``NEO4J_DATABASE``) when set;
2. a testcontainers ``Neo4jContainer`` (image ``neo4j:5.26-community``) when a Docker engine
   answers;
3. the local server of ``c360 neo4j`` in its own home and ports (``.c360/test-neo4j``, Bolt
   17687, HTTP 17474 unless ``C360_TEST_BOLT_PORT``/``C360_TEST_HTTP_PORT`` say otherwise),
   started here when not running and stopped at the end when this run started it.

When none can be had the fixture raises, so every integration test errors: a run never
silently skips them. Migrations are applied once per session; every test that takes
``neo4j_driver`` (or ``settings``) starts from a database emptied of all but the migration chain.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Iterator
from dataclasses import dataclass

import neo4j
import pytest

from graph import db, migrate
from graph.settings import PROJECT_ROOT, Settings

NEO4J_IMAGE = "neo4j:5.26-community"
TEST_PASSWORD = "c360-test-password"


@dataclass
class Neo4jTarget:
    settings: Settings
    how: str
    stop: object = None


def _docker_answers() -> bool:
    host = os.environ.get("DOCKER_HOST", "")
    if not host and not os.path.exists("/var/run/docker.sock"):
        return False
    import docker  # installed with testcontainers

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ResourceWarning)  # a refused probe leaves its socket
        try:
            client = docker.from_env(timeout=3)
            try:
                return bool(client.ping())
            finally:
                client.close()
        except Exception:
            return False


def _target() -> Neo4jTarget:
    if os.environ.get("NEO4J_URI"):
        settings = Settings(_env_file=None)  # type: ignore[call-arg]
        return Neo4jTarget(settings, f"NEO4J_URI={settings.uri}")
    if _docker_answers():
        from testcontainers.neo4j import Neo4jContainer

        container = Neo4jContainer(NEO4J_IMAGE, password=TEST_PASSWORD)
        container.start()
        settings = Settings(  # type: ignore[call-arg]
            _env_file=None,
            neo4j_uri=container.get_connection_url(),
            neo4j_password=TEST_PASSWORD,
        )
        return Neo4jTarget(settings, f"testcontainers {NEO4J_IMAGE}", container.stop)
    from graph.localneo4j import LocalNeo4j

    settings = Settings(  # type: ignore[call-arg]
        _env_file=None,
        neo4j_uri=None,
        neo4j_password=TEST_PASSWORD,
        local_home=PROJECT_ROOT / ".c360" / "test-neo4j",
        bolt_port=int(os.environ.get("C360_TEST_BOLT_PORT", "17687")),
        http_port=int(os.environ.get("C360_TEST_HTTP_PORT", "17474")),
    )
    server = LocalNeo4j(settings, log=lambda msg: None)
    if server.status().running:
        return Neo4jTarget(settings, f"local server at {settings.uri} (already running)")
    server.start()  # raises LocalNeo4jError with Neo4j's own reason: the run fails loudly
    return Neo4jTarget(
        settings, f"local server at {settings.uri} (started for this run)", server.stop
    )


@pytest.fixture(autouse=True)
def no_developer_env_file(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    """Settings read ``.env`` of the test's own (absent unless a test writes it), never the
    developer's in the project root (see :func:`graph.settings.env_file`)."""
    monkeypatch.setenv("C360_ENV_FILE", str(tmp_path / ".env"))


@pytest.fixture(scope="session")
def neo4j_target(request: pytest.FixtureRequest) -> Iterator[Neo4jTarget]:
    target = _target()
    try:
        driver = db.connect(target.settings)
        try:
            info = db.server_info(driver, target.settings)
            migrate.migrate(driver, target.settings, log=lambda msg: None)
        finally:
            driver.close()
        line = f"integration tests use Neo4j {info['version']} {info['edition']}: {target.how}"
        request.config.stash[_SUMMARY] = line
        reporter = request.config.pluginmanager.get_plugin("terminalreporter")
        if reporter is not None:
            reporter.write_line("")
            reporter.write_line(line)
        yield target
    finally:
        if callable(target.stop):
            target.stop()


_SUMMARY = pytest.StashKey[str]()


def pytest_terminal_summary(terminalreporter, exitstatus, config) -> None:
    line = config.stash.get(_SUMMARY, None)
    if line:
        terminalreporter.write_sep("-", line)


@pytest.fixture(scope="session")
def session_driver(neo4j_target: Neo4jTarget) -> Iterator[neo4j.Driver]:
    driver = db.connect(neo4j_target.settings)
    yield driver
    driver.close()


@pytest.fixture
def settings(neo4j_target: Neo4jTarget, session_driver: neo4j.Driver) -> Settings:
    """Settings of the test Neo4j, with the database emptied of all but the migration chain."""
    db.wipe_data(session_driver, neo4j_target.settings)
    return neo4j_target.settings


@pytest.fixture
def neo4j_driver(settings: Settings, session_driver: neo4j.Driver) -> neo4j.Driver:
    """The session's driver on an emptied database (see ``settings``)."""
    return session_driver
