"""Failed starts of a real local Neo4j (homes of these tests' own): the error names the
cause Neo4j and its JVM logged, never "no error in the logs"."""

from __future__ import annotations

import socket

import pytest

from graph.errors import LocalNeo4jError
from graph.localneo4j import LocalNeo4j
from graph.settings import Settings


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _settings(tmp_path, **overrides) -> Settings:
    values = {
        "neo4j_uri": None,
        "neo4j_password": "c360-start-test",
        "local_home": tmp_path / "neo4j",
        "bolt_port": _free_port(),
        "http_port": _free_port(),
        "heap_size": "256m",
        "pagecache_size": "16m",
        "start_timeout_s": 90,
    }
    return Settings(_env_file=None, **{**values, **overrides})  # type: ignore[arg-type]


def test_a_start_without_enough_heap_says_so_and_suggests_a_heap(tmp_path):
    server = LocalNeo4j(_settings(tmp_path, heap_size="24m"), log=lambda m: None)
    with pytest.raises(LocalNeo4jError) as caught:
        server.start()
    message = str(caught.value)
    assert "Neo4j ran out of memory" in message and "OutOfMemoryError" in message
    assert "C360_HEAP=1024m" in message and "no error in the logs" not in message
    assert not server.status().running


def test_a_start_on_a_store_another_server_holds_names_the_lock(tmp_path):
    first = LocalNeo4j(_settings(tmp_path), log=lambda m: None)
    first.start()
    pid_file = first.pid_file
    pid = pid_file.read_text()
    try:
        pid_file.unlink()  # as if the first one had been started outside c360
        second = LocalNeo4j(_settings(tmp_path), log=lambda m: None)
        with pytest.raises(LocalNeo4jError) as caught:
            second.start()
        assert "another Neo4j process holds the store lock" in str(caught.value)
    finally:
        pid_file.write_text(pid)
        first.stop()
