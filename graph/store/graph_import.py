"""The whole graph of a bulk first load as the importer's CSV files (graph.import_csv).

Writes what ingest and resolution would have written (graph.store.records,
graph.store.components), node for node and property for property: the nodes kept from
before the load, source records with their sources, identifiers and blocking keys, people
with their golden attributes and ``HAS_RECORD`` links, resolution events and possible
matches. Identifiers held by more than the evidence limit are marked generic, as real-time
resolution marks them.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from graph.import_csv import ImportFiles
from graph.normalize.masking import masked_identifier

__all__ = ["write_import_files"]


def _ident_id(type_: str, value: str) -> str:
    return f"{type_}:{value}"


def write_import_files(
    out: ImportFiles,
    kept: list[dict[str, Any]],
    parsed: Mapping[str, tuple[str, dict[str, Any]]],
    created: Mapping[str, datetime],
    holders: Counter[tuple[str, str]],
    max_identifier: int,
    steps: Mapping[str, tuple[list[Any], dict[str, Any]]],
    now: datetime,
    *,
    processes: int = 1,
) -> None:
    """Write every file of the load into ``out``. ``kept``: ``{id, labels, props}`` of
    the nodes kept (sources among them); ``parsed``: key -> (source id, parsed row as
    graph.ingest.parse_record gives it); ``created``: each record's createdAt;
    ``holders``: how many records hold each identifier; ``steps``: the plan's write rows by
    step name (graph.store.components.plan_steps) with their parameters; ``processes``:
    how many processes write the files (see :meth:`ImportFiles.write_parallel`)."""
    source_ids = {}
    for node in kept:
        if "Source" in node["labels"]:
            source_ids[node["props"]["id"]] = node["id"]

    def kept_nodes(out: ImportFiles) -> None:
        rows = [(n["id"], n["props"], ";".join(n["labels"])) for n in kept]
        out.node_file("kept", None, "K", rows)

    def record_nodes(out: ImportFiles) -> None:
        out.node_file(
            "records",
            "SourceRecord",
            "R",
            [
                (
                    key,
                    {
                        **row["props"],
                        "key": key,
                        "source": source,
                        "sourceId": row["sourceId"],
                        "createdAt": created[key],
                        "updatedAt": row.get("updatedAt"),
                        "ingestedAt": now,
                    },
                )
                for key, (source, row) in parsed.items()
            ],
        )

    def identifier_nodes(out: ImportFiles) -> None:
        out.node_file(
            "identifiers",
            "Identifier",
            "I",
            [
                (
                    _ident_id(t, v),
                    {
                        "type": t,
                        "value": v,
                        "masked": masked_identifier(t, v),
                        "genericSince": now if n > max_identifier else None,
                    },
                )
                for (t, v), n in holders.items()
            ],
        )

    def block_nodes(out: ImportFiles) -> None:
        blocks = sorted({b for source, row in parsed.values() for b in row["blocks"]})
        out.node_file("blocks", "BlockingKey", "B", [(b, {"key": b}) for b in blocks])

    def from_rels(out: ImportFiles) -> None:
        rows = ((k, source_ids[source]) for k, (source, row) in parsed.items())
        out.relationship_file("from", "FROM", "R", "K", rows)

    def identifier_rels(out: ImportFiles) -> None:
        out.relationship_file(
            "has_identifier",
            "HAS_IDENTIFIER",
            "R",
            "I",
            (
                (k, _ident_id(i["type"], i["value"]))
                for k, (source, row) in parsed.items()
                for i in row["identifiers"]
            ),
        )

    def block_rels(out: ImportFiles) -> None:
        out.relationship_file(
            "in_block",
            "IN_BLOCK",
            "R",
            "B",
            ((k, b) for k, (source, row) in parsed.items() for b in row["blocks"]),
        )

    # the plan: people and their links, audit events, possible matches
    links, link_audit = steps.get("links", ([], {}))

    def people_nodes(out: ImportFiles) -> None:
        first: dict[str, datetime] = {}
        for link in links:
            at = created[link["key"]]
            if link["personId"] not in first or at < first[link["personId"]]:
                first[link["personId"]] = at
        golden = {row["id"]: row["props"] for row in steps.get("golden", ([], {}))[0]}
        out.node_file(
            "people",
            "Person",
            "P",
            [
                (
                    pid,
                    {
                        **golden.get(pid, {}),
                        "id": pid,
                        "createdAt": first.get(pid, now),
                        "updatedAt": now,
                    },
                )
                for pid in steps.get("created", ([], {}))[0]
            ],
        )

    def record_rels(out: ImportFiles) -> None:
        out.relationship_file(
            "has_record",
            "HAS_RECORD",
            "P",
            "R",
            (
                (
                    link["personId"],
                    link["key"],
                    {
                        **link,
                        "linkedAt": now,
                        "explainedAt": now,
                        "actor": link_audit.get("actor"),
                        "rulesVersion": link_audit.get("rulesVersion"),
                        "modelVersion": link_audit.get("modelVersion"),
                    },
                )
                for link in links
            ),
            [
                ("rule", "string"),
                ("score", "double"),
                ("scores", "string"),
                ("matched", "string"),
                ("linkedAt", "datetime"),
                ("explainedAt", "datetime"),
                ("actor", "string"),
                ("rulesVersion", "string"),
                ("modelVersion", "string"),
            ],
        )

    events, audit = steps.get("events", ([], {}))

    def event_nodes(out: ImportFiles) -> None:
        out.node_file(
            "events",
            "ResolutionEvent",
            "E",
            [
                (
                    e["id"],
                    {
                        "id": e["id"],
                        "kind": e["kind"],
                        "rule": e["rule"],
                        "score": None if e["score"] is None else float(e["score"]),
                        "explanation": e["explanation"],
                        "at": now,
                        "actor": audit.get("actor"),
                        "personId": e["personId"],
                        "absorbedIds": e["absorbed"],
                        "splitFrom": e["splitFrom"],
                        "recordKeys": e["recordKeys"],
                        "rulesVersion": audit.get("rulesVersion"),
                        "modelVersion": audit.get("modelVersion"),
                    },
                )
                for e in events
            ],
        )

    def event_rels(out: ImportFiles) -> None:
        out.relationship_file(
            "concerns", "CONCERNS", "E", "P", ((e["id"], e["personId"]) for e in events)
        )
        out.relationship_file(
            "about", "ABOUT", "E", "R", ((e["id"], k) for e in events for k in e["recordKeys"])
        )

    possible, possible_audit = steps.get("possible", ([], {}))

    def possible_matches(out: ImportFiles) -> None:
        out.node_file(
            "possible",
            "PossibleMatch",
            "M",
            [
                (
                    pm["key"],
                    {
                        **pm,
                        "weight": float(pm["weight"]),
                        "modelVersion": possible_audit.get("modelVersion"),
                        "createdAt": now,
                        "updatedAt": now,
                    },
                )
                for pm in possible
            ],
        )
        out.relationship_file(
            "between",
            "BETWEEN",
            "M",
            "R",
            ((pm["key"], k) for pm in possible for k in (pm["a"], pm["b"])),
        )

    records, people = len(parsed), len(steps.get("created", ([], {}))[0])
    # weights: the seconds each file took per record or person (measured at 100k records)
    out.write_parallel(
        [
            (0, kept_nodes),
            (30 * records, record_nodes),
            (4 * len(holders), identifier_nodes),
            (8 * records, block_nodes),
            (2 * records, from_rels),
            (5 * records, identifier_rels),
            (7 * records, block_rels),
            (19 * people, people_nodes),
            (9 * len(links), record_rels),
            (9 * len(events), event_nodes),
            (4 * len(events), event_rels),
            (20 * len(possible), possible_matches),
        ],
        processes,
    )
