"""The GraphiQL page (``/graphql`` in a browser) and the example queries it opens with.

The page is ``api/static/graphiql.html``: GraphiQL from the vendored assets under
``api/static/graphiql/`` (served at ``/graphiql/``, no CDN), one API key field for every tab,
and :data:`EXAMPLES` as its default tabs. The example person, ``commerce``/``00000016`` of the
demo data (``./dev.sh up``: 500 people, seed 42, or any number from 16 up), is in three systems
with orders, consents, a case and a timeline.
"""

from __future__ import annotations

import json
from pathlib import Path

__all__ = ["ASSETS", "EXAMPLES", "EXAMPLE_PERSON", "graphiql_page"]

STATIC = Path(__file__).resolve().parent / "static"
#: The folder served at ``/graphiql/``.
ASSETS = STATIC / "graphiql"
#: ``(source, sourceId)`` of the demo person the Person360 tab shows.
EXAMPLE_PERSON = ("commerce", "00000016")

EXAMPLES: list[dict[str, str]] = [
    {
        "query": f"""# A person's 360 view: golden record, every source
# record with why it is linked, recent orders, consents,
# cases and the merged timeline. Paste the API key above
# (then Enter) and run: Ctrl-Enter or the play button.
query Person360(
  $source: String = "{EXAMPLE_PERSON[0]}"
  $sourceId: String = "{EXAMPLE_PERSON[1]}"
) {{
  personBySourceRecord(source: $source, sourceId: $sourceId) {{
    personId givenName familyName email phone
    birthDate city aliases
    sourceRecords(first: 10) {{
      totalCount
      edges {{ node {{
        recordKey sourceId recordId email
        whyLinked {{ rule score matchedRecord linkedAt actor }}
      }} }}
    }}
    orders(first: 5) {{
      totalCount
      edges {{ node {{
        orderId placedAt status total currency
        lines {{ sku name quantity }}
      }} }}
    }}
    cases(first: 5) {{
      edges {{ node {{ caseId subject status openedAt }} }}
    }}
    consents {{ channel purpose status at }}
    timeline(first: 10) {{
      edges {{ node {{ at type summary sourceRecord }} }}
    }}
  }}
}}""",
    },
    {
        "query": """# Fuzzy search: accents, word order, nicknames and typos are tolerated.
query Search { searchPeople(name: "jakub kutera", first: 5) {
  totalCount edges { node { personId givenName familyName email sources } } } }""",
    },
    {
        "query": """# A steward merges two people: the oldest 360 ID survives, the other an alias.
# Put two personIds (from the Search tab) in the variables below.
mutation Merge($a: String!, $b: String!) {
  mergePeople(input: {personA: $a, personB: $b, reason: "same customer"}) {
    __typename
    ... on PersonMergeSuccess { person { personId aliases } absorbedIds }
    ... on MergeConflict { message }
  }
}""",
        "variables": '{"a": "a personId", "b": "another personId"}',
    },
    {
        "query": """# Follow identity changes as they happen: run it and keep
# this tab open (an ingest, merge or split anywhere shows up).
subscription Events {
  identityEvents { kind at personId absorbedIds splitFrom recordKeys }
}""",
    },
]


def graphiql_page() -> str:
    """The GraphiQL page with :data:`EXAMPLES` as its default tabs."""
    tabs = json.dumps(EXAMPLES).replace("</", "<\\/")  # safe inside a <script> element
    html = (STATIC / "graphiql.html").read_text(encoding="utf-8")
    return html.replace("__C360_TABS__", tabs, 1)
