"""The requests of bench/api_load.py: the person-360 query of bench/api.py and an
``ingestRecord``, shared by the benchmark and its locust users."""

from __future__ import annotations

QUERY = """query($id: String!) { person(id: $id) {
  personId givenName familyName email phone birthDate city postcode
  sourceRecords(first: 10) { totalCount edges { node { recordKey sourceId email phone
    identifiers { type value } whyLinked { rule score } } } }
  orders(first: 10) { totalCount edges { node { orderId placedAt status total currency
    lines { sku name quantity unitPrice } } } }
  consents { channel purpose status at }
  timeline(first: 10) { totalCount edges { node { at type summary } } } } }"""

INGEST = """mutation($source: String!, $record: JSON!) {
  ingestRecord(input: {source: $source, record: $record}) { personId decision } }"""
