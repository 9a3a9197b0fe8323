"""History through the API: orders, carts, cases, engagement, consents, timeline; events
ingest; consent setting; and the query count of a person and of a page of people (no N+1)."""

from __future__ import annotations

import pytest

from graph.store import people


def gql(client, query: str, **variables):
    response = client.post("/graphql", json={"query": query, "variables": variables})
    assert response.status_code == 200, response.text
    return response.json()


def codes(body) -> list[str]:
    return [e.get("extensions", {}).get("code") for e in body.get("errors", [])]


EVENTS = """mutation($source: String!, $type: EventType!, $rows: [JSON!]!) {
  ingestEvents(input: {source: $source, type: $type, rows: $rows}) {
    created updated unchanged stale rejected errors { row field reason } } }"""
RECORD = """mutation($source: String!, $record: JSON!) {
  ingestRecord(input: {source: $source, record: $record}) { personId } }"""


@pytest.fixture
def ann(http, client_as):
    for sid, kind in (("shop", "COMMERCE"), ("desk", "SERVICE"), ("mail", "MARKETING")):
        gql(
            http,
            "mutation($id: String!, $kind: SourceKind!) { registerSource(input: "
            "{id: $id, kind: $kind, name: $id}) { id } }",
            id=sid,
            kind=kind,
        )
    ingester = client_as("ingest")
    pid = gql(
        ingester,
        RECORD,
        source="shop",
        record={"customer_no": "C1", "first_name": "Ann", "email": "ann@example.com"},
    )["data"]["ingestRecord"]["personId"]
    gql(
        ingester,
        RECORD,
        source="desk",
        record={"Id": "003A", "FirstName": "Ann", "PersonEmail": "ann@example.com"},
    )
    body = gql(
        ingester,
        EVENTS,
        source="shop",
        type="PRODUCTS",
        rows=[{"product_id": "SKU-1", "product_name": "Mug", "price": "9.50", "currency": "EUR"}],
    )
    assert body["data"]["ingestEvents"]["created"] == 1
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
            },
            {
                "order_no": "O2",
                "customer_no": "C1",
                "creation_date": "2025-03-10T10:00:00Z",
                "status": "shipped",
                "order_total": "9.50",
                "currency": "EUR",
            },
            {"order_no": "", "customer_no": "C1", "creation_date": "not a date"},
        ],
    )
    result = body["data"]["ingestEvents"]
    assert (result["created"], result["rejected"]) == (2, 1)
    assert {(e["row"], e["field"]) for e in result["errors"]} == {
        (2, "order_no"),
        (2, "creation_date"),
    }
    gql(
        ingester,
        EVENTS,
        source="shop",
        type="ORDER_LINES",
        rows=[
            {
                "order_no": "O1",
                "position": "1",
                "product_id": "SKU-1",
                "quantity": "2",
                "base_price": "9.50",
            }
        ],
    )
    gql(
        ingester,
        EVENTS,
        source="desk",
        type="CASES",
        rows=[
            {
                "CaseNumber": "00007",
                "ContactId": "003A",
                "Subject": "Broken mug",
                "Status": "New",
                "CreatedDate": "2025-02-01T09:00:00Z",
            }
        ],
    )
    gql(
        ingester,
        EVENTS,
        source="shop",
        type="CARTS",
        rows=[
            {
                "basket_id": "K1",
                "customer_no": "C1",
                "status": "abandoned",
                "last_modified": "2025-03-20T10:00:00Z",
                "items": [{"sku": "SKU-1", "quantity": 1}],
            }
        ],
    )
    return pid


HISTORY = """query($id: String!, $since: String) { person(id: $id) {
  orders(first: 5, since: $since) { totalCount edges { node { orderId status total sourceRecord lines { sku quantity name } } } }
  cases { totalCount edges { node { caseId subject sourceRecord } } }
  carts { edges { node { status lines { sku quantity } } } }
  timeline(first: 10) { totalCount edges { node { at type sourceRecord summary } } } } }"""


def test_history_of_every_system_hangs_off_the_person(client_as, ann):
    person = gql(client_as("agent"), HISTORY, id=ann)["data"]["person"]
    orders = [e["node"] for e in person["orders"]["edges"]]
    assert [o["orderId"] for o in orders] == ["O2", "O1"]  # newest first
    assert orders[1]["lines"] == [{"sku": "SKU-1", "quantity": 2, "name": "Mug"}]
    assert orders[0]["sourceRecord"] == "shop:C1"
    assert person["cases"]["edges"][0]["node"] == {
        "caseId": "00007",
        "subject": "Broken mug",
        "sourceRecord": "desk:003A",
    }
    assert person["carts"]["edges"][0]["node"] == {
        "status": "ABANDONED",
        "lines": [{"sku": "SKU-1", "quantity": 1}],
    }
    timeline = [e["node"]["type"] for e in person["timeline"]["edges"]]
    assert timeline == ["ORDER", "CASE", "ORDER"]
    since = gql(client_as("agent"), HISTORY, id=ann, since="2025-02-15T00:00:00Z")["data"]["person"]
    assert since["orders"]["totalCount"] == 1


@pytest.mark.parametrize("since", ["last tuesday", "0", "n/a"])
def test_bad_time_filter_is_bad_user_input(client_as, ann, since):
    body = gql(client_as("agent"), HISTORY, id=ann, since=since)
    assert codes(body) == ["BAD_USER_INPUT"]
    assert body["errors"][0]["extensions"]["fields"][0]["field"] == "since"


CONSENT = """mutation($id: String!, $channel: String!, $status: String!, $at: String) {
  setConsent(input: {personId: $id, channel: $channel, purpose: "marketing", status: $status, at: $at}) {
    consents { channel purpose status sourceRecord } } }"""


def test_agents_set_consent_the_latest_event_wins_and_history_is_kept(client_as, ann):
    agent = client_as("agent")
    gql(agent, CONSENT, id=ann, channel="email", status="granted", at="2025-01-01T00:00:00Z")
    body = gql(
        agent, CONSENT, id=ann, channel="email", status="withdrawn", at="2025-02-01T00:00:00Z"
    )
    assert body["data"]["setConsent"]["consents"] == [
        {
            "channel": "EMAIL",
            "purpose": "MARKETING",
            "status": "WITHDRAWN",
            "sourceRecord": "api:api-key:agen…",
        }
    ]
    again = gql(
        agent, CONSENT, id=ann, channel="email", status="withdrawn", at="2025-02-01T00:00:00Z"
    )
    assert "errors" not in again
    history = gql(
        agent,
        """query($id: String!) { person(id: $id) { consentHistory { totalCount
        edges { node { status at } } } } }""",
        id=ann,
    )["data"]["person"]["consentHistory"]
    assert history["totalCount"] == 2  # the retry added nothing
    assert [e["node"]["status"] for e in history["edges"]] == ["WITHDRAWN", "GRANTED"]


@pytest.mark.parametrize(("role", "code"), [("marketer", "FORBIDDEN"), ("ingest", "FORBIDDEN")])
def test_only_agents_and_admins_set_consent(client_as, ann, role, code):
    body = gql(client_as(role), CONSENT, id=ann, channel="email", status="granted")
    assert codes(body) == [code]


def test_bad_consent_input_names_each_field(client_as, ann):
    body = gql(client_as("agent"), CONSENT, id=ann, channel="pigeon", status="maybe")
    assert codes(body) == ["BAD_USER_INPUT"]
    assert {f["field"] for f in body["errors"][0]["extensions"]["fields"]} == {"channel", "status"}
    body = gql(client_as("agent"), CONSENT, id="p-unknown", channel="email", status="granted")
    assert codes(body) == ["NOT_FOUND"]


def test_events_for_an_unknown_source_or_non_object_rows_are_refused(client_as):
    ingester = client_as("ingest")
    assert codes(gql(ingester, EVENTS, source="nowhere", type="ORDERS", rows=[{}])) == ["NOT_FOUND"]
    body = gql(ingester, EVENTS, source="nowhere", type="ORDERS", rows=[1, "x"])
    assert codes(body) == ["BAD_USER_INPUT"]


@pytest.fixture
def count_queries(monkeypatch):
    """The first line of every Cypher statement the views run, in order."""
    calls: list[str] = []
    original = people.read

    def counting(driver, settings, query, **params):
        calls.append(query.strip().splitlines()[0])
        return original(driver, settings, query, **params)

    monkeypatch.setattr(people, "read", counting)
    return calls


PERSON_360 = """query($id: String!) { person(id: $id) { personId givenName email
  sourceRecords(first: 10) { totalCount edges { node { recordKey identifiers { type value } whyLinked { rule } } } }
  orders(first: 10) { totalCount edges { node { orderId lines { sku unitPrice } } } }
  consents { channel status }
  timeline(first: 10) { totalCount edges { node { at type summary } } } } }"""


def test_a_person_360_view_is_one_query(client_as, ann, count_queries):
    person = gql(client_as("agent"), PERSON_360, id=ann)["data"]["person"]
    assert len(count_queries) == 1, count_queries  # the person with everything selected under it
    assert person["sourceRecords"]["totalCount"] == 2 and person["orders"]["totalCount"] == 2
    assert [e["node"]["type"] for e in person["timeline"]["edges"]] == ["ORDER", "CASE", "ORDER"]
    # a marketer's email needs the person's consents: they come in the same query
    count_queries.clear()
    body = gql(
        client_as("marketer"),
        "query($id: String!) { person(id: $id) { email orders { totalCount } } }",
        id=ann,
    )
    assert body["data"]["person"] == {"email": None, "orders": {"totalCount": 2}}
    assert len(count_queries) == 1, count_queries


PAGE = """query($ids: [String!]!) { people(ids: $ids) { personId givenName
  sourceRecords(first: 5) { totalCount edges { node { recordKey whyLinked { rule } } } }
  orders(first: 10) { totalCount edges { node { orderId lines { sku } } } }
  consents { channel status } } }"""


def test_a_page_of_people_costs_a_constant_number_of_queries(http, client_as, count_queries):
    gql(
        http,
        'mutation { registerSource(input: {id: "shop", kind: COMMERCE, name: "Shop"}) { id } }',
    )
    ingester = client_as("ingest")
    ids = []
    for n in range(50):
        body = gql(
            ingester,
            RECORD,
            source="shop",
            record={"customer_no": f"C{n}", "first_name": f"P{n}", "email": f"p{n}@example.com"},
        )
        ids.append(body["data"]["ingestRecord"]["personId"])
        gql(
            ingester,
            EVENTS,
            source="shop",
            type="ORDERS",
            rows=[
                {
                    "order_no": f"O{n}",
                    "customer_no": f"C{n}",
                    "creation_date": "2025-01-10T10:00:00Z",
                }
            ],
        )
    for size in (5, 50):
        count_queries.clear()
        body = gql(client_as("agent"), PAGE, ids=ids[:size])
        people = body["data"]["people"]
        assert len(people) == size and all(p["orders"]["totalCount"] == 1 for p in people)
        assert len(count_queries) == 1, count_queries  # people with records, orders, consents


EXPORT = """query($id: String!) { exportPerson(personId: $id) }"""


def test_export_person_returns_every_fact_with_its_source(http, client_as, ann):
    body = gql(http, EXPORT, id=ann)
    export = body["data"]["exportPerson"]
    assert export["personId"] == ann
    assert export["golden"]["givenName"] == {
        "value": "Ann",
        "source": export["golden"]["givenName"]["source"],
    }
    assert export["golden"]["givenName"]["source"] in {"shop:C1", "desk:003A"}
    records = {r["key"]: r for r in export["records"]}
    assert set(records) == {"shop:C1", "desk:003A"}
    shop = records["shop:C1"]
    assert shop["source"] == {"id": "shop", "kind": "COMMERCE", "name": "shop"}
    assert shop["received"]["email"] == "ann@example.com"  # the row as the source sent it
    assert {"type": "EMAIL", "value": "ann@example.com"} in shop["identifiers"]
    assert sorted(o["id"] for o in shop["orders"]) == ["O1", "O2"]
    assert records["desk:003A"]["cases"][0]["subject"] == "Broken mug"
    assert [e["kind"] for e in export["resolutionEvents"]] == ["CREATED", "LINKED"]
    # subject access is an admin task
    assert codes(gql(client_as("agent"), EXPORT, id=ann)) == ["FORBIDDEN"]
    assert codes(gql(http, EXPORT, id="p-unknown")) == ["NOT_FOUND"]


FORGET = """mutation($id: String!) { forgetPerson(input: {personId: $id, reason: "GDPR art. 17"}) {
  recordsErased sources identifiersRemembered eventId } }"""


def test_forget_person_erases_everything_and_flags_a_returning_record(
    http, client_as, ann, neo4j_driver, api_settings
):
    other = gql(
        client_as("ingest"),
        RECORD,
        source="shop",
        record={"customer_no": "C9", "first_name": "Bo", "email": "bo@example.com"},
    )["data"]["ingestRecord"]["personId"]
    assert codes(gql(client_as("agent"), FORGET, id=ann)) == ["FORBIDDEN"]
    result = gql(http, FORGET, id=ann)["data"]["forgetPerson"]
    assert result["recordsErased"] == 2 and sorted(result["sources"]) == ["desk", "shop"]
    assert result["identifiersRemembered"] == 1  # the shared email, hashed

    def count(query):
        return neo4j_driver.execute_query(query, database_=api_settings.neo4j_database)[0][0]["n"]

    assert (
        gql(http, "query($id: String!) { person(id: $id) { personId } }", id=ann)["data"]["person"]
        is None
    )
    assert (
        count("MATCH (r:SourceRecord) WHERE r.key IN ['shop:C1', 'desk:003A'] RETURN count(r) AS n")
        == 0
    )
    assert count("MATCH (i:Identifier {value: 'ann@example.com'}) RETURN count(i) AS n") == 0
    assert count("MATCH (o:Order) RETURN count(o) AS n") == 0
    assert count("MATCH (c:Case) RETURN count(c) AS n") == 0
    events = neo4j_driver.execute_query(
        "MATCH (e:ResolutionEvent {kind: 'FORGOTTEN'}) RETURN properties(e) AS e",
        database_=api_settings.neo4j_database,
    )[0]
    assert len(events) == 1
    assert "ann" not in str(events[0]["e"]).lower() and ann not in str(events[0]["e"])
    assert gql(http, "query($id: String!) { person(id: $id) { personId } }", id=other)["data"][
        "person"
    ]
    # the same person sent again is held back, not silently re-created
    again = gql(
        client_as("ingest"),
        RECORD,
        source="shop",
        record={"customer_no": "C77", "first_name": "Ann", "email": "ANN@example.com"},
    )["data"]["ingestRecord"]
    assert again["personId"] is None
    assert (
        count("MATCH (r:SourceRecord {key: 'shop:C77', forgottenMatch: true}) RETURN count(r) AS n")
        == 1
    )
    assert codes(gql(http, FORGET, id=ann)) == ["NOT_FOUND"]
