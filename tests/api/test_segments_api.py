"""Segments and audience exports over HTTP: roles, definitions as input types, errors with
the path of the fault, members as a Relay connection, a person's segments, exports."""

from __future__ import annotations

import pytest

from tests.integration.segment_world import build

SEGMENT = """
fragment S on Segment { id name version count definition explain { words cypher parameters }
  members(first: 1) { totalCount edges { cursor node { personId givenName } }
                      pageInfo { hasNextPage endCursor } } }
"""


@pytest.fixture
def gql(client_as, neo4j_driver, settings):
    build(neo4j_driver, settings)

    def run(query: str, role: str = "admin", **variables):
        return (
            client_as(role).post("/graphql", json={"query": query, "variables": variables}).json()
        )

    return run


def test_create_count_page_explain_update_and_delete_a_segment(gql):
    body = gql(
        SEGMENT
        + """mutation { createSegment(input: {id: "gb", name: "GB",
             definition: {and: [{country: ["GB"]}, {not: {openCase: true}}]}}) { ...S } }"""
    )
    s = body["data"]["createSegment"]
    assert (s["id"], s["version"], s["count"]) == ("gb", 1, 2)
    assert s["definition"] == {"and": [{"country": ["GB"]}, {"not": {"openCase": True}}]}
    assert "living in country GB" in s["explain"]["words"]
    assert "$c0.values" in s["explain"]["cypher"] and s["explain"]["parameters"]["c0"] == {
        "values": ["GB"]
    }
    page = s["members"]
    assert page["totalCount"] == 2 and page["pageInfo"]["hasNextPage"]
    after = page["pageInfo"]["endCursor"]
    body = gql(
        'query($a: String) { segment(id: "gb") { members(first: 5, after: $a) { edges { node { personId } } pageInfo { hasNextPage } } } }',
        a=after,
    )
    rest = body["data"]["segment"]["members"]
    assert len(rest["edges"]) == 1 and not rest["pageInfo"]["hasNextPage"]
    assert rest["edges"][0]["node"]["personId"] != page["edges"][0]["node"]["personId"]

    body = gql(
        'mutation { updateSegment(input: {id: "gb", definition: {purchase: {category: "Shoes"}}}) { version count } }'
    )
    assert body["data"]["updateSegment"] == {"version": 2, "count": 1}
    body = gql('{ old: segment(id: "gb", version: 1) { version count } segments { id version } }')
    assert body["data"]["old"] == {"version": 1, "count": 2}
    assert body["data"]["segments"] == [{"id": "gb", "version": 2}]
    assert gql('mutation { deleteSegment(id: "gb") }')["data"]["deleteSegment"] is True
    assert gql('{ segment(id: "gb") { id } }')["data"]["segment"] is None


def test_an_invalid_definition_is_bad_user_input_naming_the_path(gql):
    body = gql(
        """mutation { createSegment(input: {name: "x", definition: {and: [
             {country: ["GB"]}, {purchase: {sku: "SKU-1", withinDays: 0}}]}}) { id } }"""
    )
    error = body["errors"][0]
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert error["extensions"]["fields"] == [
        {"field": "definition.and[1].purchase.withinDays", "reason": "must be > 0"}
    ]
    assert "definition.and[1].purchase.withinDays: must be > 0" in error["message"]
    body = gql('{ previewSegment(definition: {city: ["Leeds"], country: ["GB"]}) { count } }')
    assert body["errors"][0]["extensions"]["fields"][0]["field"] == "definition"


def test_preview_and_a_persons_segments(gql):
    body = gql(
        "{ previewSegment(definition: {abandonedCart: {olderThanHours: 1}}) { count members { givenName } } }"
    )
    assert body["data"]["previewSegment"] == {"count": 1, "members": [{"givenName": "Bob"}]}
    gql(
        'mutation { createSegment(input: {id: "case", name: "Case", definition: {openCase: true}}) { id } }'
    )
    body = gql('{ personBySourceRecord(source: "crm", sourceId: "C1") { segments { id name } } }')
    assert body["data"]["personBySourceRecord"]["segments"] == [{"id": "case", "name": "Case"}]


def test_export_audience_reports_each_rule_and_is_recorded(gql):
    gql(
        'mutation { createSegment(input: {id: "all", name: "All", definition: {country: ["GB", "IE"]}}) { id } }'
    )
    body = gql(
        """mutation { exportAudience(input: {segment: "all", channel: "EMAIL", format: "jsonl",
             suppress: {noFrequencyCap: true, recentPurchase: {sku: "SKU-1", withinDays: 100000}}}) {
             content export { id exported candidates suppressed { rule removed } } } }"""
    )
    result = body["data"]["exportAudience"]
    assert result["export"]["exported"] == 1 and result["export"]["candidates"] == 3
    assert [s["rule"] for s in result["export"]["suppressed"]] == [
        "NO_CONSENT", "UNDELIVERABLE", "RECENT_PURCHASE", "OPEN_CASE", "NO_CONTACT_POINT"
    ]  # fmt: skip
    assert '"contactPoint": "bob@example.org"' in result["content"]
    body = gql('{ segment(id: "all") { exports { id exported } } }')
    assert body["data"]["segment"]["exports"] == [{"id": result["export"]["id"], "exported": 1}]


@pytest.mark.parametrize("role", ["admin", "marketer", "agent", "ingest"])
def test_admin_and_marketer_may_use_segments_agent_and_ingest_may_not(gql, role):
    body = gql("{ segments { id } }", role=role)
    codes = [e["extensions"]["code"] for e in body.get("errors", [])]
    assert codes == ([] if role in ("admin", "marketer") else ["FORBIDDEN"])
    body = gql("{ previewSegment(definition: {openCase: true}) { count } }", role=role)
    codes = [e["extensions"]["code"] for e in body.get("errors", [])]
    assert codes == ([] if role in ("admin", "marketer") else ["FORBIDDEN"])


def test_a_marketer_sees_a_members_email_only_with_marketing_consent(gql):
    gql(
        'mutation { createSegment(input: {id: "all", name: "All", definition: {country: ["GB", "IE"]}}) { id } }'
    )
    body = gql(
        'mutation($r: [JSON!]!) { ingestEvents(input: {source: "mkt", type: ENGAGEMENT, rows: $r}) { created } }',
        r=[
            {
                "eventId": "U1",
                "sourceId": "M1",
                "type": "UNSUBSCRIBED",
                "at": "2025-05-26T10:00:00Z",
            }
        ],
    )
    assert body["data"]["ingestEvents"]["created"] == 1
    body = gql(
        '{ segment(id: "all") { members(first: 10) { edges { node { givenName email } } } } }',
        role="marketer",
    )
    emails = {
        e["node"]["givenName"]: e["node"]["email"]
        for e in body["data"]["segment"]["members"]["edges"]
    }
    assert emails == {"Ann": None, "Bob": "bob@example.org", "Cy": "cy@example.org"}
