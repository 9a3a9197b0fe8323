"""Neo4j going away under the API, with a real server of this module's own (stopped, frozen
and started again here, never the session's): every request answers UNAVAILABLE instead
of hanging, HTTP 503 to a client asking for application/graphql-response+json, ``/ready``
answers even while Neo4j is frozen, and the API serves again once Neo4j is back."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Iterator

import httpx
import pytest
from pydantic import SecretStr

from api import create_app
from graph import db, migrate
from graph.localneo4j import LocalNeo4j
from graph.settings import PROJECT_ROOT, Settings
from tests.api.conftest import KEYS, RunningApp, _free_port

PASSWORD = "c360-outage-password"
GRAPHQL_RESPONSE = "application/graphql-response+json"
SOURCES = {"query": "{ sources { id } }"}
REGISTER = {
    "query": 'mutation { registerSource(input: {id: "shop", kind: COMMERCE, name: "Shop", '
    "priority: 1}) { id } }"
}


@pytest.fixture(scope="module")
def server() -> Iterator[LocalNeo4j]:
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None,
        neo4j_uri=None,
        neo4j_password=PASSWORD,
        local_home=PROJECT_ROOT / ".c360" / "outage-neo4j",
        bolt_port=_free_port(),
        http_port=_free_port(),
        api_keys=SecretStr(f"{KEYS['admin']}=admin"),
    )
    local = LocalNeo4j(settings, log=lambda msg: None)
    local.start()
    try:
        driver = db.connect(settings)
        try:
            migrate.migrate(driver, settings, log=lambda msg: None)
        finally:
            driver.close()
        yield local
    finally:
        status = local.status()
        if status.pid is not None:
            os.kill(status.pid, signal.SIGCONT)  # never leave a frozen server behind
        local.stop()


@pytest.fixture
def client(server) -> Iterator[httpx.Client]:
    if not server.status().running:
        server.start()
    driver = db.connect(server.settings)
    try:
        db.wipe_data(driver, server.settings)
    finally:
        driver.close()
    with RunningApp(create_app(server.settings)) as app:
        # a hang fails the test through this timeout instead of stalling the run
        with httpx.Client(
            base_url=app.url, timeout=15, headers={"X-API-Key": KEYS["admin"]}
        ) as http:
            yield http


def _codes(response: httpx.Response) -> list[str]:
    return [e["extensions"]["code"] for e in response.json().get("errors", [])]


def test_requests_while_neo4j_is_stopped_answer_unavailable_and_serve_again_once_back(
    server, client
):
    assert client.post("/graphql", json=SOURCES).json() == {"data": {"sources": []}}
    server.stop()

    plain = client.post("/graphql", json=SOURCES)
    assert plain.status_code == 200 and _codes(plain) == ["UNAVAILABLE"]
    honest = client.post("/graphql", json=SOURCES, headers={"Accept": GRAPHQL_RESPONSE})
    assert honest.status_code == 503 and _codes(honest) == ["UNAVAILABLE"]
    assert honest.headers["content-type"].startswith(GRAPHQL_RESPONSE)
    assert honest.headers["retry-after"] == "1"
    write = client.post("/graphql", json=REGISTER, headers={"Accept": GRAPHQL_RESPONSE})
    assert write.status_code == 503 and _codes(write) == ["UNAVAILABLE"]
    ready = client.get("/ready")
    assert ready.status_code == 503 and "not reachable" in ready.json()["reason"]

    server.start()
    deadline = time.monotonic() + 30
    while _codes(back := client.post("/graphql", json=REGISTER)):
        assert time.monotonic() < deadline, back.text
        time.sleep(0.1)
    assert back.json() == {"data": {"registerSource": {"id": "shop"}}}
    _wait_until_ready(client)


def _wait_until_ready(client: httpx.Client) -> None:
    # on a loaded machine a probe may miss its 0.9 s deadline once Neo4j is back (503)
    deadline = time.monotonic() + 30
    while (ready := client.get("/ready")).status_code != 200:
        assert time.monotonic() < deadline, ready.text
        time.sleep(0.1)
    assert ready.json()["status"] == "ready"


def test_ready_answers_while_neo4j_is_frozen(server, client):
    _wait_until_ready(client)
    pid = server.status().pid
    assert pid is not None
    os.kill(pid, signal.SIGSTOP)  # the port stays open, nothing answers on it
    try:
        answers = [client.get("/ready") for _ in range(4)]  # more probes than threads
    finally:
        os.kill(pid, signal.SIGCONT)
    for answer in answers:
        assert answer.status_code == 503
        assert answer.json()["reason"] == "Neo4j did not answer within 0.9 s"
    _wait_until_ready(client)


def test_a_client_asking_for_graphql_response_json_gets_it_with_200_when_all_is_well(client):
    response = client.post("/graphql", json=SOURCES, headers={"Accept": GRAPHQL_RESPONSE})
    assert response.status_code == 200 and response.json() == {"data": {"sources": []}}
    assert response.headers["content-type"].startswith(GRAPHQL_RESPONSE)
