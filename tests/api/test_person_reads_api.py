"""The person-360 fast path (api.fastread) answers exactly as the general path does.

Two apps serve the same demo graph: one as configured (fast reads on), one with
``C360_FAST_READS=false`` (every query through Strawberry's resolvers). Every query here goes
to both, as every role, for several people, and the answers must be the same JSON; the fast
app's counter shows which requests the fast path answered and which it handed back.
"""

from __future__ import annotations

import json

import httpx
import pytest

from graph.demo.generate import generate
from graph.demo.load import load_demo
from graph.services.resolver import Resolver

FULL = """query($id: String!) { person(id: $id) {
  personId givenName familyName email phone birthDate city postcode
  sourceRecords(first: 10) { totalCount edges { node { recordKey sourceId email phone
    identifiers { type value } whyLinked { rule score } } } }
  orders(first: 10) { totalCount edges { node { orderId placedAt status total currency
    lines { sku name quantity unitPrice } } } }
  consents { channel purpose status at }
  timeline(first: 10) { totalCount edges { node { at type summary } } } } }"""

# aliases, named and inline fragments, __typename, every field the fast path knows
EVERYTHING = """query Everything($id: String!, $n: Int) {
  who: person(id: $id) { ...Golden __typename
    records: sourceRecords(first: $n) { __typename totalCount
      pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
      edges { cursor node { ...Record } } }
    orders(first: 3) { totalCount pageInfo { hasNextPage endCursor }
      edges { cursor node { key orderId sourceId sourceRecord placedAt status total currency
        lines { sku name category quantity unitPrice } } } }
    consents { channel purpose status at sourceRecord }
    timeline(first: 5) { totalCount edges { cursor node { at type sourceRecord summary } } } } }
fragment Golden on Person { id personId name: givenName ... on Person { familyName }
  birthDate addressLine1 addressLine2 city postcode country email phone loyaltyId sources
  recordCount aliases createdAt updatedAt }
fragment Record on SourceRecord { __typename id recordKey sourceId sourceKind recordId
  givenName familyName birthDate addressLine1 addressLine2 city postcode country
  email phone loyaltyId identifiers { type value } qualityFlags updatedAt raw nationalId
  ... on Node { id }
  whyLinked { rule score scores { field score } matchedRecord linkedAt actor explainedAt
    rulesVersion modelVersion } }"""

# one response key selected twice (merged), a page after a cursor, filters by kind and type
PAGES = """query($id: String!, $after: String) { person(id: $id) {
  orders(first: 2, after: $after) { totalCount }
  orders(first: 2, after: $after) { edges { cursor node { orderId } }
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor } }
  sourceRecords(kind: COMMERCE) { totalCount edges { node { recordKey sourceKind } } }
  timeline(first: 4, types: [CASE, CONSENT]) { totalCount edges { node { type at summary } } }
} }"""

PARTIAL = """query($id: String!) { person(id: $id) { consents { channel status } } }"""
EMAIL = """query($id: String!) { person(id: $id) { email phone loyaltyId
  sourceRecords { edges { node { email identifiers { type value } nationalId raw } } } } }"""

# the general path's own: a field the fast path does not know, a directive, two pages of one
# list, a page too large, a foreign cursor, an empty id, a variable of the wrong type
GENERAL = [
    (
        """query($id: String!) { person(id: $id) { personId emails { value } } }""",
        {},
    ),
    (
        """query($id: String!, $yes: Boolean!) { person(id: $id) {
           personId @include(if: $yes) givenName } }""",
        {"yes": False},
    ),
    (
        """query($id: String!) { person(id: $id) { a: orders(first: 1) { totalCount }
           b: orders(first: 2) { totalCount } } }""",
        {},
    ),
    ("""query($id: String!) { person(id: $id) { orders(first: 1000) { totalCount } } }""", {}),
    (
        """query($id: String!) { person(id: $id) { orders(after: "bm9wZQ==") { totalCount } } }""",
        {},
    ),
    (
        """query($id: String!) { person(id: $id) { orders(since: "2020-01-01") { totalCount } } }""",
        {},
    ),
    ("""query($id: String!) { person(id: $id) { personId } sources { id } }""", {}),
]


@pytest.fixture
def demo(settings, neo4j_driver, tmp_path_factory):
    """The demo data set's first 30 people (seed 42), loaded and resolved."""
    directory = tmp_path_factory.mktemp("demo")
    generate(directory, 30, 42)
    load_demo(neo4j_driver, settings, directory, show_progress=False)
    return neo4j_driver


@pytest.fixture
def general(api_with, keys):
    """A client factory for the same graph through the general path only."""
    with api_with(fast_reads=False) as running:
        clients: list[httpx.Client] = []

        def make(role: str) -> httpx.Client:
            client = httpx.Client(
                base_url=running.url, timeout=30, headers={"X-API-Key": keys[role]}
            )
            clients.append(client)
            return client

        make.reads = running.app.state.person_reads  # type: ignore[attr-defined]
        yield make
        assert make.reads.served == 0  # type: ignore[attr-defined]  # it never took the fast path
        for client in clients:
            client.close()


def _ids(driver, settings, cypher: str) -> list[str]:
    rows, _, _ = driver.execute_query(cypher, database_=settings.neo4j_database)
    return [r["id"] for r in rows]


def _post(client: httpx.Client, query: str, variables: dict) -> tuple[int, dict]:
    response = client.post("/graphql", json={"query": query, "variables": variables})
    return response.status_code, response.json()


def _same(fast: httpx.Client, slow: httpx.Client, query: str, variables: dict) -> dict:
    """The fast app's answer, after asserting the general path gives the same."""
    got, want = _post(fast, query, variables), _post(slow, query, variables)
    assert got == want, json.dumps({"fast": got, "general": want}, indent=1)[:4000]
    return got[1]


def test_fast_person_reads_answer_exactly_as_the_general_path(
    api, client_as, general, demo, settings
):
    reads = api.app.state.person_reads
    rich = _ids(
        demo,
        settings,
        "MATCH (p:Person) WHERE p.recordCount > 1 AND (p)-[:HAS_RECORD]->()-[:PLACED]->(:Order) "
        "RETURN p.id AS id ORDER BY id LIMIT 4",
    )
    consenting = _ids(
        demo,
        settings,
        "MATCH (p:Person)-[:GAVE]->(c:Consent {purpose: 'MARKETING', status: 'GRANTED'}) "
        "RETURN DISTINCT p.id AS id ORDER BY id LIMIT 2",
    )
    silent = _ids(
        demo,
        settings,
        "MATCH (p:Person) WHERE p.email IS NOT NULL AND NOT (p)-[:GAVE]->(:Consent) "
        "RETURN p.id AS id ORDER BY id LIMIT 2",
    )
    assert len(rich) == 4 and consenting and silent
    people = rich + consenting + silent
    roles = ("admin", "agent", "marketer")
    fast = {role: client_as(role) for role in roles}
    slow = {role: general(role) for role in roles}
    for query in (FULL, EVERYTHING, PAGES, PARTIAL, EMAIL):  # the first of a text: general path
        _same(fast["admin"], slow["admin"], query, {"id": people[0]})
    before = reads.served
    asked = 0
    for pid in people:  # roles and variables interleaved over one cached plan per text
        for role in roles:
            for query, variables in (
                (FULL, {}),
                (EVERYTHING, {"n": 2}),
                (EVERYTHING, {"n": None}),
                (PAGES, {}),
                (PAGES, {"after": "b2Zmc2V0OjA="}),  # offset:0
                (PARTIAL, {}),
                (EMAIL, {}),
            ):
                _same(fast[role], slow[role], query, {"id": pid, **variables})
                asked += 1
    assert reads.served - before == asked  # every one of them by the fast path

    # a marketer sees raw identifiers only with consent, on the same cached plan as an admin
    for pid in silent:
        admin = _same(fast["admin"], slow["admin"], EMAIL, {"id": pid})["data"]["person"]
        marketer = _same(fast["marketer"], slow["marketer"], EMAIL, {"id": pid})
        assert admin["email"] and marketer["data"]["person"]["email"] is None
        assert all(
            e["node"]["raw"] is None and e["node"]["identifiers"] == []
            for e in marketer["data"]["person"]["sourceRecords"]["edges"]
        )


def test_unknown_and_absorbed_ids_answer_as_the_general_path(
    api, client_as, general, demo, settings
):
    reads = api.app.state.person_reads
    a, b = _ids(demo, settings, "MATCH (p:Person) RETURN p.id AS id ORDER BY id LIMIT 2")
    Resolver(demo, settings).merge_people(a, b, reason="test")
    fast, slow = client_as("agent"), general("agent")
    _same(fast, slow, FULL, {"id": a})
    before = reads.served
    for pid in (a, b, f"  {b} ", "p-nobody"):
        body = _same(fast, slow, FULL, {"id": pid})
    assert body["data"] == {"person": None} and body["extensions"]["warnings"][0]["code"] == (
        "NOT_FOUND"
    )
    # GraphQL over HTTP's media type, asked for: the same type, status and body from both
    accept = {"Accept": "application/graphql-response+json"}
    got, want = (
        c.post("/graphql", json={"query": FULL, "variables": {"id": a}}, headers=accept)
        for c in (fast, slow)
    )
    assert got.headers["content-type"] == want.headers["content-type"]
    assert (got.status_code, got.json()) == (want.status_code, want.json())
    assert reads.served - before == 5


def test_queries_outside_the_fast_path_take_the_general_path(
    api, client_as, general, demo, settings
):
    reads = api.app.state.person_reads
    [pid] = _ids(demo, settings, "MATCH (p:Person) RETURN p.id AS id ORDER BY id LIMIT 1")
    fast, slow = client_as("admin"), general("admin")
    for query, variables in GENERAL:
        for _ in range(2):  # the second time the text is known to be valid
            _same(fast, slow, query, {"id": pid, **variables})
    for variables in ({"id": "  "}, {"id": 42}, {}):  # empty id, wrong type, missing
        for _ in range(2):
            body = _same(fast, slow, FULL, variables)
            assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    ingest = _same(client_as("ingest"), general("ingest"), FULL, {"id": pid})
    assert ingest["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert reads.served == 0
