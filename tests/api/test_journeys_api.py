"""Journeys over HTTP: admin and marketer list, create and deactivate journeys and read a
person's actions; other roles are refused; a bad definition names the path of its fault."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from graph.services import journeys

DEFINITION = {
    "id": "cart-recovery",
    "name": "Cart recovery",
    "trigger": {"type": "cart_abandoned"},
    "steps": [
        {
            "delay": "1h",
            "channel": "EMAIL",
            "template": "e1",
            "conditions": ["no_order_since_trigger"],
        },
        {"delay": "24h", "channel": "SMS", "template": "s1", "conditions": ["consent"]},
    ],
}
CREATE = (
    "mutation($d: JSON!) { createJourney(definition: $d) { outcome journey { id version "
    "active definition } } }"
)


def _gql(client, query, **variables):
    return client.post("/graphql", json={"query": query, "variables": variables}).json()


@pytest.fixture
def person_with_cart(client_as):
    admin = client_as("admin")
    _gql(
        admin,
        'mutation { registerSource(input: {id: "shop", kind: COMMERCE, name: "Shop"}) { id } }',
    )
    cart_at = (datetime.now(UTC) - timedelta(hours=2)).isoformat()
    body = _gql(
        admin,
        'mutation($c: JSON!) { ingestEvents(input: {source: "shop", type: CARTS, rows: [$c]}) '
        "{ created } }",
        c={"cartId": "K1", "sourceId": "R1", "status": "OPEN", "updatedAt": cart_at},
    )
    assert body["data"]["ingestEvents"]["created"] == 1
    assert _gql(admin, CREATE, d=DEFINITION)["data"]["createJourney"]["outcome"] == "created"
    body = _gql(
        admin,
        'mutation($r: JSON!) { ingestRecord(input: {source: "shop", record: $r}) '
        "{ person { personId } } }",
        r={"sourceId": "R1", "givenName": "Ann", "familyName": "Lee", "email": "ann@example.org"},
    )
    return body["data"]["ingestRecord"]["person"]["personId"]


def test_ingest_record_schedules_the_persons_actions_and_a_marketer_reads_them(
    client_as, person_with_cart
):
    query = (
        "query($p: String!) { person(id: $p) { actions(first: 1) { totalCount "
        "pageInfo { hasNextPage endCursor } edges { node { actionId channel status dueAt } } } } }"
    )
    body = _gql(client_as("marketer"), query, p=person_with_cart)
    actions = body["data"]["person"]["actions"]
    assert actions["totalCount"] == 2 and actions["pageInfo"]["hasNextPage"]
    assert actions["edges"][0]["node"]["actionId"] == "cart-recovery:v1:s1:shop:K1"
    assert actions["edges"][0]["node"]["status"] == "SCHEDULED"
    agent = _gql(client_as("agent"), query, p=person_with_cart)
    assert agent["errors"][0]["extensions"]["code"] == "FORBIDDEN"


def test_admin_and_marketer_manage_journeys_and_others_may_not(client_as):
    for role in ("agent", "ingest"):
        body = _gql(client_as(role), "{ journeys { id } }")
        assert [e["extensions"]["code"] for e in body["errors"]] == ["FORBIDDEN"]
        body = _gql(client_as(role), CREATE, d=DEFINITION)
        assert [e["extensions"]["code"] for e in body["errors"]] == ["FORBIDDEN"]
    marketer = client_as("marketer")
    created = _gql(marketer, CREATE, d=DEFINITION)["data"]["createJourney"]
    assert created["journey"]["definition"]["steps"][1]["conditions"] == [
        {"consent": {"channel": "SMS", "purpose": "MARKETING"}}
    ]
    assert _gql(marketer, CREATE, d=DEFINITION)["data"]["createJourney"]["outcome"] == "unchanged"
    assert _gql(client_as("admin"), "{ journeys { id version active } }")["data"]["journeys"] == [
        {"id": "cart-recovery", "version": 1, "active": True}
    ]
    body = _gql(marketer, 'mutation { deactivateJourney(id: "cart-recovery") { active } }')
    assert body["data"]["deactivateJourney"] == {"active": False}
    body = _gql(marketer, '{ journey(id: "cart-recovery") { version active } }')
    assert body["data"]["journey"] == {"version": 1, "active": False}
    assert _gql(marketer, '{ journey(id: "none") { id } }')["data"]["journey"] is None
    body = _gql(marketer, 'mutation { deactivateJourney(id: "none") { id } }')
    assert body["errors"][0]["extensions"]["code"] == "NOT_FOUND"


def test_a_bad_definition_is_bad_user_input_naming_the_path(client_as):
    bad = DEFINITION | {
        "steps": [DEFINITION["steps"][0], {**DEFINITION["steps"][1], "delay": "1 day"}]
    }
    body = _gql(client_as("admin"), CREATE, d=bad)
    error = body["errors"][0]
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert 'steps[1].delay: must be like "1h", "24h", "30m"' in error["message"]
    assert error["extensions"]["fields"] == [
        {"field": "steps[1].delay", "reason": 'must be like "1h", "24h", "30m"'}
    ]


def test_cli_runner_output_matches_the_actions_the_api_shows(
    client_as, person_with_cart, api_settings, session_driver, tmp_path
):
    out = tmp_path / "out.jsonl"
    report = journeys.run(
        session_driver, api_settings, out=out, now=datetime.now(UTC) + timedelta(hours=23)
    )
    assert report.emitted == 1 and report.cancelled == {"NO_CONSENT": 1}
    body = _gql(
        client_as("admin"),
        "query($p: String!) { person(id: $p) { actions { edges { node { status reason } } } } }",
        p=person_with_cart,
    )
    assert [e["node"] for e in body["data"]["person"]["actions"]["edges"]] == [
        {"status": "CANCELLED", "reason": "NO_CONSENT"},
        {"status": "EMITTED", "reason": None},
    ]
