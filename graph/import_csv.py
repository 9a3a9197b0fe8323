"""The CSV files ``neo4j-admin database import full`` reads: typed headers from the values.

One file per node label or relationship type (see Neo4j's "Import" manual, CSV header
format): ``:ID(space)``, ``name:type`` columns and ``:LABEL`` for nodes, ``:START_ID``,
``:END_ID`` and ``:TYPE`` for relationships. A column's type is that of its first non-null
value (a double wins over a long); lists are arrays joined by :data:`ARRAY_DELIMITER`, null
is an empty field (no property). :class:`ImportFiles` notes whether any value holds a line
break (the importer must then be told ``--multiline-fields``).
"""

from __future__ import annotations

import csv
import multiprocessing
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import date, datetime
from pathlib import Path
from typing import Any

import neo4j

__all__ = ["ARRAY_DELIMITER", "ImportFiles"]

#: The importer's array delimiter: a character no text value holds.
ARRAY_DELIMITER = "\x1f"


def _type_of(value: Any) -> str | None:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "long"
    if isinstance(value, float):
        return "double"
    if isinstance(value, datetime | neo4j.time.DateTime):
        return "datetime"
    if isinstance(value, date | neo4j.time.Date):
        return "date"
    if isinstance(value, list | tuple):
        inner = next((_type_of(v) for v in value if v is not None), None)
        return f"{inner or 'string'}[]"
    return "string"


def _text(value: Any) -> str:
    kind = type(value)
    if kind is str:
        return value  # most values: no other test
    if value is None:
        return ""
    if kind is int or kind is float:
        return str(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, neo4j.time.DateTime | neo4j.time.Date):
        return value.iso_format()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, list | tuple):
        return ARRAY_DELIMITER.join(_text(v) for v in value)
    return str(value)


class ImportFiles:
    """Writes the importer's CSV files: one per node label or relationship type, with a typed
    header worked out from the values (a column's type is that of its first non-null value;
    a double wins over a long)."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.nodes: list[Path] = []
        self.relationships: list[Path] = []
        self.multiline = False
        self.rows = 0

    def write_parallel(
        self, jobs: Sequence[tuple[float, Callable[[ImportFiles], None]]], processes: int = 1
    ) -> None:
        """Run ``jobs`` (``(weight, write)``: ``write(files)`` writes some files with
        :meth:`node_file` and :meth:`relationship_file`), spread over ``processes`` by
        weight: this process runs one share, forked children the others (they read the
        caller's data as it was at the fork, without copying it). The files, row count and
        multiline flag come out as if this process had run every job. Without ``fork``, or
        with one process, every job runs here. Raises :class:`RuntimeError` when a child
        fails."""
        if processes < 2 or "fork" not in multiprocessing.get_all_start_methods():
            for _, job in jobs:
                job(self)
            return
        shares: list[list[Callable[[ImportFiles], None]]] = [[] for _ in range(processes)]
        loads = [0.0] * processes
        for weight, job in sorted(jobs, key=lambda j: -j[0]):  # heaviest first, to the lightest
            lightest = loads.index(min(loads))
            shares[lightest].append(job)
            loads[lightest] += weight
        context = multiprocessing.get_context("fork")
        children = []
        for share in shares[1:]:
            receive, send = context.Pipe(duplex=False)
            child = context.Process(target=_write_share, args=(self.directory, share, send))
            child.start()
            send.close()
            children.append((child, receive))
        for job in shares[0]:
            job(self)
        for child, receive in children:
            try:
                outcome = receive.recv()
            except EOFError:
                outcome = f"exited with code {child.exitcode}"
            child.join()
            if isinstance(outcome, str):
                raise RuntimeError(f"writing the import files failed in a child process: {outcome}")
            nodes, relationships, multiline, rows = outcome
            self.nodes += nodes
            self.relationships += relationships
            self.multiline = self.multiline or multiline
            self.rows += rows

    def _write(self, name: str, header: list[str], rows: Iterable[list[Any]]) -> Path:
        path = self.directory / f"{name}.csv"
        with path.open("w", newline="", encoding="utf-8") as fh:
            out = csv.writer(fh)
            out.writerow(header)
            text = _text
            for row in rows:
                values = [text(v) for v in row]
                if not self.multiline:
                    joined = "".join(values)
                    self.multiline = "\n" in joined or "\r" in joined
                out.writerow(values)
                self.rows += 1
        return path

    def node_file(
        self,
        name: str,
        label: str | None,
        id_space: str,
        rows: Sequence[tuple[str, Mapping[str, Any]]]
        | Sequence[tuple[str, Mapping[str, Any], str]],
    ) -> None:
        """``rows``: ``(id, properties)``, or ``(id, properties, labels)`` when ``label`` is
        None (``;``-separated labels)."""
        types: dict[str, str] = {}
        for row in rows:
            for k, v in row[1].items():
                if v is None or (k in types and types[k] != "long"):
                    continue  # typed already (only a long may still become a double)
                if isinstance(v, list | tuple) and not v:
                    continue
                t = _type_of(v)
                if t is not None and (k not in types or t == "double"):
                    types[k] = t
        columns = sorted(types)
        header = [f":ID({id_space})", *(f"{c}:{types[c]}" for c in columns), ":LABEL"]
        self.nodes.append(
            self._write(
                name,
                header,
                (
                    [
                        row[0],
                        *(row[1].get(c) for c in columns),
                        label if label is not None else row[2],  # type: ignore[misc]
                    ]
                    for row in rows
                ),
            )
        )

    def relationship_file(
        self,
        name: str,
        rel_type: str,
        start: str,
        end: str,
        rows: Iterable[tuple[Any, ...]],
        properties: Sequence[tuple[str, str]] = (),
    ) -> None:
        """``rows``: ``(start id, end id)`` or ``(start id, end id, properties)`` with the
        ``properties`` columns ``(name, type)``."""
        header = [
            f":START_ID({start})",
            f":END_ID({end})",
            *(f"{n}:{t}" for n, t in properties),
            ":TYPE",
        ]
        names = [n for n, _ in properties]
        self.relationships.append(
            self._write(
                name,
                header,
                (
                    [row[0], row[1], *(row[2].get(n) for n in names), rel_type]
                    if names
                    else [row[0], row[1], rel_type]
                    for row in rows
                ),
            )
        )


def _write_share(directory: Path, jobs: list[Callable[[ImportFiles], None]], send: Any) -> None:
    """A forked child's share of :meth:`ImportFiles.write_parallel`: what it wrote, or why
    it failed, goes back through ``send``."""
    try:
        files = ImportFiles(directory)
        for job in jobs:
            job(files)
        send.send((files.nodes, files.relationships, files.multiline, files.rows))
    except BaseException as exc:  # the parent raises it
        send.send(f"{type(exc).__name__}: {exc}")
    finally:
        send.close()
