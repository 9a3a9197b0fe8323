"""The 360 page for service agents (``/console``): find a caller, see everyone and everything
the graph knows of them, and (admins) merge or split.

A page and a small script, no build step: it calls the GraphQL API with the caller's own key
(the roles of :mod:`api.auth` apply: an agent reads, an admin also merges and splits) and
follows ``identityEvents`` over graphql-transport-ws (npm ``graphql-ws``, vendored with its
licence), reloading the person shown when an event concerns them. :data:`DOCUMENTS` are its
GraphQL operations (a unit test validates them against the schema).
"""

from __future__ import annotations

import json
from pathlib import Path

__all__ = ["CONSOLE_ASSETS", "DOCUMENTS", "console_page"]

_STATIC = Path(__file__).resolve().parent / "static"
#: Served at ``/console/static/``.
CONSOLE_ASSETS = _STATIC / "console"

_PERSON_FIELDS = """
fragment Person360 on Person {
  personId givenName familyName birthDate email phone addressLine1 city postcode country
  aliases sources
  sourceRecords(first: 50) { totalCount edges { node {
    recordKey sourceId recordId givenName familyName email phone updatedAt
    whyLinked { rule score matchedRecord linkedAt actor }
  } } }
  orders(first: 20) { totalCount edges { node {
    orderId placedAt status total currency sourceRecord
    lines { sku name quantity unitPrice }
  } } }
  carts(first: 20) { edges { node {
    cartId status updatedAt total currency lines { name quantity }
  } } }
  cases(first: 20) { edges { node { caseId subject status channel openedAt closedAt } } }
  consents { channel purpose status at sourceRecord }
  timeline(first: 30) { totalCount edges { node { at type summary sourceRecord } } }
}"""

DOCUMENTS: dict[str, str] = {
    "search": """query Search($name: String, $email: String, $phone: String) {
  searchPeople(name: $name, email: $email, phone: $phone, first: 20) {
    totalCount edges { node { personId givenName familyName email phone city sources } }
  }
}""",
    "person": "query Person($id: String!) { person(id: $id) { ...Person360 } }" + _PERSON_FIELDS,
    "merge": """mutation Merge($a: String!, $b: String!, $reason: String!) {
  mergePeople(input: {personA: $a, personB: $b, reason: $reason}) {
    __typename
    ... on PersonMergeSuccess { person { personId } absorbedIds }
    ... on MergeConflict { message }
  }
}""",
    "split": """mutation Split($key: String!, $reason: String!) {
  splitRecord(input: {recordKey: $key, reason: $reason}) {
    __typename
    ... on RecordSplitSuccess { person { personId } people { personId } }
    ... on SplitConflict { message }
  }
}""",
    "events": """subscription Events {
  identityEvents { kind at personId absorbedIds splitFrom recordKeys }
}""",
}


def console_page() -> str:
    """The console page with :data:`DOCUMENTS` embedded."""
    documents = json.dumps(DOCUMENTS).replace("</", "<\\/")
    html = (CONSOLE_ASSETS / "index.html").read_text(encoding="utf-8")
    return html.replace("__C360_DOCUMENTS__", documents, 1)
