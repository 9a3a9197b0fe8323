"""Ingestion: source files and single records into the graph, with provenance.

``ingest_file`` streams a CSV or JSON Lines file of one type (records, products, orders,
order_lines, carts, cases, engagement, consents); ``ingest_record`` writes one row;
``ingest_and_resolve`` writes and resolves one record in one transaction (the API's path).
All upsert by (source, id), so repeating an ingest changes nothing.
"""

from __future__ import annotations

from graph.ingest.pipeline import (
    IngestInterrupted,
    IngestSummary,
    RecordOutcome,
    guess_file_type,
    ingest_and_resolve,
    ingest_file,
    ingest_record,
    ingest_rows,
    parse_row,
)

__all__ = [
    "IngestInterrupted",
    "IngestSummary",
    "RecordOutcome",
    "guess_file_type",
    "ingest_and_resolve",
    "ingest_file",
    "ingest_record",
    "ingest_rows",
    "parse_row",
]
