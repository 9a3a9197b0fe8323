"""Every query and mutation for every role, over HTTP: what issue 5 says each role may do.

admin: everything; agent: read people and history, set consent; marketer: read people (raw
identifiers only with consent, see test_identity_api); ingest: write records and events only.
"""

from __future__ import annotations

import pytest

ROLES = ("admin", "agent", "marketer", "ingest")
READERS = {"admin", "agent", "marketer"}

OPERATIONS = {
    "person": ("query($p: String!) { person(id: $p) { personId } }", READERS),
    "people": ("query($p: String!) { people(ids: [$p]) { personId } }", READERS),
    "searchPeople": ('{ searchPeople(name: "Ann Lee") { totalCount } }', READERS),
    "personBySourceRecord": (
        '{ personBySourceRecord(source: "shop", sourceId: "R1") { personId } }',
        READERS,
    ),
    "personByIdentifier": (
        '{ personByIdentifier(type: "EMAIL", value: "ann@example.org") { personId } }',
        READERS,
    ),
    "node": ("query($g: ID!) { node(id: $g) { id } }", READERS),
    "sources": ("{ sources { id } }", READERS),
    "resolutionEvents": ("{ resolutionEvents(first: 1) { totalCount } }", READERS),
    "exportPerson": ("query($p: String!) { exportPerson(personId: $p) }", {"admin"}),
    "registerSource": (
        'mutation { registerSource(input: {id: "web", kind: MARKETING, name: "Web"}) { id } }',
        {"admin"},
    ),
    "ingestRecord": (
        'mutation { ingestRecord(input: {source: "shop", record: '
        '{sourceId: "R9", givenName: "Bo"}}) { outcome } }',
        {"admin", "ingest"},
    ),
    "ingestEvents": (
        'mutation { ingestEvents(input: {source: "shop", type: CONSENTS, rows: '
        '[{sourceId: "R1", channel: "email", purpose: "marketing", '
        'status: "granted", at: "2025-01-01"}]}) { created rejected } }',
        {"admin", "ingest"},
    ),
    "setConsent": (
        'mutation($p: String!) { setConsent(input: {personId: $p, channel: "sms", '
        'purpose: "marketing", status: "granted"}) { consents { status } } }',
        {"admin", "agent"},
    ),
    "mergePeople": (
        "mutation($p: String!, $q: String!) { mergePeople(input: {personA: $p, "
        "personB: $q}) { __typename } }",
        {"admin"},
    ),
    "splitRecord": (
        'mutation { splitRecord(input: {recordKey: "shop:R2"}) { __typename } }',
        {"admin"},
    ),
    "forgetPerson": (
        "mutation($q: String!) { forgetPerson(input: {personId: $q}) { recordsErased } }",
        {"admin"},
    ),
}


@pytest.fixture
def two_people(http):
    """Two people of source shop; returns the variables the operations use."""
    gql = lambda q, **v: http.post("/graphql", json={"query": q, "variables": v}).json()  # noqa: E731
    gql('mutation { registerSource(input: {id: "shop", kind: COMMERCE, name: "Shop"}) { id } }')
    ids = []
    for sid, name, email in (("R1", "Ann", "ann@example.org"), ("R3", "Cy", "cy@example.org")):
        body = gql(
            'mutation($r: JSON!) { ingestRecord(input: {source: "shop", record: $r}) '
            "{ person { personId id } } }",
            r={"sourceId": sid, "givenName": name, "familyName": "Lee", "email": email},
        )
        ids.append(body["data"]["ingestRecord"]["person"])
    gql(
        'mutation($r: JSON!) { ingestRecord(input: {source: "shop", record: $r}) { outcome } }',
        r={"sourceId": "R2", "givenName": "Ann", "familyName": "Lee", "email": "ann@example.org"},
    )
    return {"p": ids[0]["personId"], "q": ids[1]["personId"], "g": ids[0]["id"]}


@pytest.mark.parametrize("operation", sorted(OPERATIONS))
def test_each_role_may_do_exactly_what_issue_5_allows(client_as, two_people, operation):
    query, allowed = OPERATIONS[operation]
    for role in ROLES:
        variables = {k: v for k, v in two_people.items() if f"${k}" in query}
        body = (
            client_as(role).post("/graphql", json={"query": query, "variables": variables}).json()
        )
        codes = [e.get("extensions", {}).get("code") for e in body.get("errors", [])]
        if role in allowed:
            assert "FORBIDDEN" not in codes and not codes, (operation, role, body)
        else:
            assert codes == ["FORBIDDEN"], (operation, role, body)
            assert "may not" in body["errors"][0]["message"]
