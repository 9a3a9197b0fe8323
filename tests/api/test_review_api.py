"""The review queue through the API: possible matches strongest first, a steward's accept
and reject, and who may see them."""

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

QUEUE = """query($first: Int, $after: String) { possibleMatches(first: $first, after: $after) {
  totalCount pageInfo { hasNextPage endCursor }
  edges { cursor node { key recordKeyA recordKeyB personA personB weight modelVersion
    comparisons { comparison level weight } } } } }"""
ACCEPT = """mutation($key: String!) { acceptPossibleMatch(input: {key: $key, reason: "same man"}) {
  key people { personId } } }"""
REJECT = """mutation($key: String!) { rejectPossibleMatch(input: {key: $key}) {
  key people { personId } } }"""


@pytest.fixture
def father_and_son(http, client_as):
    gql(
        http,
        'mutation { registerSource(input: {id: "shop", kind: COMMERCE, name: "shop"}) { id } }',
    )
    gql(
        http, 'mutation { registerSource(input: {id: "desk", kind: SERVICE, name: "desk"}) { id } }'
    )
    ingester = client_as("ingest")
    for source, sid, birth in (("shop", "FS1", "1960-01-01"), ("desk", "FS2", "2001-09-09")):
        record = {
            "sourceId": sid,
            "givenName": "Sam",
            "familyName": "Patel",
            "phone": "+44 20 7946 0001",  # the family's landline
            "birthDate": birth,
        }
        assert "errors" not in gql(ingester, RECORD, source=source, record=record)
    return "desk:FS2|shop:FS1"


def test_the_queue_lists_a_possible_match_with_its_weights(client_as, father_and_son):
    body = gql(client_as("admin"), QUEUE, first=5)
    queue = body["data"]["possibleMatches"]
    assert queue["totalCount"] == 1 and not queue["pageInfo"]["hasNextPage"]
    node = queue["edges"][0]["node"]
    assert node["key"] == father_and_son and node["personA"] != node["personB"]
    levels = {c["comparison"]: c["level"] for c in node["comparisons"]}
    assert levels["birthDate"] == "else" and levels["phone"] == "exact"
    assert (
        gql(client_as("admin"), QUEUE, first=5, after=queue["pageInfo"]["endCursor"])["data"][
            "possibleMatches"
        ]["edges"]
        == []
    )


def test_accepting_merges_the_two_people_and_empties_the_queue(client_as, father_and_son):
    body = gql(client_as("admin"), ACCEPT, key=father_and_son)
    assert len(body["data"]["acceptPossibleMatch"]["people"]) == 1
    assert gql(client_as("admin"), QUEUE)["data"]["possibleMatches"]["totalCount"] == 0

    again = gql(client_as("admin"), REJECT, key=father_and_son)  # decided: not in the queue
    assert codes(again) == ["CONFLICT"]
    assert "already accepted (must-link)" in again["errors"][0]["message"]


def test_rejecting_keeps_them_apart_and_empties_the_queue(client_as, father_and_son):
    body = gql(client_as("admin"), REJECT, key=father_and_son)
    assert len(body["data"]["rejectPossibleMatch"]["people"]) == 2
    assert gql(client_as("admin"), QUEUE)["data"]["possibleMatches"]["totalCount"] == 0


@pytest.mark.parametrize(
    ("variables", "code"),
    [({"key": "nope"}, "BAD_USER_INPUT"), ({"key": "shop:X|desk:Y"}, "NOT_FOUND")],
)
def test_a_bad_or_unknown_key_is_refused(client_as, father_and_son, variables, code):
    assert codes(gql(client_as("admin"), ACCEPT, **variables)) == [code]


def test_only_admins_see_or_decide_the_queue(client_as, father_and_son):
    for role in ("agent", "marketer", "ingest"):
        assert codes(gql(client_as(role), QUEUE)) == ["FORBIDDEN"]
        assert codes(gql(client_as(role), REJECT, key=father_and_son)) == ["FORBIDDEN"]
    assert codes(gql(client_as("admin"), QUEUE, first=-1)) == ["BAD_USER_INPUT"]


EXPLAIN = """query($a: String!, $b: String!) { explainPair(recordKeyA: $a, recordKeyB: $b) {
  recordKeyA recordKeyB samePerson summary matchedRule conflict
  rules { rule passed scores { field score } }
  comparisons { comparison level weight }
  penalty matchWeight linkThreshold reviewThreshold modelVersion } }"""


def test_explain_pair_gives_each_level_the_penalty_the_total_and_the_model(
    client_as, father_and_son
):
    body = gql(client_as("admin"), EXPLAIN, a="shop:FS1", b="desk:FS2")

    pair = body["data"]["explainPair"]
    assert not pair["samePerson"] and pair["matchedRule"] == "phone_name"  # vetoed:
    assert pair["conflict"] == "different birth dates"
    levels = {c["comparison"]: c["level"] for c in pair["comparisons"]}
    assert levels["phone"] == "exact" and levels["birthDate"] == "else"
    assert pair["penalty"] < 0  # different birth dates: the rule file's soft conflict
    total = sum(c["weight"] for c in pair["comparisons"]) + pair["penalty"]
    assert pair["reviewThreshold"] <= pair["matchWeight"] < pair["linkThreshold"]
    assert abs(pair["matchWeight"] - total) < 14  # the prior is the rest
    assert pair["modelVersion"] and "possible match" in pair["summary"]
    assert {r["rule"] for r in pair["rules"]} >= {"phone_name", "name_birth_date"}


@pytest.mark.parametrize(
    ("a", "b", "code"),
    [
        ("shop:FS1", "shop:nope", "NOT_FOUND"),
        ("FS1", "desk:FS2", "BAD_USER_INPUT"),
        ("shop:FS1", "shop:FS1", "BAD_USER_INPUT"),
    ],
)
def test_explain_pair_refuses_bad_or_unknown_keys(client_as, father_and_son, a, b, code):
    assert codes(gql(client_as("admin"), EXPLAIN, a=a, b=b)) == [code]
    assert codes(gql(client_as("marketer"), EXPLAIN, a="shop:FS1", b="desk:FS2")) == ["FORBIDDEN"]
