"""Malformed values and government ids through the API: a record with a bad value is stored
with its warnings; a national id is an identifier for admin and agent, erased by forgetPerson,
and never shown to a marketer."""

from __future__ import annotations

import json

import pytest

from graph.ingest import ingest_record


def gql(client, query: str, **variables):
    response = client.post("/graphql", json={"query": query, "variables": variables})
    assert response.status_code == 200, response.text
    return response.json()


def codes(body) -> list[str]:
    return [e.get("extensions", {}).get("code") for e in body.get("errors", [])]


INGEST = """mutation($source: String!, $record: JSON!) {
  ingestRecord(input: {source: $source, record: $record}) {
    recordKey outcome personId warnings { field reason } } }"""
INGEST_WITH_RECORD = """mutation($source: String!, $record: JSON!) {
  ingestRecord(input: {source: $source, record: $record}) {
    recordKey personId warnings { field reason }
    record { birthDate email nationalId qualityFlags invalidFields { field value reason } } } }"""
RECORDS = """query($id: String!) { person(id: $id) { personId
  sourceRecords(first: 10) { edges { node { recordKey nationalId raw attributes qualityFlags
    identifiers { type value } invalidFields { field value reason } } } } } }"""
BY_ID = """query($v: String!) { personByIdentifier(type: "NATIONAL_ID", value: $v) { personId } }"""


@pytest.fixture
def store(http):
    for sid, kind in (("store", "STORE"), ("shop", "COMMERCE")):
        gql(
            http,
            "mutation($id: String!, $kind: SourceKind!) { registerSource(input: "
            "{id: $id, kind: $kind, name: $id}) { id } }",
            id=sid,
            kind=kind,
        )
    return "store"


def test_ingest_record_with_a_bad_birth_date_stores_it_and_returns_the_warning(http, store):
    body = gql(
        http,
        INGEST_WITH_RECORD,
        source=store,
        record={
            "store_customer_id": "S1",
            "given_name": "Ann",
            "surname": "Lee",
            "date_of_birth": "1955-11-92",
            "email_address": "ann@example.com",
        },
    )
    result = body["data"]["ingestRecord"]
    assert result["personId"] and [w["field"] for w in result["warnings"]] == ["date_of_birth"]
    record = result["record"]
    assert record["birthDate"] is None and record["email"] == "ann@example.com"
    assert [(f["field"], f["value"]) for f in record["invalidFields"]] == [
        ("birthDate", "1955-11-92")
    ]
    assert any(f.startswith("birthDate: invalid") for f in record["qualityFlags"])


def test_the_ingest_role_gets_warnings_but_not_the_record(client_as, store):
    body = gql(
        client_as("ingest"),
        INGEST,
        source=store,
        record={"store_customer_id": "S2", "email_address": "bad@@example"},
    )
    assert [w["field"] for w in body["data"]["ingestRecord"]["warnings"]] == ["email_address"]
    denied = gql(
        client_as("ingest"),
        INGEST_WITH_RECORD,
        source=store,
        record={"store_customer_id": "S3", "email_address": "c@example.com"},
    )
    assert "FORBIDDEN" in codes(denied)


def _consent_to_everything(driver, settings, source, source_id):
    for channel in ("email", "sms", "push", "web"):
        ingest_record(
            driver,
            settings,
            source,
            {
                "customer_no": source_id,
                "channel": channel,
                "purpose": "marketing",
                "status": "opt-in",
                "at": "2025-01-01T00:00:00Z",
            },
            file_type="consents",
        )


def test_a_national_id_is_an_identifier_for_agents_and_never_shown_to_marketers(
    http, client_as, store, neo4j_driver, api_settings
):
    pid = gql(
        http,
        INGEST,
        source="shop",
        record={
            "customer_no": "C1",
            "first_name": "Ann",
            "email": "ann@example.com",
            "ssn": "078-05-1120",
            "birthday": "1955-11-92",
        },
    )["data"]["ingestRecord"]["personId"]
    _consent_to_everything(neo4j_driver, api_settings, "shop", "C1")

    agent = gql(client_as("agent"), RECORDS, id=pid)["data"]["person"]
    shop = next(
        e["node"] for e in agent["sourceRecords"]["edges"] if e["node"]["recordKey"] == "shop:C1"
    )
    assert shop["nationalId"] == "078051120"
    assert {"type": "NATIONAL_ID", "value": "078051120"} in shop["identifiers"]
    assert shop["attributes"] is None  # mapped, never a free attribute
    assert gql(client_as("agent"), BY_ID, v="078-05-1120")["data"]["personByIdentifier"] == {
        "personId": pid
    }

    marketer = client_as("marketer")
    seen = gql(marketer, RECORDS, id=pid)
    assert "errors" not in seen, seen
    text = json.dumps(seen)
    assert "078051120" not in text and "078-05-1120" not in text and "078 05 1120" not in text
    for edge in seen["data"]["person"]["sourceRecords"]["edges"]:
        node = edge["node"]
        assert node["nationalId"] is None and node["raw"] is None
        assert all(i["type"] != "NATIONAL_ID" for i in node["identifiers"])
        assert all(f["value"] is None for f in node["invalidFields"])
    shop_seen = next(
        e["node"]
        for e in seen["data"]["person"]["sourceRecords"]["edges"]
        if e["node"]["recordKey"] == "shop:C1"
    )
    assert any(i["type"] == "EMAIL" for i in shop_seen["identifiers"])  # consent still counts
    assert codes(gql(marketer, BY_ID, v="078-05-1120")) == ["FORBIDDEN"]


def test_export_shows_the_national_id_and_forget_erases_and_remembers_it(
    http, store, neo4j_driver, api_settings
):
    pid = gql(
        http,
        INGEST,
        source=store,
        record={"store_customer_id": "S1", "given_name": "Ann", "soc_sec_id": "078-05-1120"},
    )["data"]["ingestRecord"]["personId"]
    export = gql(http, "query($id: String!) { exportPerson(personId: $id) }", id=pid)["data"][
        "exportPerson"
    ]
    [record] = export["records"]
    assert record["normalised"]["nationalId"] == "078051120"
    assert {"type": "NATIONAL_ID", "value": "078051120"} in record["identifiers"]

    forgot = gql(
        http,
        "mutation($id: String!) { forgetPerson(input: {personId: $id}) { identifiersRemembered } }",
        id=pid,
    )["data"]["forgetPerson"]
    assert forgot["identifiersRemembered"] == 1

    def rows(query):
        return neo4j_driver.execute_query(query, database_=api_settings.neo4j_database)[0]

    assert rows("MATCH (i:Identifier {type: 'NATIONAL_ID'}) RETURN i") == []
    assert [r["t"] for r in rows("MATCH (f:ForgottenIdentifier) RETURN f.type AS t")] == [
        "NATIONAL_ID"
    ]
    assert rows("MATCH (r:SourceRecord) WHERE r.nationalId IS NOT NULL RETURN r") == []
    # the same government id sent again, by another source under another name, is held back
    again = gql(
        http,
        INGEST,
        source="shop",
        record={"customer_no": "C5", "first_name": "Anne", "national_id": "078051120"},
    )["data"]["ingestRecord"]
    assert again["personId"] is None
    flagged = rows("MATCH (r:SourceRecord {key: 'shop:C5'}) RETURN r.forgottenMatch AS f")
    assert flagged[0]["f"] is True
