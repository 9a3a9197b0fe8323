"""The GraphQL API end to end: real HTTP, real Neo4j, every role, bad input."""

from __future__ import annotations

import time

import jwt
import pytest

from graph.ingest import ingest_record


def gql(client, query: str, **variables):
    response = client.post("/graphql", json={"query": query, "variables": variables})
    return response.status_code, response.json()


def codes(body) -> list[str]:
    return [e.get("extensions", {}).get("code") for e in body.get("errors", [])]


REGISTER = """mutation($id: String!, $kind: SourceKind!) {
  registerSource(input: {id: $id, kind: $kind, name: "Shop", priority: 40}) { id kind priority } }"""
INGEST = """mutation($source: String!, $record: JSON!) {
  ingestRecord(input: {source: $source, record: $record}) {
    recordKey outcome decision rule absorbedIds personId } }"""
PERSON = """query($id: String!) { person(id: $id) { personId givenName familyName email aliases
  sourceRecords(first: 10) { totalCount edges { cursor node { recordKey sourceId recordId
    email identifiers { type value } whyLinked { rule score matchedRecord scores { field score } } } } } } }"""


@pytest.fixture
def shop(http):
    status, body = gql(http, REGISTER, id="shop", kind="COMMERCE")
    assert status == 200 and body["data"]["registerSource"]["kind"] == "COMMERCE", body
    gql(http, REGISTER, id="desk", kind="SERVICE")
    return "shop"


def ingest(client, source, record):
    status, body = gql(client, INGEST, source=source, record=record)
    assert status == 200, body
    return body


def test_anonymous_requests_are_refused_except_health(client_as):
    anonymous = client_as(None)
    assert anonymous.get("/health").status_code == 200
    response = anonymous.post("/graphql", json={"query": "{ health { status } }"})
    assert response.status_code == 401
    assert codes(response.json()) == ["UNAUTHENTICATED"]
    assert anonymous.get("/ready").status_code == 401
    wrong = anonymous.post(
        "/graphql", json={"query": "{ health { status } }"}, headers={"X-API-Key": "not-a-key"}
    )
    assert wrong.status_code == 401


def test_bearer_token_carries_role_and_actor(api_settings, client_as, shop):
    secret = api_settings.jwt_secret.get_secret_value()
    token = jwt.encode(
        {"sub": "agent-007", "role": "agent", "exp": int(time.time()) + 60},
        secret,
        algorithm="HS256",
    )
    client = client_as(None)
    client.headers["Authorization"] = f"Bearer {token}"
    status, body = gql(client, "{ sources { id } }")
    assert status == 200 and {s["id"] for s in body["data"]["sources"]} == {"shop", "desk"}
    status, body = gql(client, REGISTER, id="x", kind="OTHER")
    assert codes(body) == ["FORBIDDEN"]
    bad = jwt.encode(
        {"sub": "x", "role": "admin"}, "another-secret-of-sufficient-length!!", algorithm="HS256"
    )
    client.headers["Authorization"] = f"Bearer {bad}"
    assert client.post("/graphql", json={"query": "{ health { status } }"}).status_code == 401


def test_ingest_creates_then_links_and_person_reads_back(http, client_as, shop):
    ingester = client_as("ingest")
    first = ingest(
        ingester,
        "shop",
        {
            "customer_no": "C1",
            "first_name": "Ann",
            "last_name": "Lee",
            "email": "Ann.Lee@Example.com",
        },
    )["data"]["ingestRecord"]
    assert (first["recordKey"], first["outcome"], first["decision"]) == (
        "shop:C1",
        "created",
        "created",
    )
    second = ingest(
        ingester,
        "desk",
        {"Id": "003A", "FirstName": "Ann", "LastName": "Lee", "PersonEmail": "ann.lee@example.com"},
    )["data"]["ingestRecord"]
    assert (second["decision"], second["rule"]) == ("linked", "email")
    person_id = first["personId"]
    assert second["personId"] == person_id

    status, body = gql(client_as("agent"), PERSON, id=person_id)
    person = body["data"]["person"]
    assert person["givenName"] == "Ann" and person["email"] == "ann.lee@example.com"
    records = person["sourceRecords"]
    assert records["totalCount"] == 2
    linked = {e["node"]["recordKey"]: e["node"]["whyLinked"] for e in records["edges"]}
    assert (
        linked["desk:003A"]["rule"] == "email" and linked["desk:003A"]["matchedRecord"] == "shop:C1"
    )
    assert {"field": "email", "score": 100.0} in linked["desk:003A"]["scores"]
    # the ingest role writes but may not read people
    status, body = gql(client_as("ingest"), PERSON, id=person_id)
    assert codes(body) == ["FORBIDDEN"]
    # the ingest role writes records but reads no profile: not even through ingestRecord
    status, body = gql(
        ingester,
        """mutation { ingestRecord(input: {source: "desk", record:
      {Id: "003A", FirstName: "Ann", LastName: "Lee", PersonEmail: "ann.lee@example.com"}})
      { outcome personId person { email } } }""",
    )
    assert codes(body) == ["FORBIDDEN"]
    assert body["data"]["ingestRecord"] == {
        "outcome": "unchanged",
        "personId": person_id,
        "person": None,
    }
    # a role that reads people gets the decision with its explanation
    status, body = gql(
        http,
        """mutation($record: JSON!) { ingestRecord(input: {source: "desk",
      record: $record}) { decision explanation { recordKey summary whyLinked { rule matchedRecord } } } }""",
        record={
            "Id": "003B",
            "FirstName": "Ann",
            "LastName": "Lee",
            "PersonEmail": "ANN.LEE@example.com ",
        },
    )
    assert body["data"]["ingestRecord"] == {
        "decision": "linked",
        "explanation": {
            "recordKey": "desk:003B",
            "whyLinked": {"rule": "email", "matchedRecord": "desk:003A"},
            "summary": "desk:003B matches desk:003A by rule email (email 100)",
        },
    }


def test_lookups_by_record_identifier_alias_and_global_id(http, shop):
    a = ingest(http, "shop", {"customer_no": "C1", "first_name": "Ann", "email": "ann@example.com"})
    b = ingest(http, "desk", {"Id": "003B", "FirstName": "Bo", "PersonEmail": "bo@example.com"})
    pa = a["data"]["ingestRecord"]["personId"]
    pb = b["data"]["ingestRecord"]["personId"]
    status, body = gql(
        http,
        """mutation($a: String!, $b: String!) { mergePeople(input: {personA: $a, personB: $b,
        reason: "same customer"}) { __typename ... on PersonMergeSuccess { person { personId aliases } absorbedIds } } }""",
        a=pa,
        b=pb,
    )
    merged = body["data"]["mergePeople"]
    assert merged["__typename"] == "PersonMergeSuccess" and merged["person"]["personId"] == pa
    assert merged["absorbedIds"] == [pb] and merged["person"]["aliases"] == [pb]
    status, body = gql(http, PERSON, id=pb)  # the absorbed id still finds the survivor
    assert body["data"]["person"]["personId"] == pa
    status, body = gql(
        http,
        """{ personBySourceRecord(source: "desk", sourceId: "003B") { personId }
        personByIdentifier(type: "EMAIL", value: " ANN@example.com ") { personId id } }""",
    )
    assert body["data"]["personBySourceRecord"]["personId"] == pa
    global_id = body["data"]["personByIdentifier"]["id"]
    status, body = gql(
        http, """query($id: ID!) { node(id: $id) { ... on Person { personId } } }""", id=global_id
    )
    assert body.get("data") and body["data"]["node"] is not None, body
    assert body["data"]["node"]["personId"] == pa
    status, body = gql(http, '{ person(id: "p-does-not-exist") { personId } }')
    assert body["data"]["person"] is None and "errors" not in body
    # null, with a hint beside the data saying why
    (warning,) = body["extensions"]["warnings"]
    assert warning["code"] == "NOT_FOUND" and warning["path"] == ["person"]
    assert "p-does-not-exist" in warning["message"]


def test_a_lookup_that_finds_no_one_says_whether_the_source_or_the_record_is_unknown(http, shop):
    status, body = gql(
        http,
        """{ a: personBySourceRecord(source: "no-such-system", sourceId: "1") { personId }
             b: personBySourceRecord(source: "desk", sourceId: "never-sent") { personId }
             c: personByIdentifier(type: "EMAIL", value: "zoe.nobody@gmail.com") { personId }
             d: people(ids: ["p-gone-1", "p-gone-2"]) { personId }
             e: person(id: "p-found-nowhere") { personId } }""",
    )
    assert "errors" not in body, body
    assert body["data"] == {"a": None, "b": None, "c": None, "d": [], "e": None}
    by_path = {w["path"][0]: w["message"] for w in body["extensions"]["warnings"]}
    assert set(by_path) == {"a", "b", "c", "d", "e"}
    assert "no source 'no-such-system' is registered (sources: " in by_path["a"]
    assert "desk" in by_path["a"]  # the registered sources are named
    assert by_path["b"] == "source 'desk' has no resolved record 'never-sent'"
    assert "zoe.nobody@gmail.com" in by_path["c"]
    assert "'p-gone-1', 'p-gone-2'" in by_path["d"]


def test_an_answer_that_found_everything_has_no_warnings(http, shop):
    ingest(http, "shop", {"customer_no": "W1", "first_name": "Wanda", "email": "w@example.com"})
    status, body = gql(
        http, '{ personBySourceRecord(source: "shop", sourceId: "W1") { personId } }'
    )
    assert body["data"]["personBySourceRecord"]["personId"]
    assert "extensions" not in body


def test_split_via_api_and_merge_refused_without_override(http, shop):
    for n, email in enumerate(["ann@example.com", "ann@example.com"]):
        ingest(http, "shop", {"customer_no": f"C{n}", "first_name": "Ann", "email": email})
    status, body = gql(
        http,
        """mutation { splitRecord(input: {recordKey: "shop:C1", reason: "twins"}) {
        __typename ... on RecordSplitSuccess { person { personId } people { personId } } } }""",
    )
    split = body["data"]["splitRecord"]
    assert split["__typename"] == "RecordSplitSuccess" and len(split["people"]) == 2
    others = [
        p["personId"] for p in split["people"] if p["personId"] != split["person"]["personId"]
    ]
    status, body = gql(
        http,
        """mutation($a: String!, $b: String!) { mergePeople(input: {personA: $a, personB: $b}) {
        __typename ... on MergeConflict { message } } }""",
        a=split["person"]["personId"],
        b=others[0],
    )
    assert body["data"]["mergePeople"]["__typename"] == "MergeConflict"
    assert "override" in body["data"]["mergePeople"]["message"]


def test_marketer_sees_identifiers_only_with_marketing_consent(
    http, client_as, shop, neo4j_driver, api_settings
):
    ingest(http, "shop", {"customer_no": "C1", "first_name": "Ann", "email": "ann@example.com"})
    pid = gql(http, '{ personBySourceRecord(source: "shop", sourceId: "C1") { personId } }')[1][
        "data"
    ]["personBySourceRecord"]["personId"]
    marketer = client_as("marketer")
    assert gql(marketer, PERSON, id=pid)[1]["data"]["person"]["email"] is None
    assert (
        gql(client_as("agent"), PERSON, id=pid)[1]["data"]["person"]["email"] == "ann@example.com"
    )
    ingest_record(
        neo4j_driver,
        api_settings,
        "shop",
        {
            "customer_no": "C1",
            "channel": "email",
            "purpose": "marketing",
            "status": "opt-in",
            "at": "2025-01-01T00:00:00Z",
        },
        file_type="consents",
    )
    person = gql(marketer, PERSON + "", id=pid)[1]["data"]["person"]
    assert person["email"] == "ann@example.com"
    consents = gql(
        marketer,
        "query($id: String!) { person(id: $id) { consents { channel purpose status sourceRecord } } }",
        id=pid,
    )[1]["data"]["person"]["consents"]
    assert consents == [
        {"channel": "EMAIL", "purpose": "MARKETING", "status": "GRANTED", "sourceRecord": "shop:C1"}
    ]


@pytest.mark.parametrize(
    ("query", "variables", "code", "field"),
    [
        pytest.param(
            INGEST,
            {"source": "shop", "record": {"customer_no": " ", "email": "x@@y"}},
            "BAD_USER_INPUT",
            "customer_no",
            id="no-source-id",
        ),
        pytest.param(
            INGEST,
            {"source": "nowhere", "record": {"customer_no": "C1"}},
            "NOT_FOUND",
            None,
            id="unknown-source",
        ),
        pytest.param(
            INGEST,
            {"source": "shop", "record": ["not", "an", "object"]},
            "BAD_USER_INPUT",
            "record",
            id="record-not-an-object",
        ),
        pytest.param(PERSON, {"id": "  "}, "BAD_USER_INPUT", "id", id="empty-person-id"),
        pytest.param(
            """{ personByIdentifier(type: "SHOE", value: "42") { personId } }""",
            {},
            "BAD_USER_INPUT",
            "type",
            id="unknown-identifier-type",
        ),
        pytest.param(
            """mutation { splitRecord(input: {recordKey: "shop:nope"}) { __typename } }""",
            {},
            "NOT_FOUND",
            None,
            id="split-unknown-record",
        ),
        pytest.param(
            REGISTER, {"id": "Bad Id!", "kind": "OTHER"}, "BAD_USER_INPUT", "id", id="bad-source-id"
        ),
    ],
)
def test_bad_input_is_a_coded_error_naming_the_field_and_writes_nothing(
    http, shop, query, variables, code, field
):
    status, body = gql(http, query, **variables)
    assert status == 200
    assert codes(body) == [code], body
    error = body["errors"][0]
    if field:
        assert field in [f["field"] for f in error["extensions"]["fields"]]
    assert "Traceback" not in str(body)
    status, count = gql(
        http, '{ personBySourceRecord(source: "shop", sourceId: "C1") { personId } }'
    )
    assert count["data"]["personBySourceRecord"] is None


def test_deep_and_alias_heavy_queries_are_refused(http, shop):
    deep = '{ person(id: "x") { sourceRecords { edges { node { person { sourceRecords { edges { node { person { sourceRecords { edges { node { person { personId } } } } } } } } } } } } } }'
    aliases = "{ " + " ".join(f"a{i}: health {{ status }}" for i in range(30)) + " }"
    for _ in range(2):  # the second time the parsed document comes from the cache
        status, body = gql(http, deep)
        assert "errors" in body and "depth" in body["errors"][0]["message"].lower()
        status, body = gql(http, aliases)
        assert "errors" in body and "alias" in body["errors"][0]["message"].lower()


def test_page_size_is_capped_and_cursors_page_through(http, api_settings, shop):
    for n in range(5):
        ingest(
            http, "shop", {"customer_no": f"C{n}", "first_name": "Ann", "email": "same@example.com"}
        )
    pid = gql(http, '{ personBySourceRecord(source: "shop", sourceId: "C0") { personId } }')[1][
        "data"
    ]["personBySourceRecord"]["personId"]
    page = """query($id: String!, $after: String) { person(id: $id) { sourceRecords(first: 2, after: $after) {
        totalCount pageInfo { hasNextPage endCursor } edges { node { recordKey } } } } }"""
    seen, after = [], None
    while True:
        body = gql(http, page, id=pid, after=after)[1]["data"]["person"]["sourceRecords"]
        assert body["totalCount"] == 5
        seen += [e["node"]["recordKey"] for e in body["edges"]]
        if not body["pageInfo"]["hasNextPage"]:
            break
        after = body["pageInfo"]["endCursor"]
    assert seen == [f"shop:C{n}" for n in range(5)]
    status, body = gql(
        http, '{ person(id: "x") { sourceRecords(after: "bm90LWEtY3Vyc29y") { totalCount } } }'
    )
    assert body["data"]["person"] is None  # unknown person: nothing to page


SEARCH = """query($name: String, $email: String) { searchPeople(name: $name, email: $email, first: 5) {
  totalCount edges { node { personId givenName familyName } } } }"""


def test_search_people_by_fuzzy_name_and_exact_email(http, shop):
    for n, (given, family, email) in enumerate(
        [
            ("Anaïs", "Lefrançois", "anais@example.com"),
            ("Robert", "Ashby", "rob@example.com"),
            ("Rowan", "Ashby", "rowan@example.com"),
        ]
    ):
        ingest(
            http,
            "shop",
            {"customer_no": f"C{n}", "first_name": given, "last_name": family, "email": email},
        )
    body = gql(http, SEARCH, name="anais lefrancois")[1]
    assert body.get("data"), body
    hits = body["data"]["searchPeople"]
    assert hits["edges"][0]["node"]["givenName"] == "Anaïs"
    hits = gql(http, SEARCH, name="Ashby Bob")[1]["data"]["searchPeople"]  # order and nickname
    assert hits["edges"][0]["node"]["givenName"] == "Robert"
    hits = gql(http, SEARCH, name="Ashby", email="ROWAN@example.com")[1]["data"]["searchPeople"]
    assert [e["node"]["givenName"] for e in hits["edges"]] == ["Rowan"]
    body = gql(http, SEARCH)[1]
    assert codes(body) == ["BAD_USER_INPUT"]
    weird = gql(http, SEARCH, name='") OR 1=1 ~*:\\\\ AND')[1]  # Lucene syntax is neutralised
    assert "errors" not in weird
