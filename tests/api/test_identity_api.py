"""What a person is known by, why, and the audit trail, through the API: emails, phones and
addresses with their records, link explanations, resolution events (per person and as a
query), a record's own source, attributes and history, and what a marketer may see."""

from __future__ import annotations

import pytest


def gql(client, query: str, **variables):
    response = client.post("/graphql", json={"query": query, "variables": variables})
    assert response.status_code == 200, response.text
    return response.json()


def codes(body) -> list[str]:
    return [e.get("extensions", {}).get("code") for e in body.get("errors", [])]


RECORD = """mutation($source: String!, $record: JSON!) {
  ingestRecord(input: {source: $source, record: $record}) { personId } }"""
EVENTS = """mutation($source: String!, $type: EventType!, $rows: [JSON!]!) {
  ingestEvents(input: {source: $source, type: $type, rows: $rows}) { created rejected } }"""


@pytest.fixture
def ann(http, client_as):
    """Ann: a shop and a desk record sharing an email, with two phones and one address."""
    for sid, kind, priority in (("shop", "COMMERCE", 40), ("desk", "SERVICE", 70)):
        gql(
            http,
            "mutation($id: String!, $kind: SourceKind!, $p: Int!) { registerSource(input: "
            "{id: $id, kind: $kind, name: $id, priority: $p}) { id } }",
            id=sid,
            kind=kind,
            p=priority,
        )
    ingester = client_as("ingest")
    address = {
        "addressLine1": "1 High Street",
        "city": "London",
        "postcode": "sw1a 1aa",
        "country": "GB",
    }
    pid = gql(
        ingester,
        RECORD,
        source="shop",
        record={
            "sourceId": "C1",
            "givenName": "Ann",
            "familyName": "Lee",
            "email": "Ann.Lee@Example.com",
            "phone": "+44 7700 900123",
            "loyalty_tier": "gold",
            "updatedAt": "2025-01-01T00:00:00Z",
            **address,
        },
    )["data"]["ingestRecord"]["personId"]
    gql(
        ingester,
        RECORD,
        source="desk",
        record={
            "sourceId": "003A",
            "givenName": "Ann",
            "familyName": "Lee",
            "email": "ann.lee@example.com",
            "phone": "07700 900456",
            "updatedAt": "2025-02-01T00:00:00Z",
            **address,
        },
    )
    body = gql(
        ingester,
        EVENTS,
        source="shop",
        type="ORDERS",
        rows=[
            {
                "order_no": "O1",
                "customer_no": "C1",
                "creation_date": "2025-01-10T10:00:00Z",
                "status": "paid",
                "order_total": "19.00",
                "currency": "EUR",
            }
        ],
    )
    assert body["data"]["ingestEvents"]["created"] == 1, body
    return pid


KNOWN = """query($id: String!) { person(id: $id) {
  emails { value recordKeys sources lastUpdatedAt }
  phones { value recordKeys }
  addresses { addressLine1 city postcode country recordKeys sources }
  explanation { recordKey source summary whyLinked { rule matchedRecord actor scores { field score } } }
  resolutionEvents(first: 10) { totalCount edges { node { kind actor recordKeys rule } } } } }"""


def test_a_person_lists_what_it_is_known_by_and_why_it_holds_each_record(client_as, ann):
    person = gql(client_as("agent"), KNOWN, id=ann)["data"]["person"]
    assert person["emails"] == [
        {
            "value": "ann.lee@example.com",
            "recordKeys": ["desk:003A", "shop:C1"],
            "sources": ["desk", "shop"],
            "lastUpdatedAt": "2025-02-01T00:00:00Z",
        }
    ]
    assert sorted(p["value"] for p in person["phones"]) == ["+447700900123", "+447700900456"]
    assert all(len(p["recordKeys"]) == 1 for p in person["phones"])
    [address] = person["addresses"]
    assert address["recordKeys"] == ["desk:003A", "shop:C1"] and address["country"] == "GB"
    first, second = person["explanation"]
    assert (
        first["recordKey"],
        first["whyLinked"]["rule"],
        first["whyLinked"]["matchedRecord"],
    ) == ("shop:C1", "first_record", None)
    assert (
        second["recordKey"],
        second["whyLinked"]["rule"],
        second["whyLinked"]["matchedRecord"],
    ) == ("desk:003A", "email", "shop:C1")
    assert "by rule email" in second["summary"]
    events = [e["node"] for e in person["resolutionEvents"]["edges"]]
    assert [e["kind"] for e in events] == ["LINKED", "CREATED"]
    assert events[0]["recordKeys"] == ["desk:003A"]


EVENTS_QUERY = """query($person: String, $kinds: [IdentityEventKind!], $first: Int,
  $after: String, $since: String) {
  resolutionEvents(personId: $person, kinds: $kinds, first: $first, after: $after, since: $since) {
    totalCount pageInfo { hasNextPage endCursor } edges { cursor node { kind personId } } } }"""


def test_resolution_events_query_filters_and_pages(client_as, ann):
    agent = client_as("agent")
    page = gql(agent, EVENTS_QUERY, person=ann, first=1)["data"]["resolutionEvents"]
    assert page["totalCount"] == 2 and page["pageInfo"]["hasNextPage"]
    rest = gql(agent, EVENTS_QUERY, person=ann, first=5, after=page["pageInfo"]["endCursor"])[
        "data"
    ]["resolutionEvents"]
    assert [e["node"]["kind"] for e in page["edges"] + rest["edges"]] == ["LINKED", "CREATED"]
    assert not rest["pageInfo"]["hasNextPage"]
    created = gql(agent, EVENTS_QUERY, kinds=["CREATED"])["data"]["resolutionEvents"]
    assert [e["node"]["personId"] for e in created["edges"]] == [ann]


@pytest.mark.parametrize(
    ("variables", "field"),
    [
        ({"after": "garbage"}, "after"),
        ({"since": "last week"}, "since"),
        ({"since": "0"}, "since"),
        ({"first": -1}, "first"),
    ],
)
def test_bad_resolution_event_filters_are_bad_user_input(client_as, ann, variables, field):
    body = gql(client_as("agent"), EVENTS_QUERY, **variables)
    assert codes(body) == ["BAD_USER_INPUT"]
    assert body["errors"][0]["extensions"]["fields"][0]["field"] == field
    assert body["data"] is None


def test_the_ingest_role_may_not_read_the_audit_trail(client_as, ann):
    assert codes(gql(client_as("ingest"), EVENTS_QUERY)) == ["FORBIDDEN"]


RECORDS = """query($id: String!) { person(id: $id) { sourceRecords(first: 5) { edges { node {
  recordKey email phone raw identifiers { type value }
  source { id kind name priority } attributes
  orders { totalCount edges { node { orderId sourceRecord } } } } } } } }"""


def test_a_record_has_its_source_its_attributes_and_its_own_history(client_as, ann):
    records = {
        e["node"]["recordKey"]: e["node"]
        for e in gql(client_as("agent"), RECORDS, id=ann)["data"]["person"]["sourceRecords"][
            "edges"
        ]
    }
    shop, desk = records["shop:C1"], records["desk:003A"]
    assert shop["source"] == {"id": "shop", "kind": "COMMERCE", "name": "shop", "priority": 40}
    assert shop["attributes"] == {"loyalty_tier": "gold"}
    assert desk["attributes"] is None
    assert [e["node"]["orderId"] for e in shop["orders"]["edges"]] == ["O1"]
    assert desk["orders"]["totalCount"] == 0


CONSENT = """mutation($id: String!) { setConsent(input: {personId: $id, channel: "email",
  purpose: "marketing", status: "granted", at: "2025-03-01T00:00:00Z"}) { consents { status } } }"""


def test_a_marketer_sees_no_raw_identifier_without_consent_for_its_channel(client_as, ann):
    marketer = client_as("marketer")
    records = [
        e["node"]
        for e in gql(marketer, RECORDS, id=ann)["data"]["person"]["sourceRecords"]["edges"]
    ]
    assert all(
        r["email"] is None and r["phone"] is None and r["raw"] is None and r["identifiers"] == []
        for r in records
    )
    person = gql(marketer, KNOWN, id=ann)["data"]["person"]
    assert person["emails"] == [] and person["phones"] == []
    gql(client_as("agent"), CONSENT, id=ann)
    records = [
        e["node"]
        for e in gql(marketer, RECORDS, id=ann)["data"]["person"]["sourceRecords"]["edges"]
    ]
    assert {r["email"] for r in records} == {"ann.lee@example.com"}
    assert all(r["phone"] is None and r["raw"] is None for r in records)
    assert {i["type"] for r in records for i in r["identifiers"]} == {"EMAIL"}
    assert [e["value"] for e in gql(marketer, KNOWN, id=ann)["data"]["person"]["emails"]] == [
        "ann.lee@example.com"
    ]


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ('{ searchPeople(email: "not an email") { totalCount } }', "email"),
        ('{ searchPeople(phone: "12") { totalCount } }', "phone"),
        ('{ searchPeople(name: "Ann", after: "b2Zmc2V0Oi01") { totalCount } }', "after"),
    ],
)
def test_search_errors_name_the_argument(client_as, ann, query, field):
    body = gql(client_as("agent"), query)
    assert codes(body) == ["BAD_USER_INPUT"]
    assert body["errors"][0]["extensions"]["fields"][0]["field"] == field


def test_empty_source_record_lookup_and_unknown_source_say_what_to_do(client_as, http, ann):
    body = gql(
        client_as("agent"), '{ personBySourceRecord(source: " ", sourceId: "") { personId } }'
    )
    assert codes(body) == ["BAD_USER_INPUT"]
    assert [f["field"] for f in body["errors"][0]["extensions"]["fields"]] == ["source", "sourceId"]
    body = gql(http, RECORD, source="nope", record={"sourceId": "X1"})
    assert codes(body) == ["NOT_FOUND"] and "registerSource" in body["errors"][0]["message"]
