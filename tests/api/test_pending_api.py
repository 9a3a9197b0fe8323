"""Nothing stuck, through the API: a retried ingestRecord answers the stored decision and
makes no second person; the API resolves pending records when it starts; /ready counts them."""

from __future__ import annotations

import httpx

from graph.ingest import ingest_record
from graph.store import records, sources
from graph.store.sources import validate_source

INGEST = """mutation($record: JSON!) {
  ingestRecord(input: {source: "shop", record: $record}) {
    recordKey outcome decision rule score personId } }"""

ADA = {"sourceId": "C1", "givenName": "Ada", "familyName": "Lovelace", "email": "ada@ex.com"}
ADA2 = {**ADA, "sourceId": "C2"}


def _ingest(client, record):
    response = client.post("/graphql", json={"query": INGEST, "variables": {"record": record}})
    assert response.status_code == 200, response.text
    return response.json()["data"]["ingestRecord"]


def _people(driver, settings) -> int:
    rows, _, _ = driver.execute_query(
        "MATCH (p:Person) RETURN count(p) AS n", database_=settings.neo4j_database
    )
    return rows[0]["n"]


def test_a_retried_ingest_record_answers_the_stored_decision(http, neo4j_driver, settings):
    sources.register_source(neo4j_driver, settings, validate_source("shop", "COMMERCE", "S", 1))
    created = _ingest(http, ADA)
    linked = _ingest(http, ADA2)
    assert (created["decision"], linked["decision"]) == ("created", "linked")
    # the client did not hear the answers (an uncertain commit) and sends both again
    assert _ingest(http, ADA2) == {**linked, "outcome": "unchanged"}
    assert _ingest(http, ADA) == {**created, "outcome": "unchanged"}
    assert _people(neo4j_driver, settings) == 1
    ready = http.get("/ready").json()
    assert ready["status"] == "ready" and ready["pendingRecords"] == 0


def test_the_api_resolves_pending_records_when_it_starts(neo4j_driver, settings, api_with, keys):
    sources.register_source(neo4j_driver, settings, validate_source("shop", "COMMERCE", "S", 1))
    # stored by a process that died before resolving them
    ingest_record(neo4j_driver, settings, "shop", ADA)
    ingest_record(neo4j_driver, settings, "shop", ADA2)
    assert records.count_pending(neo4j_driver, settings) == 2
    with (
        api_with() as app,
        httpx.Client(base_url=app.url, headers={"X-API-Key": keys["admin"]}, timeout=30) as client,
    ):
        assert client.get("/ready").json()["pendingRecords"] == 0
        assert _ingest(client, ADA)["decision"] == "created"
    assert _people(neo4j_driver, settings) == 1
