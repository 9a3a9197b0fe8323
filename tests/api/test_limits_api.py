"""Input limits through the API: a body over the limit gets 413 with a GraphQL error before
it is read, a row over the row limit or a bad name is refused naming the field, and writes
past the concurrency limit are told to retry later while reads go on."""

from __future__ import annotations

import json
import socket
import threading
import time

import httpx

from api import create_app
from tests.api.conftest import KEYS, RunningApp

REGISTER = (
    'mutation { registerSource(input: {id: "shop", kind: COMMERCE, name: "Shop", '
    "priority: 10}) { id } }"
)
RECORD = """mutation($record: JSON!) {
  ingestRecord(input: {source: "shop", record: $record}) {
    recordKey personId warnings { field reason } } }"""


def _raw_request(port: int, head: bytes, body: bytes = b"") -> bytes:
    """Send ``head`` (and ``body``) on a plain socket and return what the server answers."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(head + body)
        chunks = []
        while True:
            try:
                chunk = sock.recv(65536)
            except ConnectionResetError:
                break
            if not chunk:
                break
            chunks.append(chunk)
    return b"".join(chunks)


def test_a_declared_body_over_the_limit_gets_413_before_any_of_it_is_sent(api):
    # headers promise 20 MB, no body byte follows: the answer can only come unread
    head = (
        b"POST /graphql HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        + f"X-API-Key: {KEYS['admin']}\r\n".encode()
        + b"Content-Length: 20971520\r\n\r\n"
    )
    answer = _raw_request(api.port, head)
    status, _, rest = answer.partition(b"\r\n")
    assert status == b"HTTP/1.1 413 Request Entity Too Large"
    body = json.loads(rest.split(b"\r\n\r\n", 1)[1])
    [error] = body["errors"]
    assert error["extensions"]["code"] == "PAYLOAD_TOO_LARGE"
    assert "1,048,576 bytes" in error["message"]


def test_a_streamed_body_over_the_limit_gets_413(http):
    def chunks():
        for _ in range(40):  # 2.5 MB in 64 KB chunks, no Content-Length
            yield b" " * 65536

    response = http.post("/graphql", content=chunks(), headers={"Content-Type": "application/json"})
    assert response.status_code == 413
    assert response.json()["errors"][0]["extensions"]["code"] == "PAYLOAD_TOO_LARGE"


def test_a_body_under_the_limit_is_served(http):
    padding = " " * 900_000
    response = http.post(
        "/graphql",
        content=('{"query": "{ health { status } }"' + padding + "}").encode(),
        headers={"Content-Type": "application/json"},
    )
    assert response.status_code == 200 and response.json()["data"]["health"]["status"] == "ok"


def test_a_record_over_the_row_limit_is_refused_naming_the_row_and_nothing_is_stored(http):
    http.post("/graphql", json={"query": REGISTER}).raise_for_status()
    record = {"sourceId": "C1", "givenName": "Ann", "notes": "x" * 70_000}
    body = http.post("/graphql", json={"query": RECORD, "variables": {"record": record}}).json()
    [error] = body["errors"]
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert error["extensions"]["fields"] == [
        {"field": "row", "reason": error["extensions"]["fields"][0]["reason"]}
    ]
    assert "the limit is 65,536" in error["extensions"]["fields"][0]["reason"]
    found = http.post(
        "/graphql",
        json={"query": '{ personBySourceRecord(source: "shop", sourceId: "C1") { personId } }'},
    ).json()
    assert found["data"]["personBySourceRecord"] is None


def test_a_name_with_a_nul_or_a_number_is_stored_without_it_and_warned(http):
    http.post("/graphql", json={"query": REGISTER}).raise_for_status()
    record = {"sourceId": "C1", "givenName": "A\u0000nn", "familyName": 7, "email": "a@example.com"}
    body = http.post("/graphql", json={"query": RECORD, "variables": {"record": record}}).json()
    result = body["data"]["ingestRecord"]
    assert result["recordKey"] == "shop:C1" and result["personId"]
    assert sorted((w["field"], w["reason"]) for w in result["warnings"]) == [
        ("familyName", "is a number (7), not text"),
        ("givenName", "contains the control character U+0000 at character 2"),
    ]


def _blocked_transactions(driver, settings) -> int:
    rows, _, _ = driver.execute_query(
        "SHOW TRANSACTIONS YIELD status WHERE status STARTS WITH 'Blocked' RETURN count(*) AS n",
        database_=settings.neo4j_database,
    )
    return rows[0]["n"]


def test_writes_past_the_limit_are_told_to_retry_later_and_reads_go_on(
    api_settings, neo4j_driver, settings
):
    limited = api_settings.model_copy(update={"max_concurrent_writes": 1, "write_wait_s": 0.0})
    with RunningApp(create_app(limited)) as app:
        headers = {"X-API-Key": KEYS["admin"]}
        with httpx.Client(base_url=app.url, timeout=30, headers=headers) as client:
            client.post("/graphql", json={"query": REGISTER}).raise_for_status()
            first: dict = {}
            # hold the Source node's lock so the first write waits inside its slot
            with neo4j_driver.session(database=settings.neo4j_database) as session:
                tx = session.begin_transaction()
                tx.run("MATCH (s:Source {id: 'shop'}) SET s.heldByTest = true").consume()

                def write() -> None:
                    first["body"] = client.post("/graphql", json={"query": REGISTER}).json()

                writer = threading.Thread(target=write)
                writer.start()
                deadline = time.monotonic() + 20
                while not _blocked_transactions(neo4j_driver, settings):
                    assert time.monotonic() < deadline, "the first write never reached Neo4j"
                    time.sleep(0.05)
                second = client.post("/graphql", json={"query": REGISTER}).json()
                read = client.post("/graphql", json={"query": "{ sources { id } }"}).json()
                tx.rollback()
                tx.close()
            writer.join(timeout=30)
    [error] = second["errors"]
    assert error["extensions"] == {"code": "TOO_MANY_REQUESTS", "retryAfter": 1}
    assert "retry later" in error["message"] and second["data"] is None
    assert read["data"] == {"sources": [{"id": "shop"}]}
    assert first["body"]["data"] == {"registerSource": {"id": "shop"}}


def test_a_finished_write_gives_its_slot_back(api_settings):
    limited = api_settings.model_copy(update={"max_concurrent_writes": 1, "write_wait_s": 0.0})
    with RunningApp(create_app(limited)) as app:
        headers = {"X-API-Key": KEYS["admin"]}
        with httpx.Client(base_url=app.url, timeout=30, headers=headers) as client:
            for _ in range(3):
                body = client.post("/graphql", json={"query": REGISTER}).json()
                assert body["data"] == {"registerSource": {"id": "shop"}}
