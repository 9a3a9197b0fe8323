"""Ready-made example queries shown as tabs in GraphiQL (``/graphql`` in a browser)."""

from __future__ import annotations

import json

__all__ = ["EXAMPLES", "graphiql_with_examples"]

_HEADERS = '{"X-API-Key": "paste the key from .env (C360_API_KEYS)"}'

EXAMPLES: list[dict[str, str]] = [
    {
        "query": """# A person's 360 view: golden record, records with why they are linked, recent
# orders, effective consents and the merged timeline.
query Person360($source: String = "commerce", $sourceId: String = "00000001") {
  personBySourceRecord(source: $source, sourceId: $sourceId) {
    personId givenName familyName email phone birthDate city aliases
    sourceRecords(first: 10) { totalCount edges { node {
      recordKey sourceId email whyLinked { rule score matchedRecord linkedAt actor } } } }
    orders(first: 5) { edges { node { orderId placedAt status total currency
      lines { sku name quantity } } } }
    consents { channel purpose status at }
    timeline(first: 10) { edges { node { at type summary sourceRecord } } }
  }
}""",
        "headers": _HEADERS,
    },
    {
        "query": """# Fuzzy search: accents, word order, nicknames and typos are tolerated.
query Search { searchPeople(name: "bob smith", first: 5) {
  totalCount edges { node { personId givenName familyName email sources } } } }""",
        "headers": _HEADERS,
    },
    {
        "query": """# A steward merges two people: the oldest 360 ID survives, the other an alias.
mutation Merge($a: String!, $b: String!) {
  mergePeople(input: {personA: $a, personB: $b, reason: "same customer"}) {
    __typename
    ... on PersonMergeSuccess { person { personId aliases } absorbedIds }
    ... on MergeConflict { message }
  }
}""",
        "headers": _HEADERS,
    },
    {
        "query": """# Follow identity changes as they happen (keep this tab open).
subscription Events { identityEvents { kind at personId absorbedIds splitFrom recordKeys } }""",
        "headers": _HEADERS,
    },
]


def graphiql_with_examples(html: str) -> str:
    """Strawberry's GraphiQL page with :data:`EXAMPLES` as its default tabs."""
    tabs = json.dumps(EXAMPLES).replace("</", "<\\\\/")
    return html.replace(
        "defaultEditorToolsVisibility: true,",
        f"defaultEditorToolsVisibility: true, defaultTabs: {tabs},",
        1,
    )
