"""Journeys over HTTP: admins and marketers define them, faults name their path, events sent
to ingestEvents schedule actions, and a person's ``actions`` show what was scheduled."""

from __future__ import annotations

import pytest

DEFINITION = {
    "trigger": {"type": "CART_ABANDONED", "after": "1 hour"},
    "steps": [
        {
            "delay": "now",
            "channel": "EMAIL",
            "template": "cart-1",
            "conditions": [{"type": "NO_ORDER_SINCE_TRIGGER"}, {"type": "CONSENT"}],
        },
        {
            "delay": "24 hours",
            "channel": "SMS",
            "template": "cart-2",
            "conditions": [{"type": "CONSENT", "channel": "SMS"}],
        },
    ],
}
CREATE = (
    'mutation($d: JSON!) { createJourney(input: {id: "cart", name: "Cart", '
    "definition: $d}) { id version active definition } }"
)


def _gql(client, query, **variables):
    return client.post("/graphql", json={"query": query, "variables": variables}).json()


@pytest.mark.parametrize(
    ("role", "allowed"), [("admin", True), ("marketer", True), ("agent", False), ("ingest", False)]
)
def test_admins_and_marketers_manage_journeys(client_as, role, allowed):
    client = client_as(role)
    for query, variables in (
        (CREATE, {"d": DEFINITION}),
        ("{ journeys { id } }", {}),
        ('{ journey(id: "cart") { id } }', {}),
        ('mutation { updateJourney(input: {id: "cart", name: "C"}) { version } }', {}),
        ('mutation { deactivateJourney(id: "cart") { active } }', {}),
    ):
        body = _gql(client, query, **variables)
        codes = [e["extensions"]["code"] for e in body.get("errors", [])]
        assert codes == ([] if allowed else ["FORBIDDEN"]), (query, body)


def test_a_journey_is_created_updated_and_stopped(http):
    created = _gql(http, CREATE, d=DEFINITION)["data"]["createJourney"]
    assert created["version"] == 1 and created["active"]
    assert created["definition"]["steps"][1]["delay"] == "PT86400S"
    again = _gql(http, CREATE, d=DEFINITION)
    assert again["data"]["createJourney"]["version"] == 1  # a retry is harmless
    other = _gql(http, CREATE, d={**DEFINITION, "steps": DEFINITION["steps"][:1]})
    assert other["errors"][0]["extensions"]["code"] == "CONFLICT"
    updated = _gql(
        http,
        'mutation($d: JSON!) { updateJourney(input: {id: "cart", definition: $d}) { version } }',
        d={**DEFINITION, "steps": DEFINITION["steps"][:1]},
    )
    assert updated["data"]["updateJourney"]["version"] == 2
    stopped = _gql(http, 'mutation { deactivateJourney(id: "cart") { active version } }')
    assert stopped["data"]["deactivateJourney"] == {"active": False, "version": 2}
    listed = _gql(http, "{ journeys { id name version active } }")["data"]["journeys"]
    assert listed == [{"id": "cart", "name": "Cart", "version": 2, "active": False}]
    missing = _gql(http, '{ journey(id: "nope") { id } }')
    assert missing["data"]["journey"] is None
    assert missing["extensions"]["warnings"][0]["code"] == "NOT_FOUND"


def test_a_bad_definition_is_refused_naming_each_path(http):
    bad = {
        "trigger": {"type": "CART_ABANDONED", "after": "soon"},
        "steps": [{"channel": "FAX", "template": "t", "conditions": [{"type": "X"}]}],
    }
    body = _gql(
        http,
        'mutation($d: JSON!) { createJourney(input: {id: "Bad Id!", name: "", '
        "definition: $d}) { id } }",
        d=bad,
    )
    error = body["errors"][0]
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert [f["field"] for f in error["extensions"]["fields"]] == [
        "id",
        "name",
        "definition.trigger.after",
        "definition.steps[0].channel",
        "definition.steps[0].conditions[0].type",
    ]


def test_carts_sent_to_ingest_events_schedule_actions_a_person_shows(http, client_as):
    _gql(
        http,
        'mutation { registerSource(input: {id: "shop", kind: COMMERCE, name: "Shop"}) { id } }',
    )
    person = _gql(
        http,
        'mutation($r: JSON!) { ingestRecord(input: {source: "shop", record: $r}) '
        "{ person { personId } } }",
        r={"sourceId": "R1", "givenName": "Ann", "familyName": "Lee", "email": "a@example.org"},
    )["data"]["ingestRecord"]["person"]["personId"]
    _gql(http, CREATE, d=DEFINITION)
    rows = [
        {
            "cartId": "K1",
            "sourceId": "R1",
            "status": "ABANDONED",
            "updatedAt": "2026-11-02T09:00:00Z",
            "items": [],
        }
    ]
    query = (
        'mutation($rows: [JSON!]!) { ingestEvents(input: {source: "shop", type: CARTS, '
        "rows: $rows}) { created rejected } }"
    )
    assert _gql(http, query, rows=rows)["data"]["ingestEvents"] == {"created": 1, "rejected": 0}
    assert _gql(http, query, rows=rows)["data"]["ingestEvents"]["created"] == 0
    actions = (
        "query($p: String!) { person(id: $p) { actions(first: 1) { totalCount "
        "pageInfo { hasNextPage } edges { node { journeyId journeyVersion step channel "
        "template status dueAt triggerType triggerKey reason } } } } }"
    )
    for role in ("admin", "agent", "marketer"):
        page = _gql(client_as(role), actions, p=person)["data"]["person"]["actions"]
        assert page["totalCount"] == 2 and page["pageInfo"]["hasNextPage"]
        assert page["edges"][0]["node"] == {
            "journeyId": "cart",
            "journeyVersion": 1,
            "step": 2,
            "channel": "SMS",
            "template": "cart-2",
            "status": "SCHEDULED",
            "dueAt": "2026-11-03T10:00:00Z",
            "triggerType": "CART_ABANDONED",
            "triggerKey": "shop:K1",
            "reason": None,
        }
    emitted = _gql(
        http,
        "query($p: String!) { person(id: $p) { actions(status: [EMITTED]) { totalCount } } }",
        p=person,
    )
    assert emitted["data"]["person"]["actions"]["totalCount"] == 0
